"""`perfpilot check` and `perfpilot check --fix` on the bundled example, end to end.

Run: .venv/bin/python benchmarks/bench_fix.py [--repeats N]

The example is copied and profiled once (cProfile, the default 25,000-line workload); each
repeat restores a pristine copy of the sources, then times the CLI as a user runs it (a new
process: start-up, profile load, mapping, skills, validation with ruff, atomic writes).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "perfpilot.server"]


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    """Seconds the command took, and its stdout."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    return elapsed, done.stdout


def main() -> None:
    """Time check, check --diff and check --fix, then the workload before/after; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "example"
        shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
        (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
        pristine = Path(folder) / "pristine"
        shutil.copytree(root / "loganalyzer", pristine)
        subprocess.run(
            [*CLI, "profile", "-o", "w.prof", "--", "python3", "workload.py"],
            cwd=root,
            check=True,
            capture_output=True,
        )
        rows = []
        for name, extra in (
            ("check", []),
            ("check --diff", ["--diff"]),
            ("check --fix", ["--fix"]),
        ):
            samples, output = [], ""
            for _ in range(args.repeats):
                shutil.rmtree(root / "loganalyzer")
                shutil.copytree(pristine, root / "loganalyzer")
                elapsed, output = timed([*CLI, "check", "--profile", "w.prof", *extra], root)
                samples.append(elapsed)
            summary = [
                line for line in output.splitlines() if line.startswith(("Found", "Applied"))
            ]
            rows.append((name, statistics.median(samples), max(samples), " / ".join(summary)))
        # What the fixes buy: the workload before and after all fixes (safe and unsafe), in
        # two copies timed in turn, so that a change in the machine's load hits both alike.
        shutil.rmtree(root / "loganalyzer")
        shutil.copytree(pristine, root / "loganalyzer")
        original = Path(folder) / "original"
        shutil.copytree(root, original)
        elapsed, output = timed(
            [*CLI, "check", "--profile", "w.prof", "--fix", "--unsafe-fixes"], root
        )
        workload = ["python3", "workload.py"]
        before, after = [], []
        for _ in range(args.repeats):
            before.append(timed(workload, original))
            after.append(timed(workload, root))
        summary = next(line for line in output.splitlines() if line.startswith("Applied"))
        rows.append(("check --fix --unsafe-fixes", elapsed, elapsed, summary))
        same = before[0][1].splitlines()[-1] == after[0][1].splitlines()[-1]
    print(f"{'command':<28}{'median s':>10}{'max s':>8}  summary")
    for name, median, worst, summary in rows:
        print(f"{name:<28}{median:>10.2f}{worst:>8.2f}  {summary}")
    slow = statistics.median(t for t, _ in before)
    fast = statistics.median(t for t, _ in after)
    print(
        f"\nworkload.py before the fixes {slow:.2f} s, after {fast:.2f} s"
        f" ({100 * (1 - fast / slow):.0f}% less); report checksum unchanged: {same}"
    )


if __name__ == "__main__":
    main()
