"""Apply only the fixes of chosen skill codes to files of a corpus copy (to test one skill alone).

`perfpilot check --fix` applies every skill's safe fixes; measuring one new skill on a corpus
library (its test suite, its workload) needs that skill's fixes only. Each fix goes through
the full validation pipeline, one at a time, re-reading the file after each.

    python benchmarks/corpus/apply_codes.py PP116,PP117 src/jinja2/environment.py ... [--unsafe]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from perfpilot.skills.registry import discover
from perfpilot.skills.runner import Target, build_fix, find_opportunities
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.model import Applicability
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source


def apply_file(path: Path, codes: set[str], unsafe: bool) -> list[str]:
    """Apply every fix of `codes` in `path` (safe only unless `unsafe`); one line per fix."""
    skills = [s for s in discover(workspace=None, packages=False).skills if s.code in codes]
    floor = Applicability.UNSAFE if unsafe else Applicability.SAFE
    done: list[str] = []
    skipped: set[tuple[str, str, str]] = set()
    for _ in range(100):  # each round applies one fix and re-reads the file
        text = path.read_text(encoding="utf-8")
        index = index_source(text, str(path))
        targets = [Target(f) for f in index.functions if not f.is_lambda]
        found = find_opportunities(text, str(path), targets, skills, facts_of_source(text))
        pending = [
            f
            for f in found
            if (f.skill.code, f.function.qualname, f.opportunity.title) not in skipped
        ]
        if not pending:
            break
        first = pending[0]
        fix = build_fix(text, first, root=str(path.parent))
        label = f"{path}:{first.opportunity.line} {first.skill.code} {first.function.qualname}"
        if not fix.applicable or fix.applicability < floor:
            skipped.add((first.skill.code, first.function.qualname, first.opportunity.title))
            done.append(f"{label}: not applied ({fix.refusal or fix.applicability.name})")
            continue
        path.write_text(apply_edits(text, fix.edits), encoding="utf-8")
        done.append(f"{label}: applied ({fix.applicability.name.lower()})")
    return done


def main() -> int:
    """Parse arguments and apply."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("codes", help="comma-separated finding codes, e.g. PP115,PP116")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--unsafe", action="store_true", help="apply unsafe fixes too")
    args = parser.parse_args()
    codes = {c.strip() for c in args.codes.split(",") if c.strip()}
    for path in args.files:
        if not path.is_file():
            print(f"apply_codes: {path}: no such file", file=sys.stderr)
            return 2
        for line in apply_file(path, codes, args.unsafe):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
