"""Skill triggers (SKILL.md `metadata.trigger`) never hide a fix: the same opportunities with them.

The whole standard library: `benchmarks/skills_corpus.py --triggers` (no miss on 3.11). Here a
sample of it, small enough for CI.
"""

from __future__ import annotations

import sysconfig
from dataclasses import replace
from pathlib import Path

import pytest

from perfpilot.skills.registry import discover, load_skill
from perfpilot.skills.skill_spec import validate_skill_folder
from perfpilot.skills.triggers import Trigger, trigger_of
from tests.skills.test_corpus import corpus_module

SAMPLE = 30  # files spread over the whole stdlib (~700 functions)


def test_every_trigger_finds_what_its_skill_finds_on_a_stdlib_sample() -> None:
    corpus = corpus_module()
    files = corpus.corpus_files(Path(sysconfig.get_paths()["stdlib"]), SAMPLE)
    skills = discover(packages=False).with_transforms()
    assert sum(s.trigger is not None for s in skills) >= 15  # the lever is really in place
    check = corpus.check_triggers(files, skills, count=False)
    assert not check.misses, "\n".join(check.misses)
    # The triggers really spare work: most skills run on a small share of the functions.
    spared = [name for name, runs in check.triggered.items() if runs < check.functions / 4]
    assert len(spared) >= 10, check.triggered


def test_a_trigger_that_hides_a_fix_is_caught(tmp_path: Path) -> None:
    """The check above can fail: a wrong trigger on a skill that finds something is a miss."""
    corpus = corpus_module()
    module = tmp_path / "m.py"
    module.write_text('def f(s):\n    s = s.replace("&", "&amp;")\n    return s\n')
    skill = discover(packages=False).by_name("guard-noop-replace")
    assert skill is not None
    wrong = replace(skill, trigger=Trigger((("re.sub",),)))
    check = corpus.check_triggers([module], [wrong])
    assert check.found["guard-noop-replace"] == 1 and len(check.misses) == 1, check.misses


@pytest.mark.parametrize(
    ("value", "groups", "problem"),
    [
        ("for|while +=", (("for", "while"), ("+=",)), None),
        ("replace", (("replace",),), None),
        ("", None, "must be substrings"),
        ("a||b", None, "empty alternative"),
        (7, None, "must be substrings"),
    ],
)
def test_trigger_syntax(value: object, groups: object, problem: str | None) -> None:
    trigger, problems = trigger_of({"trigger": value})
    assert (trigger.groups if trigger else None) == groups
    assert (problem in problems[0]) if problem else not problems


def test_a_malformed_trigger_is_reported_and_the_skill_runs_everywhere(tmp_path: Path) -> None:
    folder = tmp_path / "my-skill"
    folder.mkdir()
    (folder / "SKILL.md").write_text(
        "---\nname: my-skill\ndescription: Use it.\nmetadata:\n  code: PP150\n"
        '  trigger: "a|"\n---\n# Body\nWords.\n'
    )
    (folder / "transform.py").write_text("")
    problems = validate_skill_folder(folder)
    assert any("empty alternative" in p.message for p in problems), problems
    skill = load_skill(folder / "SKILL.md", "package demo", trusted=True)
    assert skill.trigger is None and skill.may_fire("anything")
    assert any("empty alternative" in w for w in skill.warnings)
