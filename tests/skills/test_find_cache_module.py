"""The find cache and skills that read the whole module (PP110/PP111): fresh, and cheap."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from perfpilot.skills.registry import Skill
from perfpilot.skills.runner import FindCache, Target, find_opportunities
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source
from tests.skills.harness import skill_named

MODULE = textwrap.dedent(
    """\
    class _Lexer:
        def words(self, text):
            return [c for c in text if self.isword(c)]

        @classmethod
        def isword(cls, c):
            return c.isalpha()


    def helper(items):
        return sum(len(x) for x in items)
    """
)
OVERRIDE = (
    "\n\nclass _Other(_Lexer):\n    @classmethod\n    def isword(cls, c):\n        return True\n"
)


def find(text: str, path: Path, cache: FindCache, skills: list[Skill]) -> list[str]:
    path.write_text(text)
    targets = [Target(f) for f in index_source(text, str(path)).functions if not f.is_lambda]
    found = find_opportunities(text, str(path), targets, skills, facts_of_source(text), cache=cache)
    return sorted(f"{f.skill.code} {f.function.qualname}" for f in found)


def test_an_override_added_elsewhere_in_the_module_is_seen_through_the_cache(
    tmp_path: Path,
) -> None:
    cache, path = FindCache(), tmp_path / "module.py"
    skills = [skill_named("inline-trivial-method")]
    assert find(MODULE, path, cache, skills) == ["PP110 _Lexer.words"]
    # `words` is unchanged, but a subclass now overrides `isword`: inlining would be wrong.
    assert find(MODULE + OVERRIDE, path, cache, skills) == []


def test_an_edit_elsewhere_reruns_only_the_skills_that_read_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local, reading = skill_named("generator-to-map"), skill_named("inline-trivial-method")
    calls = {"local": 0, "reading": 0}
    for name, skill in (("local", local), ("reading", reading)):
        original = skill.transform.find

        def counted(parsed, _original=original, _name=name):  # type: ignore[no-untyped-def]
            calls[_name] += 1
            return _original(parsed)

        monkeypatch.setattr(skill.transform, "find", counted)
    cache, path = FindCache(), tmp_path / "module.py"
    skills = [local, reading]
    first = find(MODULE, path, cache, skills)
    assert first == ["PP110 _Lexer.words", "PP122 helper"]
    before = dict(calls)
    second = find(MODULE + "\n\nCONSTANT = 1\n", path, cache, skills)
    assert second == first
    assert (
        before["local"] > 0 and calls["local"] == before["local"]
    )  # function texts unchanged: all cached
    assert calls["reading"] > before["reading"]  # the module changed: looked at again
