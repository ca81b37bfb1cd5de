"""`perfpilot skills` states what decides each skill's applicability, and the words are true.

The levels a SKILL.md declares (`applicability-default`, `applicability-<level>-when`) must be
exactly the levels its transform gives on the skill's own before/after cases in tests/skills/:
a new case that reaches another level, or a declared level that no case reaches, fails here.
"""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path

import pytest

from perfpilot.skills.registry import Skill, discover
from perfpilot.tools.model import Applicability
from tests.cli.test_check import perfpilot
from tests.skills.harness import Case, opportunities, skill_named

SKILLS = [s.name for s in discover(packages=False).with_transforms()]


def cases_of(name: str) -> list[tuple[Skill, Case]]:
    """The fixing cases of one skill's test module, each with the skill as that test runs it."""
    module = importlib.import_module(f"tests.skills.test_{name.replace('-', '_')}")
    skill = skill_named(name)
    found = []
    for value in vars(module).values():
        if not isinstance(value, list):
            continue
        for case in value:
            if isinstance(case, Case) and case.after is not None and case.refused is None:
                if hasattr(module, "skill_for"):  # a skill whose decision depends on Python
                    version = module.VERSION.get(case.name, (3, 10))
                    found.append((module.skill_for(version), case))
                else:
                    found.append((skill, case))
    return found


def declared(skill: Skill) -> set[Applicability]:
    return {level for level, _ in skill.applicability_when} or {skill.applicability}


@pytest.mark.parametrize("name", SKILLS)
def test_declared_levels_are_the_levels_the_transform_gives(name: str, tmp_path: Path) -> None:
    observed: dict[Applicability, str] = {}
    for skill, case in cases_of(name):
        path = tmp_path / "module.py"
        before = textwrap.dedent(case.before)
        path.write_text(before)
        found = opportunities(skill, before, path)
        assert found, f"{case}: nothing found"
        observed.setdefault(found[0].claim, case.name)
    skill = skill_named(name)
    assert set(observed) == declared(skill), (
        f"{name}: SKILL.md declares {sorted(d.name for d in declared(skill))}, its cases give"
        f" {observed}"
    )
    assert max(observed) == skill.applicability


def test_skills_listing_shows_what_decides_applicability(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    done = perfpilot("skills", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for name in SKILLS:
        skill = skill_named(name)
        usual, _, conditions = skill.applicability_rule().partition("; ")
        index = next(i for i, line in enumerate(lines) if line.split()[1:2] == [name])
        assert lines[index].split()[2] == usual, lines[index]
        if conditions:
            assert lines[index + 1].strip() == conditions
    set_line = next(i for i, line in enumerate(lines) if "set-membership" in line)
    assert lines[set_line].split()[2] == "unsafe"
    assert lines[set_line + 1].strip().startswith("safe when the container is a literal")
