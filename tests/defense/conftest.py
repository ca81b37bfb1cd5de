"""Fixtures for the defense tests: a real git repository with a real program, really profiled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PERFPILOT = [sys.executable, "-m", "perfpilot.server"]

APP = """\
def parse(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total


def render(n):
    out = []
    for i in range(n):
        out.append(str(i))
    return len(out)


def helper(n):
    return sum(range(n))


def main(rounds=12):
    for _ in range(rounds):
        parse(20000)
        render(20000)
        helper(20000)


if __name__ == "__main__":
    import sys

    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
"""


def perfpilot(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the perfpilot CLI in `cwd`."""
    return subprocess.run(
        [*PERFPILOT, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def git(root: Path, *args: str) -> str:
    """Run git in `root` and return its output, failing loudly."""
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def commit_all(root: Path, message: str) -> str:
    """Commit every change; return the new SHA."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding app.py, one commit."""
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ann@example.com")
    git(root, "config", "user.name", "Ann Author")
    (root / "app.py").write_text(APP)
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    commit_all(root, "initial")
    return root


@pytest.fixture(scope="session")
def real_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cProfile file of app.py (the program above, really run), in its own folder."""
    root = tmp_path_factory.mktemp("profiled")
    (root / "app.py").write_text(APP)
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", "app.prof", "app.py"], cwd=root, check=True
    )
    return root / "app.prof"
