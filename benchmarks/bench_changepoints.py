"""Change-point search over a long history: the capped scan against the old full search.

Run: .venv/bin/python benchmarks/bench_changepoints.py [--functions 500] [--repeats 3]

The series are synthetic (seeded noise around each function's share, a 1.5x step planted in two
of the eight hottest functions), because what is measured is the search's cost as the history grows,
not detection power (bench_defense.py measures that on real runs). `detect_series` runs over
the whole history as `perfpilot regress` (history mode) does. The old search (a full rank
test for every step and every bump, O(m^2 N log N) per split) is loaded from the commit
before the cap and timed only where it finishes in reasonable time.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from perfpilot.tools.defense import series
from perfpilot.tools.defense.detect import DetectOptions
from perfpilot.tools.defense.history import FunctionFigures, Run

REPO = Path(__file__).resolve().parents[1]
OLD_COMMIT = "d881f02"  # main before the cap


def synthetic_runs(
    commits: int, per_commit: int, functions: int, seed: int
) -> tuple[list[Run], list[str]]:
    """`commits` x `per_commit` runs of `functions` functions; two of the hottest step up.

    Returns the runs and the keys of the stepped functions."""
    rng = random.Random(seed)
    weights = [1.0 / (rank + 1) for rank in range(functions)]  # a few hot, a long tail
    stepped = set(rng.sample(range(min(functions, 8)), min(functions, 2)))
    step_at = commits * 2 // 3
    runs = []
    for number in range(commits):
        sha = f"{number:040x}"
        for _ in range(per_commit):
            figures = {}
            for index, weight in enumerate(weights):
                own = weight * rng.lognormvariate(0, 0.05)
                if index in stepped and number >= step_at:
                    own *= 1.5
                name = f"f{index:03d}"
                figures[f"m.py:{name}"] = FunctionFigures("m.py", name, index + 1, own, own, own)
            total = sum(f.own for f in figures.values())
            runs.append(Run("w", "cmd", sha, False, None, "", "3.11", "m", "cprofile", "seconds",
                            total, 1.0, total, None, functions=figures))  # fmt: skip
    return runs, sorted(f"m.py:f{index:03d}" for index in stepped)


def old_segment():
    """`segment` as it was before the cap, loaded from git."""
    text = subprocess.run(["git", "-C", str(REPO), "show", f"{OLD_COMMIT}:tools/defense/stats.py"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(text)
    spec = importlib.util.spec_from_file_location("old_stats", handle.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_stats"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module.segment


def timed(
    runs: list[Run], chain: list[str], repeats: int, searches: dict[str, object]
) -> dict[str, tuple[float, list[str]]]:
    """Median seconds of detect_series per search, interleaved round by round, and findings."""
    seconds: dict[str, list[float]] = {name: [] for name in searches}
    found: dict[str, list[str]] = {}
    for _ in range(repeats):
        for name, search in searches.items():  # interleaved: load drift hits both alike
            series.segment = search
            started = time.perf_counter()
            report = series.detect_series(chain, runs, DetectOptions())
            seconds[name].append(time.perf_counter() - started)
            found[name] = sorted(c.key for c in report.changes)
    return {name: (median(seconds[name]), found[name]) for name in searches}


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--old-limit", type=int, default=200, help="most runs the old search is timed on"
    )
    args = parser.parse_args()
    new_segment, legacy = series.segment, old_segment()
    print(f"detect_series over {args.functions} functions (median of {args.repeats}); loaded"
          " 2-core machine\n")  # fmt: skip
    print("| commits x runs | runs | old search | found (old) | capped search | found (capped) |")
    print("|---|---|---|---|---|---|")
    for commits, per_commit in ((50, 4), (100, 2), (200, 1), (500, 4), (2000, 1)):
        runs, planted = synthetic_runs(commits, per_commit, args.functions, seed=commits)
        chain = sorted({r.commit for r in runs if r.commit})
        searches = {"capped": new_segment}
        if commits * per_commit <= args.old_limit:
            searches["old"] = legacy
        results = timed(runs, chain, args.repeats, searches)
        series.segment = new_segment
        new_s, new_found = results["capped"]
        old_text, old_label = "not run (too slow)", "-"
        if "old" in results:
            old_s, old_found = results["old"]
            old_text, old_label = f"{old_s:.2f} s", _label(old_found, planted)
        print(f"| {commits} x {per_commit} | {commits * per_commit} | {old_text} | {old_label} |"
              f" {new_s:.2f} s | {_label(new_found, planted)} |")  # fmt: skip


def _label(found: list[str], planted: list[str]) -> str:
    """How the reported functions compare with the planted steps."""
    hits = len(set(found) & set(planted))
    extra = len(set(found) - set(planted))
    return f"{hits} of {len(planted)} planted" + (f", {extra} other" if extra else "")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
