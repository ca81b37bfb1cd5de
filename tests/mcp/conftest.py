"""`perfpilot mcp` driven by the official SDK's client, on a really profiled copy of the example."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.conftest import REPO

PERFPILOT = [sys.executable, "-m", "perfpilot.server"]
WORKLOAD = ["python3", "workload.py", "--lines", "4000"]


def perfpilot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the perfpilot CLI in `cwd`."""
    return subprocess.run(
        [*PERFPILOT, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )


def isolated_env(config_home: Path) -> dict[str, str]:
    """The environment with a private user-config folder (no real ~/.config/perfpilot)."""
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(config_home)
    env["PERFPILOT_CONFIG"] = str(config_home / "perfpilot" / "config.toml")
    return env


@pytest.fixture(scope="session")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding a copy of examples/, profiled once with cProfile."""
    root = tmp_path_factory.mktemp("mcp-example") / "ws"
    shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
    done = perfpilot("profile", "-o", "example.prof", "--", *WORKLOAD, cwd=root)
    assert done.returncode == 0, done.stderr
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "example"]):
        subprocess.run([*git, *command], cwd=root, check=True, capture_output=True)
    return root


@pytest.fixture
def example(example_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the profiled example for one test (tests may write to it)."""
    root = tmp_path / "ws"
    shutil.copytree(example_template, root, symlinks=True)
    return root


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    """An empty user-config folder (XDG_CONFIG_HOME) for the server under test."""
    home = tmp_path / "config-home"
    # The suite's opted-in user (tests/conftest.py); a test may write its own file here.
    (home / "perfpilot").mkdir(parents=True)
    (home / "perfpilot" / "config.toml").write_text("[skills]\ninclude_unproven = true\n")
    return home


@asynccontextmanager
async def stdio_client(root: Path, config_home: Path, *extra: str) -> AsyncIterator[Client]:
    """A connected SDK client of `perfpilot mcp` spawned on stdio in `root`."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "perfpilot.server", "mcp", *extra],
        cwd=str(root),
        env=isolated_env(config_home),
    )
    async with Client(params, read_timeout_seconds=300) as client:
        yield client


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` (but .git) with a hash of its content and its mtime."""
    state = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        data = path.read_bytes()
        state[str(path.relative_to(root))] = (
            f"{hashlib.sha256(data).hexdigest()}:{path.stat().st_mtime_ns}"
        )
    return state


def structured(result) -> object:  # noqa: ANN001 - CallToolResult
    """A tool result's data, after checking it succeeded and its text says the same."""
    assert not result.is_error, result.content[0].text
    data = result.structured_content
    text = json.loads(result.content[0].text)
    assert data == text or data == {"result": text}
    return data["result"] if set(data) == {"result"} else data


def error_text(result) -> str:  # noqa: ANN001 - CallToolResult
    """The message of a tool error (asserting it is one)."""
    assert result.is_error, result.structured_content
    return result.content[0].text
