"""How long verifying one fix takes on the bundled example, with the default budget (10 s).

Run: .venv/bin/python benchmarks/bench_verify.py [--repeats N] [--budget S]

The example is copied, profiled and captured once (`perfpilot profile --capture`, the default
25,000-line workload, 256 calls per hot function), in a private cache folder. Then every fix
opportunity of its hot functions is verified `--repeats` times, in rotation (fix 1, fix 2, ...,
fix 1, ...), each time from scratch (new replay subprocess, no cached verdict): the table shows
the median seconds per fix, and the verdict of the last repeat.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Capture the example once, then time the verification of each fix; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["XDG_CACHE_HOME"] = os.path.join(folder, "cache")
        os.environ["XDG_CONFIG_HOME"] = os.path.join(folder, "config")
        root = Path(folder) / "example"
        shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
        (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "perfpilot.server",
                "profile",
                "--capture",
                "--top",
                "8",
                "--",
                sys.executable,
                "workload.py",
            ],
            cwd=root,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        print(f"profile + capture: {time.perf_counter() - started:.2f} s")
        rows = measure(root, args.repeats, args.budget)
    print(f"\n{'fix':64} {'median s':>9} {'max s':>7}  verdict")
    for title, times, verdict in rows:
        print(f"{title[:64]:64} {statistics.median(times):9.2f} {max(times):7.2f}  {verdict}")


def measure(root: Path, repeats: int, budget: float) -> list[tuple[str, list[float], str]]:
    """(fix, seconds per repeat, last verdict) for every fix opportunity of the hot functions."""
    from perfpilot.skills.fixing import hot_evidence, scan_text
    from perfpilot.skills.registry import discover
    from perfpilot.skills.runner import build_fix
    from perfpilot.tools.config import load_settings
    from perfpilot.tools.edits import apply_edits
    from perfpilot.tools.profile_session import ProfileSession
    from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

    settings = load_settings(root)
    loaded = ProfileSession(str(root), settings).reload()
    assert loaded is not None
    skills = discover(root).with_transforms()
    jobs = []
    for path, hot in hot_evidence(loaded.result, settings.threshold).items():
        text = Path(path).read_text()
        for found in scan_text(text, path, hot, skills):
            fix = build_fix(text, found, root=str(root))
            if fix.applicable:
                title = f"{found.skill.code} {found.function.qualname}: {fix.title}"
                jobs.append(
                    (title, path, found.function.qualname, text, apply_edits(text, fix.edits))
                )
    times: dict[str, list[float]] = {title: [] for title, *_ in jobs}
    verdicts: dict[str, str] = {}
    for _ in range(repeats):
        for title, path, qualname, text, fixed in jobs:
            started = time.perf_counter()
            verdict = verify_change(root, path, qualname, text, fixed, VerifySettings(budget))
            times[title].append(time.perf_counter() - started)
            verdicts[title] = verdict.summary
    return [(title, times[title], verdicts[title]) for title, *_ in jobs]


if __name__ == "__main__":
    main()
