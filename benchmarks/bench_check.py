"""Load + map a 50,000-function cProfile file over a 2,000-file tree; `perfpilot check` vs ruff.

Run: .venv/bin/python benchmarks/bench_check.py [--repeats N]
Builds a synthetic workspace (2,000 files x 25 functions) and a matching pstats file whose time
follows a Zipf-like law (a few functions hot, a long tail), as real programs do.
"""

from __future__ import annotations

import argparse
import marshal
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = 2_000
FUNCTIONS_PER_FILE = 25


def build_workspace(root: Path) -> list[tuple[str, int, str]]:
    """Write the tree; return (absolute path, def line, name) of every function."""
    functions = []
    for file_number in range(FILES):
        package = root / "src" / f"pkg{file_number // 100}"
        package.mkdir(parents=True, exist_ok=True)
        path = package / f"mod{file_number}.py"
        functions += small_module(path, file_number, FUNCTIONS_PER_FILE)
    (root / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
    return functions


def small_module(path: Path, number: int, count: int) -> list[tuple[str, int, str]]:
    """Write a module of `count` small functions; return their (path, def line, name) keys."""
    lines = ["import json", ""]
    keys = []
    for index in range(count):
        name = f"func_{number}_{index}"
        lines += [
            "",
            f"def {name}(items):",
            "    result = []",
            "    for item in items:",
            "        result.append(json.dumps(item))",
            "    return result",
        ]
        keys.append((str(path), len(lines) - 4, name))
    path.write_text("\n".join(lines) + "\n")
    return keys


def build_pstats(functions: list[tuple[str, int, str]], output: Path) -> None:
    """A cProfile-shaped stats dict: callers chain functions so edges exist everywhere."""
    stats = {}
    builtin = ("~", 0, "<method 'append' of 'list' objects>")
    for rank, key in enumerate(functions, 1):
        tt = 10.0 / rank  # Zipf: the first few functions dominate
        callers = {}
        for offset in (1, 7, 31):
            if rank - offset >= 1:
                callers[functions[rank - offset - 1]] = (3, 3, tt / 3, tt / 2)
        stats[key] = (5, 5, tt, tt * 1.5, callers)
    stats[builtin] = (1000, 1000, 0.5, 0.5, {functions[0]: (1000, 1000, 0.5, 0.5)})
    with open(output, "wb") as handle:
        marshal.dump(stats, handle)


LOAD_AND_MAP = """
import sys, time
started = time.perf_counter()
from perfpilot.tools.profiles import load_profile
from perfpilot.tools.mapping import map_profile
from perfpilot.tools.hotspots import hot_function_findings
from perfpilot.tools.source_index import WorkspaceIndex
profile = load_profile(sys.argv[1])
loaded = time.perf_counter()
index = WorkspaceIndex(sys.argv[2])
result = map_profile(profile, index, min_share=2.0)
findings = hot_function_findings(result, 2.0)
done = time.perf_counter()
print(loaded - started, done - loaded, index.parse_count, len(findings))
"""


def median_run(command: list[str], cwd: Path, repeats: int) -> tuple[float, float]:
    """Median and max wall time of a command, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def main() -> None:
    """Build the inputs, measure, print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="perfpilot-bench-"))
    try:
        functions = build_workspace(scratch / "ws")
        profile = scratch / "big.prof"
        build_pstats(functions, profile)
        size_mb = profile.stat().st_size / 1e6
        print(f"workspace: {FILES} files, {len(functions)} functions; profile {size_mb:.1f} MB")

        loads, maps = [], []
        parsed = found = 0
        for _ in range(args.repeats):
            out = subprocess.run(
                [sys.executable, "-c", LOAD_AND_MAP, str(profile), str(scratch / "ws")],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            loads.append(float(out[0]))
            maps.append(float(out[1]))
            parsed, found = int(out[2]), int(out[3])
        pstats_times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", f"import pstats; pstats.Stats({str(profile)!r})"],
                check=True,
            )
            pstats_times.append(time.perf_counter() - started)

        perfpilot = [
            sys.executable,
            "-m",
            "perfpilot.server",
            "check",
            "--profile",
            str(profile),
            "--exit-zero",
        ]
        check_median, check_max = median_run(perfpilot, scratch / "ws", args.repeats)
        ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
        ruff_cmd = [ruff, "check", "--select", "PERF", "--no-cache", "--exit-zero", "."]
        ruff_median, ruff_max = median_run(ruff_cmd, scratch / "ws", args.repeats)

        print(f"\nmedian of {args.repeats} runs (fresh process each)")
        print(f"{'measurement':<52}{'median s':>10}{'max s':>9}")
        rows = [
            (
                "stdlib pstats.Stats(file) incl. interpreter start",
                statistics.median(pstats_times),
                max(pstats_times),
            ),
            ("perfpilot load_profile (50k functions)", statistics.median(loads), max(loads)),
            (
                f"perfpilot map + rank ({parsed} files parsed, {found} PP001)",
                statistics.median(maps),
                max(maps),
            ),
            (
                "perfpilot load + map",
                statistics.median([a + b for a, b in zip(loads, maps)]),
                max(a + b for a, b in zip(loads, maps)),
            ),
            ("`perfpilot check --profile` (whole command)", check_median, check_max),
            ("`ruff check --select PERF --no-cache` same tree", ruff_median, ruff_max),
        ]
        for name, median, worst in rows:
            print(f"{name:<52}{median:>10.3f}{worst:>9.3f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
