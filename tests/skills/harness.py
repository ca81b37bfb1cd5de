"""Before/after/should-not-fire cases for one skill, run through the real pipeline."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

from perfpilot.skills.api import FunctionSource, parse_function
from perfpilot.skills.registry import Skill, discover
from perfpilot.skills.runner import Found, Target, build_fix, find_opportunities
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.model import Applicability, Fix
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source

# The style stage lints with this project configuration (a strict, common selection).
RUFF_CONFIG = """\
[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B"]
"""


@dataclass(frozen=True)
class Case:
    """A module before, the module after the first fix (None: the skill must not fire)."""

    name: str
    before: str
    after: str | None = None
    applicability: Applicability | None = None  # expected; None: the skill's own claim
    call: str | None = None  # an expression evaluated in both modules: results must agree
    refused: str | None = None  # the fix is found but refused: a stage:reason prefix

    def __str__(self) -> str:
        return self.name


def skill_named(name: str) -> Skill:
    """A built-in skill; fails the test if it does not load."""
    found = discover(workspace=None, packages=False)
    skill = found.by_name(name)
    assert skill is not None and skill.transform is not None, found.problems
    return skill


def opportunities(skill: Skill, text: str, path: Path) -> list[Found]:
    """What the skill finds in every function of `text` (profile-guidance off)."""
    index = index_source(text, str(path))
    targets = [Target(function) for function in index.functions if not function.is_lambda]
    return find_opportunities(text, str(path), targets, [skill], facts_of_source(text))


def run_case(skill: Skill, case: Case, tmp_path: Path) -> tuple[str, Fix | None]:
    """Check one case end to end; returns the fixed text (or the original) and the fix."""
    (tmp_path / "pyproject.toml").write_text(RUFF_CONFIG)
    path = tmp_path / "module.py"
    before = textwrap.dedent(case.before)
    path.write_text(before)
    found = opportunities(skill, before, path)
    if case.after is None and case.refused is None:
        assert not found, f"{case}: should not fire, found {[f.opportunity for f in found]}"
        return before, None
    assert found, f"{case}: the skill found nothing"
    fix = build_fix(before, found[0], root=str(tmp_path))
    if case.refused is not None:
        assert not fix.applicable, f"{case}: expected a refusal, got {fix}"
        assert fix.refusal and fix.refusal.startswith(case.refused), fix.refusal
        return before, fix
    assert fix.applicable, f"{case}: refused: {fix.refusal}"
    after = apply_edits(before, fix.edits)
    assert after == textwrap.dedent(case.after or ""), f"{case}: got\n{after}"
    expected = case.applicability if case.applicability is not None else skill.applicability
    assert fix.applicability == expected, f"{case}: {fix.applicability} != {expected}"
    if case.call is not None:
        assert _evaluate(before, case.call) == _evaluate(after, case.call), f"{case}: behaviour"
    return after, fix


def guard_verdict(name: str, before: str, after: str) -> str | None:
    """Skill `name`'s guard on a hand-written rewrite of the first opportunity in `before`."""
    transform = skill_named(name).transform
    assert transform is not None
    old, new = textwrap.dedent(before), textwrap.dedent(after)
    source = FunctionSource("m.py", "f", 1, old.count("\n"), old, facts_of_source(old))
    parsed = parse_function(source)
    rewritten = parse_function(replace(source, text=new, end_line=new.count("\n")))
    return transform.guard(parsed, rewritten, transform.find(parsed)[0])


def _evaluate(source: str, expression: str) -> object:
    """Run a module's text (test data written here) and evaluate an expression in it."""
    namespace: dict[str, object] = {"__name__": "case_module"}
    exec(compile(source, "case_module.py", "exec"), namespace)
    try:
        return ("value", eval(expression, namespace))
    except Exception as exc:  # noqa: BLE001 - the same exception on both sides is agreement
        return ("raised", type(exc).__name__, str(exc))
