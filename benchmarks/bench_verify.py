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
import statistics
import sys
import tempfile
import time
from pathlib import Path

from verify_rounds import Change, private_example, run_perfpilot, verify_in_rotation


def main() -> None:
    """Capture the example once, then time the verification of each fix; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = private_example(Path(folder))
        started = time.perf_counter()
        run_perfpilot(
            root, ["profile", "--capture", "--top", "8", "--", sys.executable, "workload.py"]
        )
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

    settings = load_settings(root)
    loaded = ProfileSession(str(root), settings).reload()
    assert loaded is not None
    skills = discover(root).with_transforms()
    changes = []
    for path, hot in hot_evidence(loaded.result, settings.threshold).items():
        text = Path(path).read_text()
        for found in scan_text(text, path, hot, skills):
            fix = build_fix(text, found, root=str(root))
            if fix.applicable:
                title = f"{found.skill.code} {found.function.qualname}: {fix.title}"
                fixed = apply_edits(text, fix.edits)
                changes.append(Change(title, path, found.function.qualname, text, fixed))
    times: dict[str, list[float]] = {change.title: [] for change in changes}
    verdicts: dict[str, str] = {}
    for change, seconds, verdict in verify_in_rotation(
        root, changes, repeats * len(changes), budget
    ):
        times[change.title].append(seconds)
        verdicts[change.title] = verdict.summary
    return [(change.title, times[change.title], verdicts[change.title]) for change in changes]


if __name__ == "__main__":
    main()
