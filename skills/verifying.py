"""Stage 5 for skill fixes: build a fix, then verify it on recorded calls (only when asked)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from perfpilot.skills import verdicts
from perfpilot.skills.fixing import Evidence, scan_text, verified_fix
from perfpilot.skills.offering import offered
from perfpilot.skills.registry import Skill
from perfpilot.skills.runner import Found, finding_of
from perfpilot.skills.verdicts import any_verdicts, cached_verdict, remember
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.model import Finding, Fix
from perfpilot.tools.registry import to_data
from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verdict import with_verdict
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

__all__ = [
    "VerifiedOpportunity",
    "Verifier",
    "any_verdicts",
    "cached_verdict",
    "verified_opportunities",
    "verifier",
]
Verifier = Callable[[str, Found, Fix], Fix]


@dataclass(frozen=True, slots=True)
class VerifiedOpportunity:
    """An opportunity with its fix (validated, then verified when it got that far)."""

    found: Found
    finding: Finding
    fix: Fix


def verifier(
    root: str, settings: VerifySettings | None = None, cancel: threading.Event | None = None
) -> Verifier:
    """A function that verifies an applicable fix of `found` in `text` (cached, also on disk)."""
    verdicts.load(root)  # what earlier runs in this workspace measured (user cache)

    def verify(text: str, found: Found, fix: Fix) -> Fix:
        if not fix.applicable:
            return fix
        # A fix verified once is not re-run in the same process (skills/verdicts.py).
        verdict = cached_verdict(text, found, fix)
        # "unverified" says what could not be checked yet (no capture, no --run, a budget too
        # short): it is measured again, not kept as the answer.
        if verdict is None or verdict.kind is VerdictKind.UNVERIFIED:
            fixed = apply_edits(text, fix.edits)
            verdict = verify_change(
                root, found.function.path, found.function.qualname, text, fixed, settings, cancel
            )
            remember(text, found, fix, verdict)
            verdicts.save(root)  # a verdict costs seconds of the user's code: keep it
        return with_verdict(fix, verdict)

    return verify


def verified_opportunities(
    text: str,
    path: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    verify: Verifier,
    *,
    root: str | None = None,
    python: tuple[int, int] | None = None,
    include_unproven: bool = True,
) -> list[VerifiedOpportunity]:
    """Every opportunity of a file with its fix and verdict; findings carry the verdict.

    An unproven skill's fixes are verified too (a faster verdict here is what offers them);
    without `include_unproven` those not verified faster are left out of the result.
    """
    found = scan_text(text, path, hot, skills, python)
    found.sort(key=lambda f: (f.opportunity.line, f.opportunity.column))
    out = []
    for candidate in found:
        fix = verified_fix(text, candidate, root, python, verify)
        if not offered(candidate, include_unproven):
            continue
        finding = finding_of(candidate)
        if fix.verdict is not None:
            finding.message += f" [verify: {fix.verdict.summary}]"
            finding.data["verdict"] = to_data(fix.verdict)
        elif fix.refusal:
            finding.message += f" [not verified: the fix was refused: {fix.refusal}]"
            finding.data["refusal"] = fix.refusal
        finding.data["applicability"] = fix.applicability.name.lower().replace("_", "-")
        out.append(VerifiedOpportunity(candidate, finding, fix))
    return out
