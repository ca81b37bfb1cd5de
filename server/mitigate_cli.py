"""`perfpilot regress --mitigate`: prepare a fix for the top regression on a new local branch."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from perfpilot.server.defense_cli import DefenseUsageError
from perfpilot.server.render import display_path
from perfpilot.tools.config import ConfigError
from perfpilot.tools.defense.mitigate import Extra, Verify
from perfpilot.tools.defense.regress import RegressReport
from perfpilot.tools.defense.solver import prepare_mitigation, write_description
from perfpilot.tools.llm_config import llm_settings


def mitigate_top(report: RegressReport, root: Path, args: argparse.Namespace) -> None:
    """Build, check and commit the best candidate; print where it is and the description."""
    if report.comparison is None:
        raise DefenseUsageError("--mitigate needs --base REF (a comparison of two commits)")
    command = args.run or _recorded_command(report)
    if not command:
        raise DefenseUsageError("--mitigate needs the workload: pass --run CMD")
    tests = shlex.split(args.test_cmd) if args.test_cmd else None
    try:
        mitigation = prepare_mitigation(
            root,
            report,
            workload=shlex.split(command),
            tests=tests,
            verify=_verification(root, report, args),
            extra=_agent(root, report),
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


def _verification(root: Path, report: RegressReport, args: argparse.Namespace) -> Verify | None:
    """--verify: each candidate replayed on the function's recorded calls (runs user code)."""
    if not args.verify:
        return None
    from perfpilot.tools.defense.mitigate_verify import recorded_calls_check
    from perfpilot.tools.verify.verify_fix import DEFAULT_BUDGET, VerifySettings

    budget = args.budget if args.budget is not None else DEFAULT_BUDGET
    if budget <= 0:
        raise DefenseUsageError("--budget must be a positive number of seconds")
    return recorded_calls_check(root, report.head, VerifySettings(budget=budget))


def _agent(root: Path, report: RegressReport) -> Extra | None:
    """The efficiency agent as a candidate, when the user enabled the LLM (their config only)."""
    try:
        llm = llm_settings(root)
    except ConfigError as exc:
        print(f"perfpilot: warning: the agent is not asked: {exc}", file=sys.stderr)
        return None
    for warning in llm.warnings:
        print(f"perfpilot: warning: {warning}", file=sys.stderr)
    if not llm.enabled:
        return None
    from perfpilot.skills.regression_agent import agent_extra

    print(f"perfpilot: asking the efficiency agent ({llm.model}) for a candidate", file=sys.stderr)
    return agent_extra(root, report.head, llm, report=_note)


def _note(message: str) -> None:
    print(f"perfpilot: {message}", file=sys.stderr)


def _recorded_command(report: RegressReport) -> str | None:
    commands = {run.command for run in report.head_runs if not run.command.startswith("import ")}
    return commands.pop() if len(commands) == 1 else None
