"""A/A: the original function verified against itself must not be called "faster".

Run: .venv/bin/python benchmarks/bench_verify_aa.py [--trials N] [--budget S]

The example is copied and its hot functions captured once (a real run of the workload); then
each trial verifies a function's source against the very same source, rotating over the
captured functions. Prints the verdicts per function and the false-"faster" rate (the issue
asks for at most 1 in 100).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

from verify_rounds import Change, private_example, run_perfpilot, verify_in_rotation

FUNCTIONS = (
    ("loganalyzer/enrich.py", "edit_distance"),
    ("loganalyzer/parsing.py", "parse_line"),
    ("loganalyzer/enrich.py", "classify_agent"),
    ("loganalyzer/enrich.py", "guess_bot"),
)


def main() -> None:
    """Run the A/A trials and print the table and the false-faster rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = private_example(Path(folder))
        names = ",".join(f"{path}::{name}" for path, name in FUNCTIONS)
        workload = [sys.executable, "workload.py", "--lines", "8000"]
        run_perfpilot(root, ["capture", "--functions", names, "--", *workload])
        # A/A: each function's source "fixed" into the very same source.
        changes = []
        for path, name in FUNCTIONS:
            text = (root / path).read_text()
            changes.append(Change(name, str(root / path), name, text, text))
        counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        speedups: dict[str, list[float]] = collections.defaultdict(list)
        others: dict[str, str] = {}
        started = time.perf_counter()
        for change, _, verdict in verify_in_rotation(root, changes, args.trials, args.budget):
            name = change.qualname
            counts[name][verdict.label] += 1
            if verdict.label not in ("faster", "not faster"):
                others.setdefault(verdict.label, verdict.summary)
            if verdict.speed is not None:
                speedups[name].append(verdict.speed.low)
        seconds = time.perf_counter() - started
    print(
        f"{'function':16} {'trials':>6} {'faster':>6} {'not faster':>10} {'other':>5}"
        f" {'max CI low':>10}"
    )
    for _, name in FUNCTIONS:
        c = counts[name]
        other = sum(c.values()) - c["faster"] - c["not faster"]
        worst = max(speedups[name], default=float("nan"))
        print(
            f"{name:16} {sum(c.values()):6} {c['faster']:6} {c['not faster']:10} {other:5}"
            f" {worst:10.3f}"
        )
    for label, summary in others.items():
        print(f"  e.g. {label}: {summary[:150]}")
    faster = sum(c["faster"] for c in counts.values())
    print(
        f"\nfalse 'faster': {faster} of {args.trials} ({100 * faster / args.trials:.1f}%),"
        f" {seconds / args.trials:.2f} s per trial"
    )


if __name__ == "__main__":
    main()
