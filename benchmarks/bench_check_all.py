"""`perfpilot check --all` on a large tree, on one core and on all, against ruff's PERF rules.

Run: .venv/bin/python benchmarks/bench_check_all.py [--repeats N]

Besides wall time, the table gives each command's CPU time (user + system, its processes
together, from the kernel's accounting of finished children) and the cores it kept busy
(CPU / wall): on a machine whose cores other work already fills, a second process cannot
shorten the wall time, and the CPU column shows what the work itself costs.

The tree is a copy of standard-library packages (email, json, http, logging, urllib,
concurrent, xmlrpc, importlib: ~37,000 lines). Each command runs as a subprocess (what a user
types), the three interleaved, wall time as the median of N; ruff checks only PERF rules, the
nearest thing it has to perfpilot's skills.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

PACKAGES = ["email", "json", "http", "logging", "urllib", "concurrent", "xmlrpc", "importlib"]


def build_tree(root: Path) -> int:
    """Copy the packages; return the number of lines of Python."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in PACKAGES:
        shutil.copytree(stdlib / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text("[project]\nname = 'tree'\n")
    return sum(p.read_text(errors="replace").count("\n") for p in root.rglob("*.py"))


def commands() -> dict[str, list[str]]:
    """The commands compared, by label."""
    bin_dir = Path(sys.executable).parent
    perfpilot = [sys.executable, "-m", "perfpilot.server", "check", "--all", "--exit-zero"]
    cores = os.cpu_count() or 1
    return {
        "ruff check --select PERF": [
            str(bin_dir / "ruff"),
            "check",
            "--select",
            "PERF",
            "--output-format",
            "concise",
            "--exit-zero",
            "--no-cache",
            ".",
        ],
        "perfpilot check --all --jobs 1": [*perfpilot, "--jobs", "1"],
        f"perfpilot check --all ({cores} cores)": perfpilot,
    }


def main() -> None:
    """Build the tree, time the commands interleaved, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="perfpilot-bench-check-all-"))
    try:
        lines = build_tree(scratch)
        samples: dict[str, list[float]] = {label: [] for label in commands()}
        cpu: dict[str, list[float]] = {label: [] for label in commands()}
        findings: dict[str, int] = {}
        for _ in range(args.repeats):
            for label, command in commands().items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run(command, cwd=scratch, capture_output=True, text=True)
                samples[label].append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[label].append(
                    after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                )
                if done.returncode not in (0, 1):
                    raise SystemExit(f"{label} failed: {done.stderr}")
                findings[label] = sum(
                    1 for line in done.stdout.splitlines() if ": PP1" in line or ": PERF" in line
                )
        ruff = statistics.median(samples["ruff check --select PERF"])
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\n{lines:,} lines of Python; median of {args.repeats}; load average {load}\n")
        print("| command | wall s | x ruff | CPU s | cores busy | findings |")
        print("|---|---|---|---|---|---|")
        for label, values in samples.items():
            median = statistics.median(values)
            spent = statistics.median(cpu[label])
            print(
                f"| {label} | {median:.2f} | {median / ruff:.0f}x | {spent:.2f}"
                f" | {spent / median:.2f} | {findings[label]} |"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
