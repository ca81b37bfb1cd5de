"""`perfpilot capture` (record real calls) and `perfpilot verify` (judge fixes on them)."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from perfpilot.server.render import display_path
from perfpilot.tools.config import Settings, find_workspace_root, load_settings
from perfpilot.tools.verify import store

if TYPE_CHECKING:  # the heavy modules load only when a command runs
    from perfpilot.skills.fixing import Evidence
    from perfpilot.skills.verifying import VerifiedOpportunity
    from perfpilot.tools.verify.capture import CaptureTarget
    from perfpilot.tools.verify.verify_fix import VerifySettings

EXIT_OK, EXIT_DIFFERS, EXIT_ERROR = 0, 1, 2
DEFAULT_CALLS = 256  # the same default as perfpilot.tools.verify.capture


class VerifyUsageError(Exception):
    """A problem with what was asked; one line, exit status 2."""


def register_verify(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `capture` and `verify` subcommands."""
    capture = commands.add_parser(
        "capture", help="run a command and record calls of hot functions (for verify)"
    )
    capture.add_argument(
        "--functions",
        metavar="QUALNAMES",
        help="comma-separated PATH::FUNCTION or FUNCTION names (default: the hottest ones)",
    )
    capture.add_argument(
        "--top", type=int, default=10, metavar="N", help="the N hottest functions (default 10)"
    )
    capture.add_argument(
        "--calls", type=int, default=DEFAULT_CALLS, metavar="N", help="calls kept per function"
    )
    capture.add_argument("--clear", action="store_true", help="delete this workspace's captures")
    capture.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")

    verify = commands.add_parser(
        "verify", help="replay recorded calls against each fix: behaviour and speed"
    )
    verify.add_argument("target", nargs="?", metavar="PATH::FUNCTION", help="only this function")
    verify.add_argument(
        "--budget", type=float, default=None, metavar="SECONDS", help="time per fix (default 10)"
    )
    verify.add_argument(
        "--tests",
        action="store_true",
        help="also run the project's tests that call each function, against the fix",
    )
    verify.add_argument(
        "--run",
        metavar="CMD",
        help="the program to run when calls cannot be pickled: the fix is then verified"
        " in-process on its live calls (runs your code)",
    )
    verify.add_argument("--output-format", choices=("text", "json"), default="text")


def verify_settings(args: argparse.Namespace, settings: Settings) -> VerifySettings:
    """The verification budget (--budget, else the default) and whether tests run (--tests)."""
    from perfpilot.tools.verify.live import LiveRun
    from perfpilot.tools.verify.verify_fix import DEFAULT_BUDGET, VerifySettings

    budget = args.budget if args.budget is not None else DEFAULT_BUDGET
    if budget <= 0:
        raise VerifyUsageError("--budget must be a positive number of seconds")
    live = None
    if getattr(args, "run", None):
        try:
            command = tuple(shlex.split(args.run))
        except ValueError as exc:
            raise VerifyUsageError(f"--run: {exc}") from None
        if not command:
            raise VerifyUsageError("--run needs a command, e.g. --run 'python workload.py'")
        live = LiveRun(command, str(Path.cwd()))
    return VerifySettings(budget=budget, tests=bool(getattr(args, "tests", False)), live=live)


def run_capture_command(args: argparse.Namespace) -> int:
    """`perfpilot capture`: run the command once, recording calls; exit with its status."""
    cwd = Path.cwd()
    root = find_workspace_root(cwd)
    if args.clear:
        removed = store.clear(root)
        print(
            f"perfpilot: removed {removed} capture{'s' if removed != 1 else ''} of {root}",
            file=sys.stderr,
        )
        return EXIT_OK
    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise VerifyUsageError("nothing to run: perfpilot capture [--functions F,...] -- CMD...")
    if args.functions:
        targets = _named_targets(root, cwd, args.functions)
        return _capture(root, cwd, command, targets, args.calls)
    return capture_hot(root, cwd, command, None, args.top, args.calls)


def capture_hot(
    root: Path,
    cwd: Path,
    command: list[str],
    profiles: list[str] | None,
    top: int,
    calls: int = DEFAULT_CALLS,
) -> int:
    """Capture the `top` hottest functions of the given (or latest) profiles."""
    from perfpilot.tools.profile_session import ProfileSession
    from perfpilot.tools.verify.capture import CaptureTarget

    session = ProfileSession(str(root), load_settings(root))
    loaded = session.load_explicit(profiles) if profiles else session.reload()
    if loaded is None or not loaded.hot:
        raise VerifyUsageError(
            "no hot function to capture: run `perfpilot profile -- CMD` first, or name"
            " the functions with --functions"
        )
    targets = [
        CaptureTarget(hot.mapped.function.path, hot.mapped.function.qualname)
        for hot in loaded.hot[: max(1, top)]
    ]
    return _capture(root, cwd, command, targets, calls)


