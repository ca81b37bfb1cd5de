"""A library's workload on its pristine sources against a fixed copy, interleaved (A/B).

Run: PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/ab_workload.py LIBRARY FIXED_DIR
     [--runs N]

FIXED_DIR holds the fixed package folder (e.g. a copy of `markdown/` with fixes applied); it is
put first on PYTHONPATH, so the library's venv imports it instead of the editable install (the
pristine sources in the corpus folder). Runs alternate A, B, B, A, ... and the table gives each
side's median and half the min-max range, and B's speedup over A (median of A / median of B).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_config import load_libraries  # noqa: E402


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds one run of the workload takes (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    """Time the workload on pristine and fixed sources, interleaved, and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("fixed", type=Path, help="folder holding the fixed package")
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    (library,) = load_libraries([options.library])
    command = [str(library.python), str(library.workload)]
    pristine_env = dict(os.environ)
    fixed_env = dict(os.environ, PYTHONPATH=str(options.fixed.resolve()))
    times: dict[str, list[float]] = {"pristine": [], "fixed": []}
    for run in range(options.runs):
        order = ["pristine", "fixed"] if run % 2 == 0 else ["fixed", "pristine"]
        for side in order:
            env = pristine_env if side == "pristine" else fixed_env
            times[side].append(timed(command, library.root, env))
    print(f"| {library.name} | runs | median s | ±half-range |")
    print("|---|---|---|---|")
    for side, values in times.items():
        spread = (max(values) - min(values)) / 2
        print(f"| {side} | {len(values)} | {statistics.median(values):.3f} | {spread:.3f} |")
    ratio = statistics.median(times["pristine"]) / statistics.median(times["fixed"])
    print(f"\nspeedup of the fixed sources (median pristine / median fixed): {ratio:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
