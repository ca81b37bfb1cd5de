"""Verify a corpus function's fixes one by one, then all together, on its recorded calls.

Run: PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/verify_together.py
     diff_match_patch diff_match_patch/diff_match_patch.py::diff_match_patch.diff_bisect
     [--codes PP121] [--repeat 2] [--budget 10] [--calls 256]

`run.py` only combines fixes that were each verified faster. Micro-fixes that are each
"no-change" (a few per cent, under the bar) could still clear it together; this measures that,
with the product's own engine: the function's calls are captured while the library's workload
runs (`perfpilot capture`), every fix `check` offers there (optionally only some codes) is
built as `check` builds it, overlapping ones are left out, and each fix alone and then all of
them together are verified (`perfpilot verify`: behaviour on every recorded call, interleaved
timing, the same bar). Prints one row per verification. The library's sources are not changed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_config import Library, load_libraries  # noqa: E402
from verify_step import with_live_calls  # noqa: E402

from perfpilot.skills.fixing import scan_text  # noqa: E402
from perfpilot.skills.registry import discover  # noqa: E402
from perfpilot.skills.runner import build_fix  # noqa: E402
from perfpilot.tools.edits import apply_edits  # noqa: E402
from perfpilot.tools.model import TextEdit  # noqa: E402
from perfpilot.tools.validate.syntax import project_python  # noqa: E402
from perfpilot.tools.verify.capture import CaptureTarget, run_capture  # noqa: E402
from perfpilot.tools.verify.model import Verdict  # noqa: E402
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change  # noqa: E402


def function_fixes(
    library: Library, path: str, qualname: str, codes: set[str]
) -> list[tuple[str, tuple[TextEdit, ...]]]:
    """(title, edits) of every applicable fix `check` offers in the function, no overlaps."""
    root = library.root
    absolute = str(root / path)
    text = Path(absolute).read_text(encoding="utf-8")
    python = project_python(str(root))
    chosen: list[tuple[str, tuple[TextEdit, ...]]] = []
    for found in scan_text(text, absolute, None, discover(root).with_transforms(), python):
        code = str(found.skill.code)
        if found.function.qualname != qualname or (codes and code not in codes):
            continue
        fix = build_fix(text, found, root=str(root), python=python)
        if not fix.applicable:
            continue
        try:
            earlier = [e for _, edits in chosen for e in edits]
            combined = apply_edits(text, [*earlier, *fix.edits])
            compile(combined, path, "exec")
        except (ValueError, SyntaxError):
            print(f"left out (overlaps): {code} {fix.title}", file=sys.stderr)
            continue
        chosen.append((f"{code} {fix.title}", fix.edits))
    return chosen


def verdict_row(label: str, verdict: Verdict) -> str:
    """One table row: what was verified, the verdict and its figures."""
    speed = verdict.speed
    if speed is None:
        return f"| {label} | {verdict.kind.name.lower()} | - | - | - | {verdict.summary} |"
    return (
        f"| {label} | {verdict.kind.name.lower()} | {speed.speedup:.3f}x"
        f" [{speed.low:.3f}-{speed.high:.3f}] | {speed.required:.3f}x | {speed.noise:.1%}"
        f" | {speed.calls} calls, {speed.rounds} rounds |"
    )


def main() -> int:
    """Capture the function, verify each fix, then all together; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("function", help="PATH::QUALNAME, the path inside the unpacked sdist")
    parser.add_argument("--codes", default="", help="only these codes, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="verifications of each (default 1)")
    parser.add_argument("--budget", type=float, default=10.0, help="verify seconds (default 10)")
    parser.add_argument("--calls", type=int, default=256, help="calls captured (default 256)")
    args = parser.parse_args()
    (library,) = load_libraries([args.library])
    path, _, qualname = args.function.rpartition("::")
    codes = {c.strip() for c in args.codes.split(",") if c.strip()}
    fixes = function_fixes(library, path, qualname, codes)
    if not fixes:
        print(f"no applicable fix in {args.function}", file=sys.stderr)
        return 2
    root = library.root
    absolute = str(root / path)
    run_capture(
        root,
        [str(library.python), str(library.workload)],
        [CaptureTarget(absolute, qualname)],
        root,
        calls=args.calls,
        stdout=subprocess.DEVNULL,
    )
    settings = with_live_calls(library, VerifySettings(budget=args.budget), args.calls)
    text = Path(absolute).read_text(encoding="utf-8")
    candidates = [(title, list(edits)) for title, edits in fixes]
    if len(fixes) > 1:
        candidates.append((f"all {len(fixes)} together", [e for _, ed in fixes for e in ed]))
    print(f"`{qualname}` ({args.library}), budget {args.budget:g} s, {args.calls} calls\n")
    print("| fix | verdict | speedup [95% interval] | bar | A/A noise | measured on |")
    print("|---|---|---|---|---|---|")
    for title, edits in candidates:
        for _ in range(args.repeat):
            fixed = apply_edits(text, edits)
            verdict = verify_change(root, absolute, qualname, text, fixed, settings)
            print(verdict_row(title, verdict), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
