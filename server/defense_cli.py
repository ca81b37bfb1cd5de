"""`perfpilot record` and `perfpilot history`: the profile history on the command line."""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from perfpilot.tools.config import PathMapping, find_workspace_root, load_settings
from perfpilot.tools.defense.history import HISTORY_FILE, History, Run, open_history
from perfpilot.tools.defense.recording import import_profiles, profile_runs, store
from perfpilot.tools.profiling import SAMPLERS

SAMPLER_HELP = (
    "cprofile (default): every call, timed in CPU time, so waiting is not counted;"
    " py-spy: sampled, for workloads that wait on I/O or run native code"
)

DEFAULT_WORKLOAD = "default"


class DefenseUsageError(Exception):
    """A usage problem of a defense command (one line, exit status 2)."""


def register_history_commands(commands: argparse._SubParsersAction) -> None:
    """Add `record` and `history` to the CLI."""
    record = commands.add_parser(
        "record", help="profile a command (or import profiles) into history"
    )
    record.add_argument("--workload", default=DEFAULT_WORKLOAD, help="name of the workload")
    record.add_argument("--repeat", type=_positive, default=1, metavar="N", help="runs to record")
    record.add_argument("--sampler", choices=SAMPLERS, default="cprofile", help=SAMPLER_HELP)
    record.add_argument(
        "--profile", action="append", default=[], metavar="FILE", help="import this profile"
    )
    record.add_argument(
        "--from",
        dest="sources",
        action="append",
        default=[],
        metavar="SPEC",
        help="import a production window: pyroscope+https://HOST?query=...&from=... (repeatable)",
    )
    record.add_argument(
        "--commit", metavar="SHA", help="with --profile/--from: the commit it measured"
    )
    record.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")

    history = commands.add_parser("history", help="show recorded runs, or one function's series")
    history.add_argument("function", nargs="?", help="qualname or path:qualname")
    history.add_argument("--workload", help="only this workload")
    history.add_argument("--output-format", choices=("text", "json"), default="text")
    history.add_argument("--limit", type=_positive, default=50, help="newest runs shown")


def history_path(root: Path) -> Path:
    """Where the workspace's history database lives."""
    return root / HISTORY_FILE


def run_record(args: argparse.Namespace) -> int:
    """`perfpilot record`: profile CMD --repeat times, or import --profile files, and store."""
    cwd = Path.cwd()
    root = find_workspace_root(cwd)
    mappings = tuple(load_settings(root).path_mappings)
    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    imported = bool(args.profile or args.sources)
    if imported and command:
        raise DefenseUsageError("record takes either --profile FILE / --from SPEC or -- CMD")
    if args.commit and not imported:
        raise DefenseUsageError("--commit only applies to imported profiles (--profile, --from)")
    if args.sources:
        runs = _import_remote(args, root, mappings)
    elif args.profile:
        runs = import_profiles(
            args.profile, root, workload=args.workload, commit=args.commit, mappings=mappings
        )
    elif command:
        runs = profile_runs(
            command, cwd, root, workload=args.workload, repeat=args.repeat,
            sampler=args.sampler, mappings=mappings,
        )  # fmt: skip
    else:
        raise DefenseUsageError("nothing to record: perfpilot record [--repeat N] -- CMD...")
    with open_history(history_path(root)) as history:
        ids = store(history, runs)
    state = runs[0]
    where = f"{state.commit[:10]}{'+dirty' if state.dirty else ''}" if state.commit else "no git"
    print(
        f"perfpilot: recorded {len(ids)} run{'s' if len(ids) != 1 else ''} of"
        f" {args.workload!r} at {where} in {HISTORY_FILE}",
        file=sys.stderr,
    )
    return 0


def _import_remote(
    args: argparse.Namespace, root: Path, mappings: tuple[PathMapping, ...]
) -> list[Run]:
    """Fetch each production window into a private scratch folder and import it as a run."""
    from perfpilot.tools.profiles.remote import parse_remote, save_fetched

    now = datetime.now(timezone.utc)  # one `now`: windows given together line up exactly
    specs = [parse_remote(text, now) for text in args.sources]
    with tempfile.TemporaryDirectory(prefix="perfpilot-fetch-") as scratch:
        paths = [str(save_fetched(spec, scratch)) for spec in specs]
        runs = import_profiles(
            paths, root, workload=args.workload, commit=args.commit, mappings=mappings
        )
    # The command column names the source and the absolute window, not the scratch file.
    return [
        replace(run, command=f"fetch {spec.text} ({spec.window()})")
        for run, spec in zip(runs, specs, strict=True)
    ]


