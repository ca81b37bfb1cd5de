"""Run the validation stages in order; each may only lower a fix's applicability or refuse it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from perfpilot.tools.model import Applicability, StageResult


@dataclass(frozen=True, slots=True)
class Validation:
    """The verdict on a proposed text: the final text (imports sorted, formatted) or a refusal."""

    text: str | None
    applicability: Applicability | None
    stages: tuple[StageResult, ...]

    @property
    def refusal(self) -> str | None:
        """`stage: reason` of the first stage that refused, if any."""
        failed = next((s for s in self.stages if not s.passed), None)
        return f"{failed.stage}: {failed.reason}" if failed else None


def validate_edit(
    original: str,
    proposed: str,
    path: str,
    *,
    claim: Applicability,
    root: str | None = None,
    python: tuple[int, int] | None = None,
    guard: Callable[[], str | None] | None = None,
    transform: StageResult | None = None,
) -> Validation:
    """Stages 1-4 of DESIGN.md: transform, syntax, style, the skill's own guard.

    `guard` is the skill's static check, called only when the earlier stages passed.
    """
    # The stages load with the first edit validated: a report (`check` without --fix) has none,
    # and the style stage brings subprocess and ruff's configuration reading with it.
    from perfpilot.tools.validate.style import check_style
    from perfpilot.tools.validate.syntax import check_syntax

    stages: list[StageResult] = [transform or StageResult("transform", True, "applied")]
    if not stages[0].passed:
        return Validation(None, None, tuple(stages))
    if proposed == original:
        stages.append(StageResult("syntax", False, "the edit changes nothing"))
        return Validation(None, None, tuple(stages))
    syntax = check_syntax(proposed, path, python)
    stages.append(syntax)
    if not syntax.passed:
        return Validation(None, None, tuple(stages))
    style = check_style(original, proposed, path, root)
    stages.append(style.result)
    if not style.result.passed:
        return Validation(None, None, tuple(stages))
    if style.text != proposed:
        # Formatting or import sorting rewrote text: it must still be valid Python.
        again = check_syntax(style.text, path, python)
        if not again.passed:
            stages.append(StageResult("style", False, f"formatted text: {again.reason}"))
            return Validation(None, None, tuple(stages))
    if guard is not None:
        try:
            reason = guard()
        except Exception as exc:  # noqa: BLE001 - a crashing guard proves nothing: refuse
            reason = f"the guard failed ({type(exc).__name__}: {exc})"
        stages.append(StageResult("guard", reason is None, reason or "passed"))
        if reason is not None:
            return Validation(None, None, tuple(stages))
    return Validation(style.text, claim, tuple(stages))
