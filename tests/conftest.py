"""Shared fixtures: real programs, really profiled."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _opted_in_home(home: Path) -> Path:
    """Write the opted-in user config into `home` (an XDG config folder); return its file."""
    (home / "perfpilot").mkdir(exist_ok=True)
    config = home / "perfpilot" / "config.toml"
    config.write_text("[skills]\ninclude_unproven = true\n")
    return config


@pytest.fixture(scope="session", autouse=True)
def session_user_config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The same opted-in user for session-scoped fixtures (they are set up before any
    function-scoped one, so without this they would run with the developer's own config)."""
    home = tmp_path_factory.mktemp("xdg-config-session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(home))
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache-session")))
        patch.setenv("PERFPILOT_CONFIG", str(_opted_in_home(home)))
        yield home


@pytest.fixture(autouse=True)
def user_config_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A private, empty user configuration folder for each test (and the servers it starts),
    so the developer's own ~/.config/perfpilot/config.toml never changes a result."""
    home = tmp_path_factory.mktemp("xdg-config")
    # The suite runs as a user who opted in to every skill ([skills] include_unproven): the
    # skills' own tests exercise fixes that the corpus figures hold back by default. Which
    # skills are offered by default is tested where the default is the point (test_unproven,
    # test_measured: their own config folders, without the opt-in).
    # PERFPILOT_CONFIG names the file, so the servers and editors a test starts with a home of
    # their own (XDG_CONFIG_HOME) run as that user too.
    config = _opted_in_home(home)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    # Captures and saved verdicts (user cache) are this test's own too.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.setenv("PERFPILOT_CONFIG", str(config))
    return home


@pytest.fixture
def user_config(user_config_home: Path) -> Path:
    """The user-level perfpilot config file of this test (not created)."""
    folder = user_config_home / "perfpilot"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").unlink(missing_ok=True)  # the test writes its own
    return folder / "config.toml"


def run_python(
    args: list[str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the test interpreter with `args` in `cwd`, failing loudly on error."""
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done


def py_spy_record(command: list[str], output: Path, cwd: Path, fmt: str = "speedscope") -> None:
    """Record `command` with py-spy, or skip the test where py-spy cannot trace."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    done = subprocess.run(
        [
            py_spy,
            "record",
            "--rate",
            "400",
            "--format",
            fmt,
            "--output",
            str(output),
            "--",
            *command,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0 or not output.exists():
        if "Permission" in done.stderr or "ptrace" in done.stderr.lower():
            pytest.skip(f"py-spy cannot trace here: {done.stderr.strip()[:200]}")
        raise AssertionError(f"py-spy failed: {done.stderr}")
