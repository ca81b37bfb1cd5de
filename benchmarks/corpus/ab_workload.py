"""Time a corpus workload on pristine vs fixed sources, interleaved (fixes verify cannot replay).

`perfpilot verify` replays recorded calls; a function whose arguments cannot be pickled (a
method of an object holding lambdas, loaders, caches: jinja2's `Environment`) has none. This
measures such a fix where it matters: the whole workload, run alternately against a pristine
unpacked sdist (on PYTHONPATH, which comes before the editable install) and against the
corpus copy holding the fix, N times each, and prints medians and the speedup.

    PERFPILOT_CORPUS_DIR=... python benchmarks/corpus/ab_workload.py jinja2 \
        --pristine /tmp/jinja2-3.1.4 --runs 11
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from corpus_config import load_libraries


def run_once(python: Path, workload: Path, cwd: Path, pythonpath: str | None) -> float:
    """Seconds for one run of the workload (its output discarded)."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    started = time.perf_counter()
    subprocess.run([str(python), str(workload)], cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    """Parse arguments, run the interleaved rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("--pristine", required=True, type=Path, help="an unpacked pristine sdist")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    library = next((lib for lib in load_libraries() if lib.name == args.library), None)
    if library is None:
        print(f"ab_workload: no library {args.library!r} in the manifest", file=sys.stderr)
        return 2
    pristine_path = str(args.pristine / Path(library.source).parent)
    times: dict[str, list[float]] = {"pristine": [], "fixed": []}
    run_once(library.python, library.workload, library.root, None)  # warm the file cache
    for round_number in range(args.runs):
        order = ["pristine", "fixed"] if round_number % 2 == 0 else ["fixed", "pristine"]
        for label in order:
            path = pristine_path if label == "pristine" else None
            times[label].append(run_once(library.python, library.workload, library.root, path))
    before, after = statistics.median(times["pristine"]), statistics.median(times["fixed"])
    print("| library | runs | pristine s (median, range) | fixed s (median, range) | speedup |")
    print("|---|---|---|---|---|")
    print(
        f"| {library.name} | {args.runs} | {before:.3f} ({min(times['pristine']):.3f}-"
        f"{max(times['pristine']):.3f}) | {after:.3f} ({min(times['fixed']):.3f}-"
        f"{max(times['fixed']):.3f}) | {before / after:.3f}x |"
    )
    wins = sum(p > f for p, f in zip(times["pristine"], times["fixed"], strict=True))
    print(f"fixed faster in {wins} of {args.runs} interleaved pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
