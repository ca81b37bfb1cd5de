"""Settings that came with a repository cannot make perfpilot read files outside it.

`[tool.perfpilot] profiles` globs and `.perfpilot/skills/` are the workspace's; what they name
must lie inside the workspace. A profile or skill from elsewhere on the machine would end up in
the findings and in what the LLM is sent; `/**` would walk the whole disk.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_python

PERFPILOT = [sys.executable, "-m", "perfpilot.server"]
APP = """\
def spin(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


print(spin(300_000))
"""
SKILL = """\
---
name: private-notes
description: Someone's private notes, which must not reach an LLM.
---
The secret of the day is canary-5e7.
"""


def perfpilot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PERFPILOT, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def split(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace, and a folder beside it holding a real profile of the workspace's code."""
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (workspace / "app.py").write_text(APP)
    run_python(["-m", "cProfile", "-o", str(outside / "run.prof"), "app.py"], cwd=workspace)
    return workspace, outside


@pytest.mark.parametrize("kind", ["absolute", "parent"])
def test_profile_globs_outside_the_workspace_are_ignored(
    split: tuple[Path, Path], kind: str
) -> None:
    workspace, outside = split
    pattern = str(outside / "*.prof") if kind == "absolute" else "../outside/*.prof"
    (workspace / "pyproject.toml").write_text(f"[tool.perfpilot]\nprofiles = ['{pattern}']\n")
    done = perfpilot("check", cwd=workspace)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"profiles: '{pattern}' ignored" in done.stderr
    assert "no profile" in done.stderr and "spin" not in done.stdout
    # The same profile, named by the user on the command line, is used.
    explicit = perfpilot("check", "--profile", str(outside / "run.prof"), cwd=workspace)
    assert explicit.returncode == 1 and "`spin`" in explicit.stdout, explicit.stderr


def test_a_workspace_skill_that_links_outside_is_skipped(tmp_path: Path) -> None:
    workspace, elsewhere = tmp_path / "ws", tmp_path / "home" / "notes" / "private-notes"
    elsewhere.mkdir(parents=True)
    (elsewhere / "SKILL.md").write_text(SKILL)
    skills = workspace / ".perfpilot" / "skills"
    (skills / "private-notes").mkdir(parents=True)
    (skills / "private-notes" / "SKILL.md").symlink_to(elsewhere / "SKILL.md")
    (skills / "linked-folder").symlink_to(elsewhere)  # a linked folder, too
    (workspace / "pyproject.toml").write_text("[project]\nname = 'ws'\n")
    listed = perfpilot("skills", cwd=workspace)
    assert listed.returncode == 0, listed.stderr
    assert "private-notes" not in listed.stdout
    assert "resolves outside the workspace" in listed.stderr
    shown = perfpilot("skills", "private-notes", cwd=workspace)
    assert shown.returncode == 2 and "canary-5e7" not in shown.stdout


def test_profile_does_not_follow_a_profiles_folder_that_links_outside(tmp_path: Path) -> None:
    workspace, elsewhere = tmp_path / "ws", tmp_path / "elsewhere"
    (workspace / ".perfpilot").mkdir(parents=True)
    elsewhere.mkdir()
    (workspace / ".perfpilot" / "profiles").symlink_to(elsewhere)  # committed by the repository
    (workspace / "app.py").write_text(APP)
    (workspace / "pyproject.toml").write_text("[project]\nname = 'ws'\n")
    done = perfpilot("profile", "--", sys.executable, "app.py", cwd=workspace)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "leads outside the workspace" in done.stderr and done.stderr.count("\n") == 1
    assert list(elsewhere.iterdir()) == []
    # Named by the user, a file anywhere is fine.
    chosen = perfpilot(
        "profile", "-o", str(elsewhere / "run.prof"), "--", sys.executable, "app.py", cwd=workspace
    )
    assert chosen.returncode == 0 and (elsewhere / "run.prof").is_file(), chosen.stderr


def test_fetch_does_not_follow_a_profiles_folder_that_links_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from perfpilot.server.cli import main
    from tests.cli.test_check_remote import _stored, pyro
    from tests.remote_fakes import FakeServer

    workspace, elsewhere = tmp_path / "ws", tmp_path / "elsewhere"
    (workspace / ".perfpilot").mkdir(parents=True)
    elsewhere.mkdir()
    (workspace / ".perfpilot" / "profiles").symlink_to(elsewhere)
    (workspace / "pyproject.toml").write_text("[project]\nname = 'ws'\n")
    monkeypatch.chdir(workspace)
    server = FakeServer("pyroscope", _stored()).start()
    try:
        assert main(["fetch", pyro(server)]) == 2
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert "leads outside the workspace" in err and err.count("\n") == 1
    assert list(elsewhere.iterdir()) == [] and server.requests == []


@pytest.mark.parametrize("how", ["stored", "glob"])
def test_check_does_not_read_a_profile_that_links_outside(tmp_path: Path, how: str) -> None:
    """A symlink the repository carries (`.perfpilot/profiles/x.prof`, or a file its
    `profiles` glob matches) pointing at another project's profile is not read."""
    workspace, elsewhere = tmp_path / "ws", tmp_path / "elsewhere"
    workspace.mkdir()
    elsewhere.mkdir()
    (workspace / "app.py").write_text(APP)
    (elsewhere / "app.py").write_text(APP)
    assert perfpilot("profile", "--", sys.executable, "app.py", cwd=elsewhere).returncode == 0
    (real,) = (elsewhere / ".perfpilot" / "profiles").iterdir()
    pyproject = "[project]\nname = 'ws'\n"
    if how == "stored":
        (workspace / ".perfpilot" / "profiles").mkdir(parents=True)
        link = workspace / ".perfpilot" / "profiles" / "run.prof"
    else:
        link = workspace / "perf" / "run.prof"
        link.parent.mkdir()
        pyproject += "[tool.perfpilot]\nprofiles = ['perf/*.prof']\n"
    (workspace / "pyproject.toml").write_text(pyproject)
    link.symlink_to(real)
    done = perfpilot("check", cwd=workspace)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{link} ignored: it resolves outside the workspace" in done.stderr
    assert "spin" not in done.stdout
    # Named by the user, the same file is read.
    chosen = perfpilot("check", "--profile", str(real), cwd=workspace)
    assert chosen.returncode in (0, 1) and "perfpilot: warning" not in chosen.stderr


def test_the_editor_does_not_read_a_stored_profile_that_links_outside(tmp_path: Path) -> None:
    from perfpilot.tools.config import Settings
    from perfpilot.tools.profile_session import ProfileSession

    workspace, elsewhere = tmp_path / "ws", tmp_path / "elsewhere"
    (workspace / ".perfpilot" / "profiles").mkdir(parents=True)
    elsewhere.mkdir()
    (elsewhere / "other.prof").write_bytes(b"not read")
    (workspace / ".perfpilot" / "profiles" / "run.prof").symlink_to(elsewhere / "other.prof")
    (workspace / ".perfpilot" / "profiles" / "old.prof").write_bytes(b"ours")
    session = ProfileSession(str(workspace), Settings())
    assert session.discover() == [str(workspace / ".perfpilot" / "profiles" / "old.prof")]
    assert session.outside == [str(workspace / ".perfpilot" / "profiles" / "run.prof")]
