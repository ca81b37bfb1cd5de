"""`perfpilot skills`: list the skills, print one's SKILL.md, or export them as Agent Skills."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from perfpilot.server.cli import EXIT_CLEAN, UsageError
from perfpilot.server.render import display_path

if TYPE_CHECKING:
    from perfpilot.skills.registry import Skill


def run_skills(args: argparse.Namespace) -> int:
    """`perfpilot skills [NAME]`: one line per skill, or one skill's text."""
    from perfpilot.skills.measured import MIN_MEDIAN
    from perfpilot.skills.registry import discover
    from perfpilot.tools.config import find_workspace_root

    root = find_workspace_root(Path.cwd())
    if args.name == "export":
        return run_skills_export(args, root)
    if args.directory:
        raise UsageError(f"unexpected argument {args.directory!r}")
    found = discover(root)
    for problem in found.problems:
        print(f"perfpilot: warning: skill {problem}", file=sys.stderr)
    if args.name:
        skill = found.by_name(args.name) or found.by_code(args.name.upper())
        if skill is None:
            raise UsageError(f"no skill named {args.name!r} (see `perfpilot skills`)")
        sys.stdout.write(skill.path.read_text(encoding="utf-8"))
        return EXIT_CLEAN
    for skill in found.skills:
        how = "transform" if skill.transform is not None else "words only"
        usual, _, conditions = skill.applicability_rule().partition("; ")
        print(
            f"{skill.code or '-':6} {skill.name:28} {usual:12} {how:10}"
            f" {_measured_cell(skill):22} {skill.origin}"
            f"  {skill.description.split('. ')[0].rstrip('.')}"
        )
        if conditions:  # what lowers or raises a fix's applicability, from SKILL.md
            print(f"{'':6} {conditions}")
        if skill.unproven:
            print(
                f"{'':6} not offered by default: measured below {MIN_MEDIAN}x on the corpus"
                " (--include-unproven offers it; a fix verified faster is offered anyway)"
            )
    return EXIT_CLEAN


def _measured_cell(skill: Skill) -> str:
    """`1.12x over 7 fixes`, or `unmeasured` (a skill with a transform only)."""
    if skill.measured is not None:
        return skill.measured.describe()
    return "unmeasured" if skill.transform is not None else "-"


def run_skills_export(args: argparse.Namespace, root: Path) -> int:
    """`perfpilot skills export DIR`: the built-in and installed skills as Agent Skills."""
    from perfpilot.skills.agent_skills import export_skills
    from perfpilot.skills.registry import discover

    if not args.directory:
        raise UsageError("skills export: where to? perfpilot skills export DIR")
    found = discover(root, transforms=False)
    for problem in found.problems:
        print(f"perfpilot: warning: skill {problem}", file=sys.stderr)
    skills = [s for s in found.skills if s.origin != "workspace"]
    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{args.directory}: not a directory")
    try:
        folders = export_skills(skills, target)
    except (OSError, ValueError) as exc:
        raise UsageError(f"skills export: {exc}") from None
    for folder in folders:
        print(display_path(str(folder), Path.cwd()))
    print(
        f"perfpilot: wrote {len(folders)} Agent Skills folders to {args.directory}", file=sys.stderr
    )
    return EXIT_CLEAN
