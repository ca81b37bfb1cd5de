"""Command line: ``python -m loganalyzer access.log [more.log ...]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .enrich import load_blocklist
from .pipeline import analyze
from .report import render_report
from .timing import stage_report


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the loganalyzer command."""
    parser = argparse.ArgumentParser(prog="loganalyzer", description=__doc__)
    parser.add_argument("logs", nargs="+", type=Path, help="access log files")
    parser.add_argument("--blocklist", type=Path, help="file of blocked addresses, one a line")
    parser.add_argument("--top", type=int, default=10, help="rows per table (default 10)")
    parser.add_argument("-o", "--output", type=Path, help="write the report here, not stdout")
    parser.add_argument("--timings", action="store_true", help="print stage timings to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        lines: list[str] = []
        for path in args.logs:
            lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
        blocklist = load_blocklist(args.blocklist.read_text()) if args.blocklist else []
    except OSError as exc:
        print(f"loganalyzer: {exc}", file=sys.stderr)
        return 2
    report = render_report(analyze(lines, blocklist), top=args.top)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    if args.timings:
        print(stage_report(), file=sys.stderr)
    return 0
