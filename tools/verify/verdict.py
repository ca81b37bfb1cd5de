"""From replay and timing figures to a Verdict, and from a Verdict to a (lowered) Fix."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from perfpilot.tools.model import Applicability, Fix, StageResult
from perfpilot.tools.verify.model import (
    Difference,
    FunctionCapture,
    Speed,
    TestRun,
    Verdict,
    VerdictKind,
)
from perfpilot.tools.verify.stats import speed_of

MIN_ROUNDS = 3  # as _timing.MIN_ROUNDS: fewer timed rounds give no speed verdict


def speed_text(speed: Speed) -> str:
    """'1.80x [1.71-1.90]' with the noise floor it had to clear."""
    return f"{speed.speedup:.2f}x [{speed.low:.2f}-{speed.high:.2f}]"


def decide(
    result: dict[str, Any], header: FunctionCapture, notes: list[str], live: bool = False
) -> Verdict:
    """The verdict on a worker's result (behaviour first, then speed).

    `live`: the calls were the running program's own, replayed in-process (see live.py).
    """
    calls = int(result["calls"])
    on = f"on {calls} {'live' if live else 'recorded'} call{_s(calls)}"
    if live:
        on += " in-process"
    if result.get("irreproducible"):
        notes.append(
            f"{result['irreproducible']} of {calls} calls did not reproduce the recorded result"
            " outside the program (they depend on its state); original and fix were compared"
            " on the replayed behaviour"
        )
    example = result.get("difference")
    if example:
        difference = Difference(
            call=example["call"],
            aspect=example["aspect"],
            input=example["input"],
            original=example["original"],
            fixed=example["fixed"],
            detail=example["detail"],
        )
        plain = difference.aspect == "exception" or difference.detail in ("value", "")
        where = "" if plain else f" at {difference.detail}"
        summary = (
            f"differs {on}: {difference.aspect}{where} on call {difference.call + 1}"
            f" ({header.qualname}({difference.input})): original {difference.original},"
            f" fixed {difference.fixed}"
        )
        return Verdict(
            VerdictKind.DIFFERS, summary, calls, difference=difference, notes=tuple(notes)
        )
    timing = result.get("timing")
    speed = speed_of(timing["A"], timing["B"], timing["A2"], timing["rounds"]) if timing else None
    if result.get("unstable"):
        example = result["unstable_example"]
        summary = (
            f"nondeterministic: the original gave two different results for the same input"
            f" ({result['unstable']} of {calls} calls, e.g. {example['aspect']}{_at(example)} on"
            f" {header.qualname}({example['input']}): {example['original']} then"
            f" {example['fixed']}); behaviour cannot be compared"
        )
        return Verdict(VerdictKind.NONDETERMINISTIC, summary, calls, speed, notes=tuple(notes))
    if speed is None:
        summary = f"unverified: same behaviour {on}, but timing did not fit in the budget"
        return Verdict(VerdictKind.UNVERIFIED, summary, calls, notes=tuple(notes))
    figure = speed_text(speed)
    if speed.rounds < MIN_ROUNDS:
        summary = (
            f"unverified: same behaviour {on}, but only {speed.rounds} timing round"
            f"{_s(speed.rounds)} fit in the budget ({figure}); {MIN_ROUNDS} warm rounds are"
            " needed for a figure that is not first-call noise (raise --budget)"
        )
        return Verdict(VerdictKind.UNVERIFIED, summary, calls, notes=tuple(notes))
    if calls < 5:
        notes.append(
            f"only {calls} recorded call{_s(calls)}: the interval shows timing noise, not how"
            " the speedup varies from call to call"
        )
    if speed.low > speed.required:
        summary = f"faster: {figure} {on}, same behaviour"
        return Verdict(VerdictKind.FASTER, summary, calls, speed, notes=tuple(notes))
    if speed.slower:
        summary = f"not faster: {figure}: slower {on} (same behaviour)"
    else:
        summary = (
            f"not faster: {figure} {on}; needs a lower bound above {speed.required:.2f}x"
            f" (noise {100 * speed.noise:.1f}%)"
        )
    return Verdict(VerdictKind.NOT_FASTER, summary, calls, speed, notes=tuple(notes))


def with_verdict(fix: Fix, verdict: Verdict) -> Fix:
    """`fix` carrying `verdict`; applicability can only go down, a difference refuses it."""
    passed = verdict.kind in (VerdictKind.FASTER, VerdictKind.UNVERIFIED)
    stages = (*fix.stages, StageResult("verify", passed, verdict.summary))
    level = fix.applicability
    refusal = fix.refusal
    if verdict.kind is VerdictKind.DIFFERS:
        refusal = refusal or f"verify: {verdict.summary}"
    elif verdict.kind is VerdictKind.NOT_FASTER:
        level = Applicability.DISPLAY_ONLY
    elif verdict.kind is VerdictKind.NONDETERMINISTIC:
        level = min(level, Applicability.UNSAFE)
    return replace(
        fix,
        applicability=min(level, fix.applicability),
        stages=stages,
        refusal=refusal,
        verdict=verdict,
    )


def with_tests(verdict: Verdict, run: TestRun) -> Verdict:
    """`verdict` with the covering tests' outcome: a test the fix breaks refuses it."""
    notes = (*verdict.notes, run.note) if run.note else verdict.notes
    if run.broken:
        names = ", ".join(run.broken[:3]) + (" ..." if len(run.broken) > 3 else "")
        summary = f"differs: breaks test{_s(len(run.broken))} {names} (passing with the original)"
        return replace(verdict, kind=VerdictKind.DIFFERS, summary=summary, tests=run, notes=notes)
    if not run.passed_before:
        return replace(verdict, tests=run, notes=notes)
    one = run.passed_before == 1
    passed = f"{run.passed_before} covering test{'' if one else 's'} pass{'es' if one else ''}"
    summary = verdict.summary
    if verdict.kind is VerdictKind.UNVERIFIED and verdict.calls == 0:
        summary = f"unverified speed ({summary.removeprefix('unverified: ')}); {passed}"
    else:
        summary = f"{summary}, {passed}"
    return replace(verdict, summary=summary, tests=run, notes=notes)


def _at(example: dict[str, Any]) -> str:
    """` at argument 1.cache[3]`: where in the values two results differed, when known."""
    detail = str(example.get("detail") or "")
    return f" at {detail}" if detail and detail != "value" else ""


def _s(count: int) -> str:
    return "s" if count != 1 else ""


def unverified(reason: str, notes: list[str] | None = None) -> Verdict:
    """A verdict that says plainly what could not be checked."""
    return Verdict(VerdictKind.UNVERIFIED, f"unverified: {reason}", notes=tuple(notes or ()))
