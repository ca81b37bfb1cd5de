"""Regression detection on a real workload: false alarms, power, root cause, filters, mitigation.

Run: .venv/bin/python benchmarks/bench_defense.py [--pool 30] [--trials 200] [--repeat 10]

A git repository is built in a temporary folder from examples/ with 20 commits after the
base; commit 13 plants a slowdown in `TrafficStats.add` calibrated to ~1 % of the program,
two other commits touch that function harmlessly (a comment; a local variable renamed).
Real profiles (cProfile, the 4,000-line workload) are recorded once into pools, base and
head alternately; the A/A and detection trials then resample --repeat runs per side from the
pools (so 200 trials do not need 4,000 fresh runs). Root cause, bisection, the rename/move
check, the went-away check and the mitigation run the workload for real.
"""

from __future__ import annotations

import argparse
import pickle
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfpilot.tools.defense.bisect import bisect_report
from perfpilot.tools.defense.detect import NEW_HOT, REGRESSION, DetectOptions, compare_runs
from perfpilot.tools.defense.history import Run
from perfpilot.tools.defense.recording import profile_runs
from perfpilot.tools.defense.regress import RegressReport, runs_alternately, trace
from perfpilot.tools.defense.repo import GitState

REPO = Path(__file__).resolve().parents[1]
COMMAND = ["python3", "workload.py", "--lines", "4000"]
FILE = "loganalyzer/stats.py"
TARGET = f"{FILE}:TrafficStats.add"
ANCHOR = "        self.requests += 1\n"
PLANTED = "        for _ in range({k}):\n            route = item.route.strip()\n"


def git(root: Path, *args: str) -> str:
    """Run git in `root`; stop the benchmark on failure."""
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {args[0]}: {done.stderr.strip()}")
    return done.stdout.strip()