def run_history(args: argparse.Namespace) -> int:
    """`perfpilot history`: the recorded runs, or one function's share run by run."""
    root = find_workspace_root(Path.cwd())
    with open_history(history_path(root), create=False) as history:
        runs = history.runs(args.workload)[-args.limit :]
        if args.function:
            return _function_series(history, runs, args)
    if args.output_format == "json":
        print(json.dumps([_run_summary(run) for run in runs], indent=2))
        return 0
    if not runs:
        print("no runs recorded" + (f" for workload {args.workload!r}" if args.workload else ""))
        return 0
    print(
        f"{'run':>5}  {'recorded':20} {'commit':14} {'workload':16} {'profiler':9} {'time':>8}  top"
    )
    for run in runs:
        summary = _run_summary(run)
        top = summary["top"]
        top_text = f"{top['qualname']} {top['share']:.1f}%" if top else "-"
        print(
            f"{run.id:>5}  {run.recorded_at[:19]:20} {summary['commit_label']:14}"
            f" {run.workload[:16]:16} {run.profiler[:9]:9} {_seconds(run.duration):>8}  {top_text}"
        )
    return 0


def _function_series(history: History, runs: list[Run], args: argparse.Namespace) -> int:
    wanted = args.function
    keys = sorted({k for run in runs for k in run.functions})
    matches = [k for k in keys if k == wanted or k.rsplit(":", 1)[-1] == wanted]
    if not matches:
        raise DefenseUsageError(f"no recorded function named {wanted!r}")
    if len(matches) > 1:
        raise DefenseUsageError(
            f"{wanted!r} is ambiguous: {', '.join(matches[:5])}; use path:qualname"
        )
    key = matches[0]
    rows = []
    for run in runs:
        figures = run.functions.get(key)
        seconds = run.seconds(key)
        rows.append(
            {
                "run": run.id,
                "recorded_at": run.recorded_at,
                "commit": run.commit,
                "dirty": run.dirty,
                "workload": run.workload,
                "share": round(run.share(key), 3),
                "ms": round(seconds * 1000, 3) if seconds is not None else None,
                "calls": figures.calls if figures else 0,
            }
        )
    if args.output_format == "json":
        print(json.dumps({"function": key, "runs": rows}, indent=2))
        return 0
    print(f"{key}: own share of the program, run by run (oldest first)")
    print(f"{'run':>5}  {'recorded':20} {'commit':14} {'share':>7} {'ms/run':>10} {'calls':>10}")
    for row in rows:
        commit = (row["commit"] or "-")[:10] + ("+" if row["dirty"] else "")
        ms = f"{row['ms']:.2f}" if row["ms"] is not None else "-"
        calls = f"{row['calls']:,}" if row["calls"] is not None else "-"
        print(
            f"{row['run']:>5}  {row['recorded_at'][:19]:20} {commit:14} {row['share']:>6.2f}%"
            f" {ms:>10} {calls:>10}"
        )
    return 0


def _run_summary(run: Run) -> dict[str, object]:
    top_key = max(run.functions, key=lambda k: run.functions[k].own, default=None)
    commit = (run.commit or "-")[:10] + ("+dirty" if run.dirty else "")
    return {
        "id": run.id,
        "workload": run.workload,
        "command": run.command,
        "commit": run.commit,
        "commit_label": commit,
        "dirty": run.dirty,
        "branch": run.branch,
        "recorded_at": run.recorded_at,
        "python": run.python,
        "machine": run.machine,
        "profiler": run.profiler,
        "duration": run.duration,
        "samples": run.samples,
        "functions": len(run.functions),
        "top": {"qualname": top_key, "share": round(run.share(top_key), 2)} if top_key else None,
    }


def _seconds(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}s"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def command_text(command: list[str]) -> str:
    """A command line as the user would type it."""
    return shlex.join(command)
