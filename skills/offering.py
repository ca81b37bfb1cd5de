"""Which opportunities are offered: a skill measured not to win on real code is held back.

A skill whose corpus median (SKILL.md `measured-median`) is below MIN_MEDIAN is *unproven*.
Its opportunities are offered only when the user opts in (`check --include-unproven`, the
editor's `perfpilot.skills.includeUnproven`, the MCP tools' `include_unproven`), or when
verification measured that very fix faster on this function (skills/verdicts.py): evidence
about this code beats a median over other code. A workspace's `[tool.perfpilot]
include_unproven = false` turns the opt-in off; it cannot turn it on (the user's choice).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from perfpilot.skills.measured import MIN_MEDIAN
from perfpilot.skills.verdicts import verified_faster

if TYPE_CHECKING:
    from perfpilot.skills.runner import Found

OPT_IN = "--include-unproven"


def offered(found: Found, include_unproven: bool = False) -> bool:
    """Offer it? A proven or unmeasured skill, the opt-in, or this fix verified faster here."""
    return include_unproven or not found.skill.unproven or verified_faster(found)


def offered_only(found: Iterable[Found], include_unproven: bool = False) -> list[Found]:
    """The opportunities to offer, in their order."""
    return [f for f in found if offered(f, include_unproven)]


def held_back_reason(found: Found, opt_in: str = OPT_IN) -> str:
    """Why an opportunity of an unproven skill is not offered, and how to get it anyway."""
    measured = found.skill.measured
    figure = measured.describe() if measured is not None else "?"
    return (
        f"{found.skill.name} measured {figure} on the corpus (below {MIN_MEDIAN}x) and this fix"
        f" was not verified faster here; verify it, or pass {opt_in}"
    )
