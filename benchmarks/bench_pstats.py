"""Time loading a large cProfile stats file: stdlib pstats.Stats against perfpilot's safe loader.

Run: python benchmarks/bench_pstats.py [--functions 50000] [--repeat 5]
Each timing runs in a fresh process (no warm caches shared between the two), time.perf_counter,
median of the repeats.
"""

from __future__ import annotations

import argparse
import marshal
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BUILTINS = (
    "<built-in method builtins.len>",
    "<method 'append' of 'list' objects>",
    "<built-in method time.sleep>",
    "<method 'join' of 'str' objects>",
    "<built-in method builtins.isinstance>",
    "<method 'disable' of '_lsprof.Profiler' objects>",
)

TIMERS = {
    "pstats.Stats": "import pstats\nresult = pstats.Stats(path)",
    "perfpilot load_profile": (
        "from perfpilot.tools.profiles import load_profile\nresult = load_profile(path)"
    ),
    "marshal.loads (unsafe, reference)": (
        "import marshal\nresult = marshal.loads(open(path, 'rb').read())"
    ),
}

CHILD = """
import sys, time
path = sys.argv[1]
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
"""


def synthetic_stats(functions: int, files: int = 2_000, seed: int = 1) -> dict[object, object]:
    """A stats dict laid out as cProfile.snapshot_stats makes it.

    Each function has a fresh entry-key tuple and one caller-key tuple shared by every callers
    dict it appears in (so marshal writes it once and back-references it, as in real files);
    1-5 callers per function, a few built-ins.
    """
    rng = random.Random(seed)
    paths = [f"/srv/app/pkg{i % 40}/module_{i}.py" for i in range(files)]
    funcs = [
        (paths[rng.randrange(files)], rng.randrange(1, 3_000), f"func_{i}")
        for i in range(functions - len(BUILTINS))
    ]
    funcs += [("~", 0, name) for name in BUILTINS]
    stats: dict[object, object] = {}
    for path, line, name in funcs:
        callers = {}
        total_calls, total_time = 0, 0.0
        for _ in range(rng.randint(1, 5)):
            caller = funcs[rng.randrange(len(funcs))]
            calls = rng.randint(1, 1_000)
            cumulative = calls * rng.random() * 1e-4
            callers[caller] = (calls, calls, cumulative * rng.random(), cumulative)
            total_calls += calls
            total_time += cumulative
        key = (path, line, name)  # a new tuple, as cProfile's label() makes for an entry
        stats[key] = (total_calls, total_calls, total_time * rng.random(), total_time, callers)
    return stats


def time_in_child(body: str, path: Path) -> float:
    """Run `body` in a fresh interpreter and return the seconds it took."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(body=body), str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate the file, time each loader, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--functions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.prof"
        stats = synthetic_stats(args.functions)
        with open(path, "wb") as handle:
            marshal.dump(stats, handle)
        edges = sum(len(value[4]) for value in stats.values())  # type: ignore[index]
        size = path.stat().st_size
        print(f"{args.functions} functions, {edges} caller edges, {size / 1e6:.1f} MB")
        # Interleaved, so that a burst of load on the machine hits every loader alike.
        times: dict[str, list[float]] = {name: [] for name in TIMERS}
        for _ in range(args.repeat):
            for name, body in TIMERS.items():
                times[name].append(time_in_child(body, path))
        print(f"{'loader':<36} {'median s':>9} {'min s':>7} {'max s':>7}")
        for name, runs in times.items():
            print(f"{name:<36} {statistics.median(runs):>9.3f} {min(runs):>7.3f} {max(runs):>7.3f}")


if __name__ == "__main__":
    main()
