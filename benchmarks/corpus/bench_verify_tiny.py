"""Verdicts on tiny functions (under ~1 us a call): repeatable, and never "faster" for A/A.

A function of 0.1-0.3 us pays as much again for the timer in every timed call, which pulls a
fix's measured ratio towards 1 (issue 12: mistune's `escape` with PP148 measured 1.13x
[1.10-1.16] in one run and 1.18x [1.14-1.21] in the next, against a bar of 1.10x). Each
library's workload is captured once; then each function's fix (built as `perfpilot check`
builds it, from the skill with that code) is verified `--trials` times, and the function
against its own source (A/A) as often. Prints per function the fix's verdicts, median speedup,
lowest and highest lower bound, and the A/A false-"faster" count.

    PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/bench_verify_tiny.py \
        [--trials 5] [--budget 10] [--calls 256]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_config import load_libraries  # noqa: E402

# library -> (path inside the package's parent folder, function, code of the fix to verify)
FUNCTIONS = {
    "mistune": (
        ("mistune/util.py", "escape", "PP148"),
        ("mistune/util.py", "expand_leading_tab", ""),
    ),
    "dateutil": (
        ("dateutil/parser/_parser.py", "_resultbase.__len__", "PP132"),
        ("dateutil/parser/_parser.py", "_timelex.get_token", "PP110"),
    ),
}


def _fixed_text(root: Path, path: Path, qualname: str, code: str) -> str | None:
    """The module text with the fix of skill `code` in `qualname`, as `check` builds it."""
    from perfpilot.skills.fixing import scan_text
    from perfpilot.skills.registry import discover
    from perfpilot.skills.runner import build_fix
    from perfpilot.tools.edits import apply_edits
    from perfpilot.tools.validate.syntax import project_python

    text = path.read_text(encoding="utf-8")
    skills = discover(root).with_transforms()
    python = project_python(str(root))
    for found in scan_text(text, str(path), None, skills, python):
        if found.function.qualname == qualname and str(found.skill.code) == code:
            fix = build_fix(text, found, root=str(root), python=python)
            return apply_edits(text, fix.edits) if fix.applicable else None
    return None


def main() -> None:
    """Capture, verify each fix and each A/A `--trials` times, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--budget", type=float, default=10.0)
    parser.add_argument("--calls", type=int, default=256)
    args = parser.parse_args()
    from perfpilot.tools.verify.capture import CaptureTarget, run_capture
    from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

    cache = tempfile.mkdtemp(prefix="perfpilot-tiny-")
    os.environ["XDG_CACHE_HOME"] = os.path.join(cache, "cache")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(cache, "config")
    rows = []
    started = time.perf_counter()
    for library in load_libraries(list(FUNCTIONS)):
        package = library.package_dir.parent
        chosen = FUNCTIONS[library.name]
        targets = [CaptureTarget(str(package / p), q) for p, q, _ in chosen]
        run_capture(
            library.root,
            [str(library.python), str(library.workload)],
            targets,
            library.root,
            calls=args.calls,
            stdout=subprocess.DEVNULL,
        )
        for target, (_, _, code) in zip(targets, chosen, strict=True):
            text = Path(target.path).read_text(encoding="utf-8")
            fixed = _fixed_text(library.root, Path(target.path), target.qualname, code)
            versions = {"A/A": text} | ({code: fixed} if code and fixed else {})
            for label, other in versions.items():
                counts: collections.Counter[str] = collections.Counter()
                speedups, lows, per_call = [], [], 0.0
                for _ in range(args.trials):
                    verdict = verify_change(
                        library.root,
                        target.path,
                        target.qualname,
                        text,
                        other,
                        VerifySettings(args.budget),
                    )
                    counts[verdict.label] += 1
                    if verdict.speed is not None:
                        speedups.append(verdict.speed.speedup)
                        lows.append(verdict.speed.low)
                        per_call = verdict.speed.original_us
                row = (library.name, target.qualname, label, counts, speedups, lows, per_call)
                rows.append(row)
    seconds = time.perf_counter() - started
    print(
        "| library | function | fix | us a call | trials | verdicts | median speedup |"
        " lower bound min–max |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, qualname, label, counts, speedups, lows, per_call in rows:
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        median = f"{statistics.median(speedups):.2f}x" if speedups else "-"
        bounds = f"{min(lows):.2f}–{max(lows):.2f}" if lows else "-"
        print(
            f"| {name} | {qualname} | {label} | {per_call:.2f} | {sum(counts.values())} |"
            f" {verdicts} | {median} | {bounds} |"
        )
    aa = [r for r in rows if r[2] == "A/A"]
    trials = sum(sum(r[3].values()) for r in aa)
    faster = sum(r[3]["faster"] for r in aa)
    print(f"\nA/A false 'faster': {faster} of {trials}, {seconds:.0f} s in all")


if __name__ == "__main__":
    main()
