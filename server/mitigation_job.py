"""A mitigation as a child process, for the editor: JSON request on stdin, JSON answer on stdout.

The language server runs `python -m perfpilot.server.mitigation_job` so that a cancel from
the progress UI can stop it (SIGINT: the temporary worktrees are removed on the way out)
without threads to interrupt. The comparison is rebuilt from the recorded runs of the two
commits the editor showed, so the job works on exactly what the user saw.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from perfpilot.tools.config import ConfigError
from perfpilot.tools.defense.detect import DetectOptions
from perfpilot.tools.defense.history import HISTORY_FILE, HistoryError, open_history
from perfpilot.tools.defense.mitigate_verify import recorded_calls_check
from perfpilot.tools.defense.regress import (
    RegressError,
    RegressReport,
    compare,
    runs_from_history,
    trace,
)
from perfpilot.tools.defense.repo import GitError, git
from perfpilot.tools.defense.solver import prepare_mitigation, write_description
from perfpilot.tools.llm_config import llm_settings
from perfpilot.tools.verify.verify_fix import VerifySettings


def run_job(request: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the comparison, prepare the mitigation of `function`, describe it."""
    root = Path(request["root"])
    report = RegressReport(request["workload"], request["base"], request["head"])
    with open_history(root / HISTORY_FILE, create=False) as history:
        report.base_runs, report.head_runs = runs_from_history(
            history, report.workload, request["base"], request["head"]
        )
    compare(report, DetectOptions())
    trace(report, root)
    tests = shlex.split(request["tests"]) if request.get("tests") else None
    verify = None
    if request.get("verify"):
        verify = recorded_calls_check(root, report.head, VerifySettings())
    extra = None
    if isinstance(request.get("llm"), dict):
        # The editor's user settings, as the server read them (never the workspace's).
        llm = llm_settings(root, {"llm": request["llm"]})
        if llm.enabled:
            from perfpilot.skills.regression_agent import agent_extra

            extra = agent_extra(root, report.head, llm)
    mitigation = prepare_mitigation(
        root, report, workload=shlex.split(request["command"]), tests=tests, verify=verify,
        extra=extra, repeat=int(request.get("repeat", 5)), function=request["function"],
    )  # fmt: skip
    path = write_description(root, mitigation)
    return {
        "ok": True,
        "function": mitigation.function,
        "branch": mitigation.branch,
        "commit": mitigation.commit,
        "description": str(path),
        "headShare": mitigation.head_share,
        "candidates": [
            {
                "origin": c.origin,
                "title": c.title,
                "usable": c.usable,
                "refusal": c.refusal,
                "tests": c.tests,
                "verified": c.verified,
                "share": c.share,
            }
            for c in mitigation.candidates
        ],
    }


def _mitigation_branches(root: Path) -> set[str]:
    """The local `perfpilot/regression-*` branches."""
    listed = git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/perfpilot/",
                 check=False)  # fmt: skip
    return {line.strip() for line in listed.splitlines() if line.strip()}


def main() -> int:
    """Read the request, answer one JSON line; failures are `{ok: false, reason}`."""
    try:
        request = json.loads(sys.stdin.read())
        root = Path(request["root"])
        before = _mitigation_branches(root)
    except (ValueError, KeyError, TypeError, GitError) as exc:
        print(json.dumps({"ok": False, "reason": f"bad mitigation request: {exc}"}))
        return 0
    try:
        try:
            answer = run_job(request)
        except (
            HistoryError, GitError, RegressError, ValueError, KeyError, OSError, ConfigError,
        ) as exc:  # fmt: skip
            _drop_new_branches(root, before)
            answer = {"ok": False, "reason": str(exc).splitlines()[0] if str(exc) else repr(exc)}
        print(json.dumps(answer), flush=True)
    except BaseException as exc:
        # A cancel (SIGINT) can land anywhere up to the answer being written, also after the
        # branch was committed: "cancel" means nothing is left behind. The same SIGINT can
        # kill a git child first, so the job may see a GitError rather than the interrupt.
        _drop_new_branches(root, before)
        if not isinstance(exc, KeyboardInterrupt):
            raise
        print(json.dumps({"ok": False, "cancelled": True}), flush=True)
        return 130
    return 0


def _drop_new_branches(root: Path, before: set[str]) -> None:
    """Delete the `perfpilot/` branches made since `before` was listed (this job's)."""
    for branch in _mitigation_branches(root) - before:
        git(root, "branch", "-D", branch, check=False)


if __name__ == "__main__":
    sys.exit(main())
