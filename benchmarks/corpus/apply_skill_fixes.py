"""Apply every fix of chosen skills to a corpus library, run its test suite, put the sources back.

Run: PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/apply_skill_fixes.py LIBRARY
     --codes PP120,PP121 [--keep]

What `perfpilot check --all --fix --unsafe-fixes` would do for these skills only: each file of
the library's package is fixed one opportunity at a time (found again after each edit, every
fix through the whole validation pipeline), display-only fixes left out. Then the library's
own offline test suite runs (manifest.toml's command) and the table prints fixes per code and
tests before/after. The original files are restored afterwards unless `--keep`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from perfpilot.skills.registry import discover
from perfpilot.skills.runner import Target, build_fix, find_opportunities
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.model import Applicability
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_config import Library, load_libraries  # noqa: E402
from run import run_tests  # noqa: E402

MAX_FIXES_PER_FILE = 200


def fix_file(path: Path, codes: set[str], root: Path) -> Counter[str]:
    """Apply the skills' applicable fixes to one file, one at a time; count them per code."""
    skills = [s for s in discover(workspace=None, packages=False).skills if s.code in codes]
    applied: Counter[str] = Counter()
    refused: set[tuple[str, str, str]] = set()
    for _ in range(MAX_FIXES_PER_FILE):
        text = path.read_text(encoding="utf-8")
        index = index_source(text, str(path))
        targets = [Target(f) for f in index.functions if not f.is_lambda]
        found = find_opportunities(text, str(path), targets, skills, facts_of_source(text))
        for item in found:
            mark = (item.function.qualname, item.skill.code or "", item.opportunity.title)
            if mark in refused:
                continue
            fix = build_fix(text, item, root=str(root))
            if not fix.applicable or fix.applicability < Applicability.UNSAFE:
                refused.add(mark)
                continue
            path.write_text(apply_edits(text, fix.edits), encoding="utf-8")
            applied[item.skill.code or "?"] += 1
            break
        else:
            return applied
    return applied


def main() -> int:
    """Fix, test, restore; print the table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("--codes", required=True, help="comma-separated skill codes")
    parser.add_argument("--keep", action="store_true", help="leave the fixed sources in place")
    parser.add_argument("--skip-before", action="store_true", help="do not run tests before")
    args = parser.parse_args()
    library: Library = load_libraries([args.library])[0]
    codes = set(args.codes.split(","))
    before = None if args.skip_before else run_tests(library)
    originals = {p: p.read_text(encoding="utf-8") for p in library.package_dir.rglob("*.py")}
    applied: Counter[str] = Counter()
    changed = 0
    try:
        for path in sorted(originals):
            if "tests" in path.relative_to(library.package_dir).parts:
                continue
            counts = fix_file(path, codes, library.root)
            applied += counts
            changed += bool(counts)
        after = run_tests(library)
    finally:
        if not args.keep:
            for path, text in originals.items():
                if path.read_text(encoding="utf-8") != text:
                    path.write_text(text, encoding="utf-8")
    per_code = ", ".join(f"{code}×{n}" for code, n in sorted(applied.items())) or "none"
    print("| library | fixes applied | files changed | tests before | tests after |")
    print("|---|---|---|---|---|")
    print(
        f"| {library.name} | {per_code} | {changed} | {before.cell() if before else 'n/a'}"
        f" | {after.cell()} |"
    )
    return 0 if not after.failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
