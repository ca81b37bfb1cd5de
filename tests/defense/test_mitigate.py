"""`regress --mitigate`: the revert of the culprit's hunk, tested and timed, on a new branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.defense.repo import branch_exists, branch_worktree
from tests.defense.conftest import commit_all, git, perfpilot
from tests.defense.test_regress import SLOW_LINE, plant_slowdown

TESTS = """\
from app import parse


def test_parse():
    assert parse(10) == sum(i % 7 for i in range(10))
"""


def test_mitigation_branch_reverts_the_hunk_passes_tests_and_leaves_the_user_alone(
    repo: Path,
) -> None:
    (repo / "test_app.py").write_text(TESTS)
    commit_all(repo, "tests")
    culprit = plant_slowdown(repo)
    (repo / "scratch.txt").write_text("the user's uncommitted work\n")
    head = git(repo, "rev-parse", "HEAD").strip()
    done = perfpilot("regress", "--base", "HEAD~3", "--run", "python3 app.py", "--repeat", "6",
                     "--mitigate", "--test-cmd", "python3 -m pytest -q", cwd=repo)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "mitigation committed on local branch perfpilot/regression-parse" in done.stderr
    # The user's branch, HEAD, index and files are untouched; no worktree is left.
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert git(repo, "status", "--porcelain") == "?? scratch.txt\n"
    assert SLOW_LINE in (repo / "app.py").read_text()
    assert git(repo, "worktree", "list").count("\n") == 1
    # One commit on the new branch, on top of head, removing exactly the slow line.
    assert git(repo, "rev-list", "--count", f"{head}..perfpilot/regression-parse").strip() == "1"
    assert git(repo, "rev-parse", "perfpilot/regression-parse~1").strip() == head
    diff = git(repo, "diff", head, "perfpilot/regression-parse")
    changed = [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == ["-" + SLOW_LINE.rstrip("\n")]
    assert "perf: Revert the changes of" in git(
        repo, "log", "-1", "--format=%B", "perfpilot/regression-parse"
    )
    description = (repo / ".perfpilot/mitigations/perfpilot-regression-parse.md").read_text()
    assert culprit[:10] in description and "passed" in description
    assert "`python3 -m pytest -q` passed" in description
    assert "nothing was pushed" in description
    rows = [line for line in description.splitlines() if line.startswith("| own share")]
    base, head_share, mitigated = (float(c.strip().rstrip("%")) for c in rows[0].split("|")[2:5])
    assert mitigated < (base + head_share) / 2  # the time came back


def test_an_interrupted_branch_commit_leaves_no_branch_and_a_finished_one_stays(
    repo: Path,
) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    with pytest.raises(KeyboardInterrupt):  # a cancel from the editor reaches the job so
        with branch_worktree(repo, "perfpilot/regression-x", head) as tree:
            (tree / "new.txt").write_text("x")
            raise KeyboardInterrupt
    assert not branch_exists(repo, "perfpilot/regression-x")
    assert git(repo, "worktree", "list").count("\n") == 1
    with branch_worktree(repo, "perfpilot/regression-y", head):
        pass
    assert branch_exists(repo, "perfpilot/regression-y")
    # A branch that existed before is never deleted, even when the block fails.
    with pytest.raises(Exception):  # noqa: B017,PT011 - git refuses an existing branch name
        with branch_worktree(repo, "perfpilot/regression-y", head):
            pass
    assert branch_exists(repo, "perfpilot/regression-y")


def test_a_cancel_while_git_adds_the_worktree_leaves_none(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The editor's cancel lands while `git worktree add` runs (git lists the worktree before
    its checkout is done); the interrupt surfaces when git returns: nothing may stay."""
    from perfpilot.tools.defense import repo as repo_module

    real_git = repo_module.git

    def interrupted_add(root: Path, *args: str, **kwargs: object) -> str:
        out = real_git(root, *args, **kwargs)  # type: ignore[arg-type]
        if args[:2] == ("worktree", "add"):
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(repo_module, "git", interrupted_add)
    with pytest.raises(KeyboardInterrupt):
        with repo_module.temporary_worktree(repo, "HEAD"):
            pass
    assert git(repo, "worktree", "list").count("\n") == 1
