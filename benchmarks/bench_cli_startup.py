"""What the CLI costs on top of Python's own start-up and the libraries a command needs.

Run: .venv/bin/python benchmarks/bench_cli_startup.py [--repeats N] [--importtime] [--before PY]

Each command runs as a subprocess (what a user types); all of them interleaved, N times, medians.
Two figures per command: wall time, and CPU time (user + system, from the kernel's accounting
of the finished child), which a machine loaded by other work inflates far less than wall time.

- `python -c pass`: Python's start-up (this venv, site included);
- `perfpilot --version`, against Python plus `importlib.metadata` reading the version;
- `perfpilot check --profile P examples/` (a real cProfile profile of the bundled example's
  workload), against Python importing what a check needs to work: libcst (the skills'
  transforms) and tree-sitter with its Python grammar (the source index).

The goal (issue 15): each command under 150 ms above its floor. `--importtime` then prints the
slowest imports of each perfpilot command (`-X importtime`, cumulative microseconds).
`--before PY` adds the perfpilot commands of another checkout's venv Python, interleaved in the
same rounds, each against the same floor.

Every command runs with bytecode caching on (PYTHONDONTWRITEBYTECODE removed from the
environment), so the warm-up run leaves .pyc files as a user's first run or a wheel install
does: otherwise every run compiles perfpilot's ~100 modules from source.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GOAL_MS = 150.0
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def commands(
    profile: Path, example: Path, before: str | None = None
) -> dict[str, tuple[list[str], str | None]]:
    """label -> (command line, label of its floor)."""
    version = "from importlib.metadata import version; version('perfpilot')"
    needs = "import libcst, tree_sitter, tree_sitter_python"
    table: dict[str, tuple[list[str], str | None]] = {
        "python -c pass": ([PYTHON, "-c", "pass"], None),
        "python + importlib.metadata": ([PYTHON, "-c", version], None),
        "python + libcst, tree-sitter": ([PYTHON, "-c", needs], None),
    }
    for python, suffix in [(PYTHON, "")] + ([(before, " (before)")] if before else []):
        perfpilot = [python, "-m", "perfpilot.server"]
        table[f"perfpilot --version{suffix}"] = (
            [*perfpilot, "--version"],
            "python + importlib.metadata",
        )
        table[f"perfpilot check --profile P{suffix}"] = (
            [*perfpilot, "check", "--exit-zero", "--profile", str(profile), str(example)],
            "python + libcst, tree-sitter",
        )
    return table


def run_once(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall ms, CPU ms) of one run; exits on a failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def slowest_imports(command: list[str], cwd: Path, count: int = 12) -> list[tuple[int, str]]:
    """The `count` imports with the largest cumulative time under -X importtime (us, name)."""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=ENV,
    )
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|", 2)
            if cumulative.strip().isdigit():
                rows.append((int(cumulative), name.rstrip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    """Profile the example, time the commands interleaved, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--importtime", action="store_true", help="list the slowest imports")
    parser.add_argument("--before", metavar="PY", help="also time this Python's perfpilot")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="perfpilot-bench-cli-"))
    try:
        example = scratch / "examples"
        shutil.copytree(REPO / "examples", example, ignore=shutil.ignore_patterns("__pycache__"))
        profile = scratch / "example.prof"
        workload = [sys.executable, "workload.py", "--lines", "4000"]
        done = subprocess.run(
            [PYTHON, "-m", "perfpilot.server", "profile", "-o", str(profile), "--", *workload],
            cwd=example,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"profiling the example failed:\n{done.stderr}")
        table = commands(profile, example, args.before)
        walls: dict[str, list[float]] = {label: [] for label in table}
        cpus: dict[str, list[float]] = {label: [] for label in table}
        for command, _ in table.values():  # warm the OS caches once
            run_once(command, scratch)
        for _ in range(args.repeats):
            for label, (command, _) in table.items():
                wall, cpu = run_once(command, scratch)
                walls[label].append(wall)
                cpus[label].append(cpu)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\nmedian of {args.repeats}, interleaved; load average {load}\n")
        print("| command | wall ms | CPU ms | floor | wall over floor | CPU over floor |")
        print("|---|---|---|---|---|---|")
        for label, (_, floor) in table.items():
            wall, cpu = statistics.median(walls[label]), statistics.median(cpus[label])
            if floor is None:
                print(f"| {label} | {wall:.0f} | {cpu:.0f} | — | — | — |")
                continue
            over_wall = wall - statistics.median(walls[floor])
            over_cpu = cpu - statistics.median(cpus[floor])
            verdict = "met" if over_cpu < GOAL_MS else "missed"
            print(
                f"| {label} | {wall:.0f} | {cpu:.0f} | {floor} | {over_wall:+.0f}"
                f" | {over_cpu:+.0f} ({verdict}: < {GOAL_MS:.0f}) |"
            )
        if args.importtime:
            for label, (command, floor) in table.items():
                if floor is None:
                    continue
                print(f"\nslowest imports of `{label}` (cumulative us, -X importtime):")
                for micros, name in slowest_imports(command, scratch):
                    print(f"  {micros:>9,}  {name.strip()}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
