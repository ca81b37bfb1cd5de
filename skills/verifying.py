"""Stage 5 for skill fixes: build a fix, then verify it on recorded calls (only when asked)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from perfpilot.skills.fixing import Evidence, scan_text
from perfpilot.skills.registry import Skill
from perfpilot.skills.runner import Found, build_fix, finding_of
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.model import Finding, Fix
from perfpilot.tools.registry import to_data
from perfpilot.tools.verify.model import Verdict
from perfpilot.tools.verify.verdict import with_verdict
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

# A fix verified once is not re-run in the same process: keyed by function and fix text.
_CACHE: OrderedDict[tuple[str, str, str, str], Verdict] = OrderedDict()
_CACHE_SIZE = 256
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
    """A function that verifies an applicable fix of `found` in `text` (cached)."""

    def verify(text: str, found: Found, fix: Fix) -> Fix:
        if not fix.applicable:
            return fix
        key = _key(text, found, fix)
        verdict = _CACHE.get(key)
        if verdict is None:
            fixed = apply_edits(text, fix.edits)
            verdict = verify_change(
                root, found.function.path, found.function.qualname, text, fixed, settings, cancel
            )
            _CACHE[key] = verdict
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        return with_verdict(fix, verdict)

    return verify


def cached_verdict(text: str, found: Found, fix: Fix) -> Verdict | None:
    """The verdict of this fix if it was verified in this process (never runs anything)."""
    return _CACHE.get(_key(text, found, fix)) if fix.applicable else None


def any_verdicts() -> bool:
    """Whether anything was verified in this process (else no verdict can be known)."""
    return bool(_CACHE)


def _key(text: str, found: Found, fix: Fix) -> tuple[str, str, str, str]:
    """Function identity, the module text and the fix (hashes): what a verdict depends on."""
    edits = repr(fix.edits)
    return (found.function.path, found.function.qualname, _digest(text), _digest(edits))


def verified_opportunities(
    text: str,
    path: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    verify: Verifier,
    *,
    root: str | None = None,
    python: tuple[int, int] | None = None,
) -> list[VerifiedOpportunity]:
    """Every opportunity of a file with its fix and verdict; findings carry the verdict."""
    found = scan_text(text, path, hot, skills, python)
    found.sort(key=lambda f: (f.opportunity.line, f.opportunity.column))
    out = []
    for candidate in found:
        fix = verify(text, candidate, build_fix(text, candidate, root=root, python=python))
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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
