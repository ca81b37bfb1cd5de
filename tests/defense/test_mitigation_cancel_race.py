"""A cancel that crosses a mitigation job which had already committed and answered.

On clean CI runs the editor's cancel sometimes arrived after the job had committed its branch
and written its answer, while the child was still exiting: the server reported "cancelled" and
the branch stayed. The job here is a stand-in with that timing (it commits a real branch,
answers like the real job, then lingers), so the race is hit every time; the server's real
`run_child` must leave nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from perfpilot.server.lsp.handlers.regressions_jobs import run_child
from perfpilot.tools.defense.solver import MITIGATIONS_DIR

ANSWERED_THEN_LINGERS = textwrap.dedent(
    """
    import json, pathlib, subprocess, sys, time
    request = json.loads(sys.stdin.read())
    root = pathlib.Path(request["root"])
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], check=True,
                              capture_output=True, text=True).stdout.strip()
    git("branch", "perfpilot/regression-parse", "HEAD")
    description = root / ".perfpilot" / "mitigations" / "perfpilot-regression-parse.md"
    description.parent.mkdir(parents=True, exist_ok=True)
    description.write_text("# PR")
    print(json.dumps({"ok": True, "branch": "perfpilot/regression-parse",
                      "commit": git("rev-parse", "HEAD"), "description": str(description)}),
          flush=True)
    (root / "answered").write_text("")
    time.sleep(60)  # still exiting when the cancel arrives
    """
)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def make_repo(root: Path) -> None:
    root.mkdir()
    git(root, "init", "-q", "-b", "feature")
    git(root, "config", "user.email", "ann@example.com")
    git(root, "config", "user.name", "Ann Author")
    (root / "app.py").write_text("def parse():\n    return 1\n")
    git(root, "add", "app.py")
    git(root, "commit", "-q", "-m", "app")


async def cancel_after_answer(root: Path, job: Path) -> dict[str, object]:
    stop = asyncio.Event()
    request = {"root": str(root)}
    running = asyncio.ensure_future(run_child(request, stop, (sys.executable, str(job))))
    for _ in range(600):
        if (root / "answered").exists():
            break
        await asyncio.sleep(0.05)
    stop.set()
    return await asyncio.wait_for(running, 30)


def test_a_cancel_after_the_job_answered_deletes_its_branch_and_description(
    tmp_path: Path,
) -> None:
    root = tmp_path / "proj"
    make_repo(root)
    job = tmp_path / "job.py"
    job.write_text(ANSWERED_THEN_LINGERS)
    answer = asyncio.run(cancel_after_answer(root, job))
    assert answer == {"ok": False, "cancelled": True}
    assert "perfpilot/" not in git(root, "branch", "--list")
    assert list((root / MITIGATIONS_DIR).iterdir()) == []
    assert git(root, "symbolic-ref", "--short", "HEAD").strip() == "feature"


def test_a_branch_that_moved_on_since_the_job_is_kept(tmp_path: Path) -> None:
    """Someone committed on the branch after the job: that work is never deleted."""
    root = tmp_path / "proj"
    make_repo(root)
    job = tmp_path / "job.py"
    job.write_text(
        ANSWERED_THEN_LINGERS.replace(
            '(root / "answered").write_text("")',
            'git("commit", "-q", "--allow-empty", "-m", "mine")\n'
            'git("branch", "-f", "perfpilot/regression-parse", "HEAD")\n'
            '(root / "answered").write_text("")',
        )
    )
    asyncio.run(cancel_after_answer(root, job))
    assert "perfpilot/regression-parse" in git(root, "branch", "--list")


def test_a_job_that_answered_without_cancel_keeps_its_branch(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    make_repo(root)
    job = tmp_path / "job.py"
    job.write_text(ANSWERED_THEN_LINGERS.replace("time.sleep(60)", "pass"))
    answer = asyncio.run(
        run_child({"root": str(root)}, asyncio.Event(), (sys.executable, str(job)))
    )
    assert answer["ok"] is True
    assert json.loads(json.dumps(answer))["branch"] == "perfpilot/regression-parse"
    assert "perfpilot/regression-parse" in git(root, "branch", "--list")
