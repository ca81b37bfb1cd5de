"""A skill's measured effect on the real-code corpus (SKILL.md `metadata.measured-*`).

    metadata:
      measured-median: 1.12   # median speedup of the skill's verified fixes on the corpus
      measured-fixes: 7       # how many verified fixes that median is over

A skill whose median is below MIN_MEDIAN is *unproven*: its fixes are not offered unless the
user asks for them (`--include-unproven`, `perfpilot.skills.includeUnproven`) or verification
measured this very fix faster. A skill without the keys is unmeasured: offered, and labelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MEDIAN_KEY = "measured-median"
FIXES_KEY = "measured-fixes"
# Below this the corpus says the skill's fixes do not pay for the review they cost.
MIN_MEDIAN = 1.05


@dataclass(frozen=True, slots=True)
class Measured:
    """The median speedup of a skill's verified fixes, and how many fixes it is over."""

    median: float
    fixes: int | None  # None when SKILL.md gives the median only

    @property
    def proven(self) -> bool:
        """Whether the median clears MIN_MEDIAN (else the skill is not offered by default)."""
        return self.median >= MIN_MEDIAN

    def describe(self) -> str:
        """`1.12x over 7 fixes`, as `perfpilot skills` shows it."""
        over = f" over {self.fixes} fix{'es' if self.fixes != 1 else ''}" if self.fixes else ""
        return f"{self.median:.2f}x{over}"


def measured_of(metadata: dict[str, object]) -> tuple[Measured | None, list[str]]:
    """The figures in a SKILL.md's metadata, and what is wrong with them (never raises).

    A bad value is reported and the skill counts as unmeasured: a typo in a figure must not
    hide a skill, nor gate one. Numbers may be written as strings (an exported skill's
    metadata is all strings, as the Agent Skills specification wants).
    """
    problems: list[str] = []
    median = _number(metadata.get(MEDIAN_KEY), MEDIAN_KEY, problems, integer=False)
    fixes = _number(metadata.get(FIXES_KEY), FIXES_KEY, problems, integer=True)
    if median is None:
        if fixes is not None:
            problems.append(f"metadata.{FIXES_KEY} without metadata.{MEDIAN_KEY}: ignored")
        return None, problems
    return Measured(median, int(fixes) if fixes is not None else None), problems


def _number(value: object, key: str, problems: list[str], *, integer: bool) -> float | None:
    if value is None:
        return None
    kind = "a whole number" if integer else "a number"
    outcome = "ignored" if integer else "skill unmeasured"
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number < 0:
        problems.append(f"metadata.{key} must be {kind} >= 0, not {value!r}: {outcome}")
        return None
    if integer and number != int(number):
        problems.append(f"metadata.{key} must be {kind} >= 0, not {value!r}: {outcome}")
        return None
    return number
