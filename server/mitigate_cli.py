"""`perfpilot regress --mitigate`: prepare a fix for the top regression on a new local branch."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from perfpilot.server.defense_cli import DefenseUsageError
from perfpilot.server.render import display_path
from perfpilot.tools.defense.regress import RegressReport
from perfpilot.tools.defense.solver import prepare_mitigation, write_description


def mitigate_top(report: RegressReport, root: Path, args: argparse.Namespace) -> None:
    """Build, check and commit the best candidate; print where it is and the description."""
    if report.comparison is None:
        raise DefenseUsageError("--mitigate needs --base REF (a comparison of two commits)")
    command = args.run or _recorded_command(report)
    if not command:
        raise DefenseUsageError("--mitigate needs the workload: pass --run CMD")
    tests = shlex.split(args.test_cmd) if args.test_cmd else None
    # Seams: `verify` (the verification stage) and `extra` (the efficiency agent, when the
    # LLM is enabled) plug in here; without them the candidates are validated, tested, timed.
    try:
        mitigation = prepare_mitigation(
            root,
            report,
            workload=shlex.split(command),
            tests=tests,
            repeat=max(3, args.repeat // 2),
        )
    except ValueError as exc:
        raise DefenseUsageError(str(exc)) from None
    path = write_description(root, mitigation)
    if mitigation.branch:
        print(
            f"perfpilot: mitigation committed on local branch {mitigation.branch}"
            f" ({(mitigation.commit or '')[:10]}); nothing pushed; description in"
            f" {display_path(str(path), root)}",
            file=sys.stderr,
        )
    else:
        print(
            f"perfpilot: no candidate restored the time of {mitigation.function}; see"
            f" {display_path(str(path), root)}",
            file=sys.stderr,
        )


def _recorded_command(report: RegressReport) -> str | None:
    commands = {run.command for run in report.head_runs if not run.command.startswith("import ")}
    return commands.pop() if len(commands) == 1 else None
