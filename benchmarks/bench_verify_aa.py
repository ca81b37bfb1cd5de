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
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
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
    from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

    with tempfile.TemporaryDirectory() as folder:
        os.environ["XDG_CACHE_HOME"] = os.path.join(folder, "cache")
        os.environ["XDG_CONFIG_HOME"] = os.path.join(folder, "config")
        root = Path(folder) / "example"
        shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
        (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
        names = ",".join(f"{path}::{name}" for path, name in FUNCTIONS)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "perfpilot.server",
                "capture",
                "--functions",
                names,
                "--",
                sys.executable,
                "workload.py",
                "--lines",
                "8000",
            ],
            cwd=root,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        speedups: dict[str, list[float]] = collections.defaultdict(list)
        others: dict[str, str] = {}
        started = time.perf_counter()
        for trial in range(args.trials):
            path, name = FUNCTIONS[trial % len(FUNCTIONS)]
            text = (root / path).read_text()
            verdict = verify_change(
                root, str(root / path), name, text, text, VerifySettings(args.budget)
            )
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
