"""A skill's cheap trigger (SKILL.md `metadata.trigger`): text a function must hold to run on it.

    metadata:
      trigger: "for|while +="   # (`for` or `while`) and `+=` must appear in the function's text

Space-separated groups, all of which must match; within a group, `|`-separated substrings, any
of which may. The test runs on the function's text as it stands in the file (decorators,
comments and strings included) before libcst parses it or the skill's transform is imported:
most skills look for one call or one statement kind, which most functions never spell out.

A trigger must be conservative: every function in which the skill can find something contains
it (a keyword, an operator token, a called name: text that libcst's nodes are made of). A skill
without a trigger runs on every function. tests/skills/test_triggers.py checks each trigger
against the skill itself over a sample of the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perfpilot.skills.transform_loading import TransformError

if TYPE_CHECKING:
    from perfpilot.skills.registry import Skill

TRIGGER_KEY = "trigger"


@dataclass(frozen=True, slots=True)
class Trigger:
    """All of `groups` must match; a group matches when any of its substrings is in the text."""

    groups: tuple[tuple[str, ...], ...]

    def matches(self, text: str) -> bool:
        """Whether the skill can possibly find something in a function of this text."""
        return all(any(part in text for part in group) for group in self.groups)

    def __str__(self) -> str:
        return " ".join("|".join(group) for group in self.groups)


def trigger_of(metadata: dict[object, object]) -> tuple[Trigger | None, list[str]]:
    """The trigger SKILL.md declares (None: none, the skill always runs) and what is wrong with it.

    A malformed trigger is dropped (the skill then runs everywhere, as without one): a typo
    must never hide a fix.
    """
    value = metadata.get(TRIGGER_KEY)
    if value is None:
        return None, []
    if not isinstance(value, str) or not value.split():
        return None, [f"metadata.{TRIGGER_KEY} must be substrings separated by spaces and `|`"]
    groups = tuple(tuple(value_part.split("|")) for value_part in value.split())
    if any("" in group for group in groups):
        return None, [f"metadata.{TRIGGER_KEY} {value!r} has an empty alternative (`||`, `|`)"]
    return Trigger(groups), []


def skills_to_run(skills: Sequence[Skill], text: str, version: tuple[int, int]) -> list[Skill]:
    """The skills whose trigger is in `text`, their transforms imported, that run on `version`.

    A transform that cannot be imported is left out (its loader keeps the error, which the
    surface reports once); the other skills still run.
    """
    active = []
    for skill in skills:
        if not skill.may_fire(text) or (skill.loader and skill.loader.error):
            continue  # not here, or failed to import before
        try:
            transform = skill.transform
        except TransformError:
            continue
        if transform is None or version < transform.min_python:
            continue
        if transform.max_python is None or version <= transform.max_python:
            active.append(skill)
    return active
