"""`perfpilot regress`: regressions between two commits (or along history), with root causes."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from perfpilot.server.defense_cli import (
    DEFAULT_WORKLOAD,
    SAMPLER_HELP,
    DefenseUsageError,
    history_path,
)
from perfpilot.server.render import OUTPUT_FORMATS, Summary, display_path, render
from perfpilot.tools.config import find_workspace_root
from perfpilot.tools.defense.detect import DetectOptions
from perfpilot.tools.defense.history import open_history
from perfpilot.tools.defense.recording import store
from perfpilot.tools.defense.regress import (
    DEFAULT_REPEAT,
    RegressError,
    RegressReport,
    compare,
    compare_series,
    findings,
    runs_alternately,
    runs_from_history,
    trace,
)
from perfpilot.tools.defense.repo import resolve
from perfpilot.tools.profiling import SAMPLERS

HUNK_LINES = 30


def register_regress(commands: argparse._SubParsersAction) -> None:
    """Add `regress` to the CLI."""
    regress = commands.add_parser("regress", help="find functions that got slower between commits")
    regress.add_argument("--base", metavar="REF", help="the commit to compare against")
    regress.add_argument("--head", metavar="REF", default="HEAD", help="default: HEAD")
    regress.add_argument(
        "--workload",
        default=DEFAULT_WORKLOAD,
        help=f"the recorded workload's name (default: {DEFAULT_WORKLOAD!r})",
    )
    regress.add_argument("--run", metavar="CMD", help="measure base and head now, in worktrees")
    regress.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, metavar="N",
        help=f"with --run: runs per side, base and head in turns (default {DEFAULT_REPEAT})",
    )  # fmt: skip
    regress.add_argument("--sampler", choices=SAMPLERS, default="cprofile", help=SAMPLER_HELP)
    regress.add_argument("--output-format", choices=OUTPUT_FORMATS, default="text")
    regress.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    regress.add_argument("--min-effect", type=float, metavar="POINTS", help="default 0.5")
    regress.add_argument(
        "--fdr", type=float, metavar="Q", help="false discovery rate, default 0.01"
    )
    regress.add_argument("--bisect", action="store_true", help="confirm the culprit by measuring")
    regress.add_argument("--mitigate", action="store_true", help="prepare a fix on a new branch")
    regress.add_argument("--test-cmd", metavar="CMD", help="the project's tests, for --mitigate")
    regress.add_argument(
        "--verify",
        action="store_true",
        help="with --mitigate, replay each candidate on the function's recorded calls (runs your"
        " code; see `perfpilot capture`)",
    )
    regress.add_argument(
        "--budget", type=float, default=None, metavar="SECONDS", help="verify time per candidate"
    )
    regress.add_argument("--exit-zero", action="store_true")
    # Production windows (`--profile SPEC`, a continuous profiler's query for base and head)
    # plug in beside --run: each side's fetched pprof becomes a run, as `record --profile` does.


def run_regress(args: argparse.Namespace) -> int:
    """Compare, trace, render; exit 1 when something regressed."""
    root = find_workspace_root(Path.cwd())
    options = DetectOptions()
    if args.min_effect is not None:
        options = DetectOptions(**{**_fields(options), "min_effect": args.min_effect})
    if args.fdr is not None:
        if not 0 < args.fdr < 1:
            raise DefenseUsageError("--fdr must be between 0 and 1")
        options = DetectOptions(**{**_fields(options), "fdr": args.fdr})
    if args.repeat < 1:
        raise DefenseUsageError("--repeat must be at least 1")
    if args.verify and not args.mitigate:
        raise DefenseUsageError("--verify applies to the candidates of --mitigate")
    head = resolve(root, args.head)
    base = resolve(root, args.base) if args.base else None
    report = RegressReport(args.workload, base, head)
    try:
        with open_history(history_path(root), create=bool(args.run)) as history:
            if args.run:
                if base is None:
                    raise DefenseUsageError("--run needs --base REF (and --head, default HEAD)")
                command = shlex.split(args.run)
                report.base_runs, report.head_runs = runs_alternately(
                    root, base, head, command, workload=args.workload, repeat=args.repeat,
                    sampler=args.sampler, output=sys.stderr,
                )  # fmt: skip
                store(history, [*report.base_runs, *report.head_runs])
                compare(report, options)
            elif base is not None:
                report.base_runs, report.head_runs = runs_from_history(
                    history, args.workload, base, head
                )
                compare(report, options)
            else:
                compare_series(report, root, history, options)
    except (RegressError, ValueError) as exc:
        raise DefenseUsageError(str(exc)) from None
    trace(report, root)
    if args.bisect and args.run:
        from perfpilot.tools.defense.bisect import bisect_report

        bisect_report(report, root, shlex.split(args.run), args.sampler, options)
    found = findings(report, root)
    if report.comparison is not None:
        for warning in report.comparison.warnings:
            print(f"perfpilot: warning: {warning}", file=sys.stderr)
    if args.html:
        from perfpilot.tools.defense.report_html import write_html

        write_html(Path(args.html), report, found, root)
    if args.output_format == "text":
        sys.stdout.write(_text(report, found, root))
    elif args.output_format == "json":
        sys.stdout.write(_json(report, found, root))
    else:
        summary = Summary(profiles=[], formats=[], threshold=0.0, duration=None)
        sys.stdout.write(render(args.output_format, found, summary, root))
    if args.mitigate and report.regressions:
        from perfpilot.server.mitigate_cli import mitigate_top

        mitigate_top(report, root, args)
    regressed = any(f.code in ("PP201", "PP202") for f in found)
    return 1 if regressed and not args.exit_zero else 0


def _fields(options: DetectOptions) -> dict[str, object]:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


def _text(report: RegressReport, found: list, root: Path) -> str:
    lines = [
        f"{display_path(f.path, root)}:{f.line}:{f.column}: {f.code} {f.message}" for f in found
    ]
    for change in report.regressions:
        causes = report.causes.get(change.key) or []
        if not causes:
            continue
        lines.append(f"\nRoot cause of `{change.qualname}` ({len(causes)} suspect commit(s)):")
        for rank, culprit in enumerate(causes[:3], start=1):
            commit = culprit.commit
            hot = ", touched its hot lines" if culprit.touched_hot else ""
            sure = ", confirmed by bisection" if culprit.bisected else ""
            lines.append(
                f"  #{rank} {commit.sha[:10]} {commit.date[:10]} {commit.author}: {commit.summary}"
                f" (score {culprit.score:.2f}, {culprit.lines_changed} line(s) of code{hot}{sure})"
            )
            if rank == 1:
                hunk = culprit.hunk.splitlines()
                lines += [f"      {line}" for line in hunk[:HUNK_LINES]]
                if len(hunk) > HUNK_LINES:
                    lines.append(f"      ... {len(hunk) - HUNK_LINES} more lines")
    lines.append(_summary(report, found))
    return "\n".join(lines) + "\n"


def _summary(report: RegressReport, found: list) -> str:
    regressed = sum(1 for f in found if f.code in ("PP201", "PP202"))
    improved = sum(1 for f in found if f.code == "PP203")
    if report.comparison is not None:
        c = report.comparison
        shifts = len(c.of_kind("cost-shift"))
        where = f"{report.base[:10] if report.base else '?'}..{report.head[:10]}"
        text = (
            f"Compared {c.tested} function(s) of {report.workload!r} over {c.base_runs} base and"
            f" {c.head_runs} head run(s) ({where}): {regressed} regression(s), {improved}"
            f" improvement(s)"
        )
        return text + (f", {shifts} cost shift(s) not reported." if shifts else ".")
    assert report.series is not None
    gone = len(report.series.went_away)
    echoes = len(report.series.diluted)
    return (
        f"Scanned {len(report.series.commits)} commit(s) of {report.workload!r}:"
        f" {regressed} persistent regression(s), {improved} improvement(s)"
        + (f", {gone} change(s) that went away" if gone else "")
        + (f", {echoes} share change(s) that only echoed another" if echoes else "")
        + (" not reported." if gone or echoes else ".")
    )


def _json(report: RegressReport, found: list, root: Path) -> str:
    from perfpilot.server.render import _finding_record  # one record shape for every command

    causes = {
        key: [
            {
                "commit": c.commit.sha,
                "author": c.commit.author,
                "date": c.commit.date,
                "summary": c.commit.summary,
                "score": round(c.score, 4),
                "lines_changed": c.lines_changed,
                "touched_hot_lines": c.touched_hot,
                "bisected": c.bisected,
                "functions": c.functions,
                "hunk": c.hunk,
            }
            for c in culprits
        ]
        for key, culprits in report.causes.items()
    }
    document: dict[str, object] = {
        "workload": report.workload,
        "base": report.base,
        "head": report.head,
        "findings": [_finding_record(f, root) for f in found],
        "root_causes": causes,
        "summary": _summary(report, found),
    }
    if report.comparison is not None:
        document["cost_shifts"] = [
            {"function": c.key, "delta_points": round(c.delta, 3), "from": c.shifted_from}
            for c in report.comparison.of_kind("cost-shift")
        ]
        document["warnings"] = report.comparison.warnings
    if report.series is not None:
        document["went_away"] = [
            {"function": c.key, "levels": [[lv.first, lv.last, lv.level] for lv in c.levels]}
            for c in report.series.went_away
        ]
        document["diluted"] = [
            {"function": c.key, "delta_points": round(c.delta, 3)} for c in report.series.diluted
        ]
    return json.dumps(document, indent=2, default=str) + "\n"