def _capture(
    root: Path, cwd: Path, command: list[str], targets: list[CaptureTarget], calls: int
) -> int:
    from perfpilot.tools.verify import store
    from perfpilot.tools.verify.capture import run_capture

    run = run_capture(root, command, targets, cwd, calls=calls)
    for capture in run.captures:
        skipped = capture.skipped_unpicklable + capture.skipped_too_large
        print(
            f"perfpilot: captured {capture.recorded} of {capture.calls_seen}"
            f" call{'s' if capture.calls_seen != 1 else ''} of"
            f" {display_path(capture.path, root)}::{capture.qualname}"
            + (
                f" ({capture.skipped_unpicklable} unpicklable, {capture.skipped_too_large} too"
                " large, skipped)"
                if skipped
                else ""
            ),
            file=sys.stderr,
        )
    for missing in run.not_found:
        print(f"perfpilot: not captured: {missing}", file=sys.stderr)
    where = store.captures_dir(root)
    print(
        f"perfpilot: captures in {where} (they may hold your program's data; never uploaded;"
        " `perfpilot capture --clear` deletes them); program exit status"
        f" {run.returncode}",
        file=sys.stderr,
    )
    return run.returncode


def _named_targets(root: Path, cwd: Path, names: str) -> list[CaptureTarget]:
    from perfpilot.tools.source_index import WorkspaceIndex
    from perfpilot.tools.verify.capture import CaptureTarget

    index = WorkspaceIndex(str(root))
    targets = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        path_text, sep, qualname = name.rpartition("::")
        if sep:
            path = (cwd / path_text).resolve()
            if not path.is_file():
                raise VerifyUsageError(f"{path_text}: no such file")
            targets.append(CaptureTarget(str(path), qualname))
            continue
        found = []
        for relative in index.python_files():
            module = index.module(os.path.join(index.root, relative))
            if module is not None and module.by_qualname(name):
                found.append(os.path.join(index.root, relative))
        if not found:
            raise VerifyUsageError(f"no function `{name}` in the workspace (use PATH::FUNCTION)")
        targets += [CaptureTarget(path, name) for path in found]
    return targets


def run_verify(args: argparse.Namespace) -> int:
    """`perfpilot verify [PATH::FUNCTION]`: a verdict for every fix opportunity."""
    from perfpilot.skills.registry import discover
    from perfpilot.skills.verifying import verified_opportunities, verifier
    from perfpilot.tools.registry import to_data
    from perfpilot.tools.validate.syntax import project_python

    cwd = Path.cwd()
    root = find_workspace_root(cwd)
    settings = load_settings(root)
    verify = verifier(str(root), verify_settings(args, settings))
    skills = discover(root).with_transforms()
    python = project_python(str(root))
    results: list[VerifiedOpportunity] = []
    for path, hot in _files(root, cwd, args.target, settings).items():
        text = Path(path).read_text(encoding="utf-8")
        results += verified_opportunities(
            text, path, hot, skills, verify, root=str(root), python=python
        )
    if args.output_format == "json":
        records = [
            {
                "path": display_path(r.found.function.path, root),
                "line": r.finding.line,
                "code": r.finding.code,
                "qualname": r.found.function.qualname,
                "title": r.fix.title,
                "applicability": r.fix.applicability.name.lower().replace("_", "-"),
                "refusal": r.fix.refusal,
                "verdict": to_data(r.fix.verdict) if r.fix.verdict else None,
            }
            for r in results
        ]
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    else:
        for r in results:
            outcome = r.fix.verdict.summary if r.fix.verdict else f"not verified: {r.fix.refusal}"
            print(
                f"{display_path(r.found.function.path, root)}:{r.finding.line}:"
                f"{r.finding.column}: {r.finding.code} {r.fix.title}: {outcome}"
            )
            for note in r.fix.verdict.notes if r.fix.verdict else ():
                print(f"  note: {note}")
        if not results and args.target:
            print(
                f"perfpilot: no fix opportunity in `{args.target}`: nothing to verify",
                file=sys.stderr,
            )
        kinds = [r.fix.verdict.label if r.fix.verdict else "refused" for r in results]
        tally = ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds)))
        print(
            f"Verified {len(results)} fix{'es' if len(results) != 1 else ''}"
            + (f": {tally}." if results else ".")
        )
    differs = any(r.fix.verdict and r.fix.verdict.label == "differs" for r in results)
    return EXIT_DIFFERS if differs else EXIT_OK


def _files(
    root: Path, cwd: Path, target: str | None, settings: Settings
) -> dict[str, dict[str, Evidence] | None]:
    """The files to look at, with the functions of each (None: every function)."""
    from perfpilot.skills.fixing import Evidence, hot_evidence
    from perfpilot.tools.profile_session import ProfileSession
    from perfpilot.tools.source_index import WorkspaceIndex

    if target:
        path_text, sep, qualname = target.rpartition("::")
        if not sep or not path_text or not qualname:
            raise VerifyUsageError(f"{target}: expected PATH::FUNCTION, e.g. pkg/mod.py::parse")
        path = (cwd / path_text).resolve()
        if not path.is_file():
            raise VerifyUsageError(f"{path_text}: no such file")
        module = WorkspaceIndex(str(root)).module(str(path))
        if module is None or not module.by_qualname(qualname):
            raise VerifyUsageError(f"{path_text}: no function `{qualname}`")
        return {str(path): {qualname: Evidence(0.0, None)}}
    session = ProfileSession(str(root), settings)
    loaded = session.reload()
    if loaded is None:
        raise VerifyUsageError(
            "no profile: run `perfpilot profile --capture -- CMD`, or name a function"
            " (perfpilot verify PATH::FUNCTION)"
        )
    return dict(hot_evidence(loaded.result, settings.threshold))