def commit(root: Path, message: str) -> str:
    """Commit everything; return the SHA."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def edit(root: Path, path: str, old: str, new: str) -> None:
    """Replace `old` (which must occur) by `new` in a file of the repository."""
    file = root / path
    text = file.read_text()
    if old not in text:
        raise SystemExit(f"{path}: {old!r} not found")
    file.write_text(text.replace(old, new, 1))


def build_repo(folder: Path) -> Path:
    """examples/ as a git repository with one commit."""
    root = folder / "repo"
    shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    commit(root, "base")
    return root


def calibrate(root: Path, base_runs: list[Run], clock: str = "cpu") -> int:
    """The loop count that adds ~1 % of the program to the target (one measured guess)."""
    guess = 20
    state = GitState(None, False, None)
    trial: list[Run] = []
    for _ in range(8):  # interleaved with base runs: the machine's load hits both alike
        base_runs += profile_runs(
            COMMAND, root, root, workload="cal", repeat=1, git=state, clock=clock
        )
        edit(root, FILE, ANCHOR, ANCHOR + PLANTED.format(k=guess))
        trial += profile_runs(COMMAND, root, root, workload="cal", repeat=1, git=state, clock=clock)
        git(root, "checkout", "-q", "--", ".")
    gained = statistics.median(r.share(TARGET) for r in trial) - statistics.median(
        r.share(TARGET) for r in base_runs
    )
    return max(1, round(guess * 1.0 / max(gained, 0.05)))


def twenty_commits(root: Path, k: int) -> tuple[str, str, str]:
    """Commit 20 changes after base; return (base, culprit, head) SHAs."""
    base = git(root, "rev-parse", "HEAD")
    culprit = ""
    for number in range(1, 21):
        if number == 13:
            edit(root, FILE, ANCHOR, ANCHOR + PLANTED.format(k=k))
            culprit = commit(root, "stats: normalise the route")
            continue
        if number == 5:
            edit(root, FILE, ANCHOR, "        # one more request\n" + ANCHOR)
            message = "stats: comment the counter"
        elif number == 17:
            text = (root / FILE).read_text()
            start = text.index("    def add(self")
            end = text.index("\n    def ", start + 10)
            body = re.sub(r"(?<![\w])latencies\b", "samples", text[start:end])
            (root / FILE).write_text(text[:start] + body + text[end:])
            message = "stats: rename latencies to samples"
        else:
            notes = root / "CHANGES.md"
            notes.write_text((notes.read_text() if notes.exists() else "") + f"- change {number}\n")
            message = f"changelog entry {number}"
        commit(root, message)
    return base, culprit, git(root, "rev-parse", "HEAD")


def flagged(base: list[Run], head: list[Run], options: DetectOptions) -> set[str]:
    """Keys of the functions reported as regressed or newly hot."""
    comparison = compare_runs(base, head, options)
    return {c.key for c in comparison.changes if c.kind in (REGRESSION, NEW_HOT)}


def main() -> None:
    """Run every check and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=60, help="real runs per side")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20, help="runs per side per trial")
    parser.add_argument("--skip-mitigation", action="store_true")
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="cProfile's clock for the pools"
    )
    parser.add_argument("--k", type=int, help="the planted loop count (default: calibrated)")
    parser.add_argument("--save-pools", metavar="FILE", help="keep the real runs (pickle)")
    parser.add_argument("--load-pools", metavar="FILE", help="reuse runs saved with --k")
    args = parser.parse_args()
    options = DetectOptions()
    rng = random.Random(20261204)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="perfpilot-bench-") as folder:
        root = build_repo(Path(folder))
        k = calibrate(root, [], args.clock) if args.k is None else args.k
        base, culprit, head = twenty_commits(root, k)
        if args.load_pools:
            base_pool, head_pool = pickle.loads(Path(args.load_pools).read_bytes())
        else:
            base_pool, head_pool = runs_alternately(
                root, base, head, COMMAND, workload="bench", repeat=args.pool, clock=args.clock
            )
        if args.save_pools:
            Path(args.save_pools).write_bytes(pickle.dumps((base_pool, head_pool)))
        gained = statistics.median(r.share(TARGET) for r in head_pool) - statistics.median(
            r.share(TARGET) for r in base_pool
        )
        program = [
            statistics.median(r.duration or 0 for r in pool) for pool in (base_pool, head_pool)
        ]
        print(
            f"Workload: {' '.join(COMMAND)} (cProfile, {args.clock} clock);"
            f" pools of {args.pool} real runs per side"
        )
        print(
            f"Planted: loop x{k} in {TARGET}: own share +{gained:.2f} points"
            f" (median run {program[0]:.3f} s -> {program[1]:.3f} s)\n"
        )

        false_alarms = 0
        for _ in range(args.trials):
            sample = rng.sample(base_pool, 2 * args.repeat)
            false_alarms += bool(flagged(sample[: args.repeat], sample[args.repeat :], options))
        found = wrong = 0
        for _ in range(args.trials):
            hits = flagged(rng.sample(base_pool, args.repeat), rng.sample(head_pool, args.repeat),
                           options)  # fmt: skip
            found += TARGET in hits
            wrong += bool(hits - {TARGET})
        print("| check | trials | result | goal |")
        print("|---|---|---|---|")
        print(
            f"| A/A: any function reported | {args.trials} |"
            f" {100 * false_alarms / args.trials:.1f}%"
            " | <= 1% |"
        )
        print(
            f"| planted ~1% slowdown found | {args.trials} | {100 * found / args.trials:.1f}%"
            " | >= 95% |"
        )
        print(
            f"| planted: another function also reported | {args.trials} |"
            f" {100 * wrong / args.trials:.1f}% | - |"
        )

        report = RegressReport("bench", base, head, base_pool, head_pool)
        report.comparison = compare_runs(report.base_runs, report.head_runs, options)
        trace(report, root)
        suspects = [c.commit.sha for c in report.causes.get(TARGET, [])]
        static_rank = suspects.index(culprit) + 1 if culprit in suspects else None
        bisect_report(report, root, COMMAND, "cprofile", options)
        suspects = [c.commit.sha for c in report.causes.get(TARGET, [])]
        bisect_rank = suspects.index(culprit) + 1 if culprit in suspects else None
        print(
            f"| root cause among 20 commits, static ranking | 1 | rank {static_rank} of"
            f" {len(suspects)} suspects | 1 |"
        )
        print(f"| root cause with --bisect | 1 | rank {bisect_rank} | 1 |")

        from bench_defense_more import mitigation_check, moved_and_went_away

        for row in moved_and_went_away(root, head, k, args.repeat, options):
            print(row)
        if not args.skip_mitigation:
            for row in mitigation_check(root, report, base_pool):
                print(row)
    print(f"\n(total {time.perf_counter() - started:.0f} s on a loaded 2-core machine)")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
