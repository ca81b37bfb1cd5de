"""Verdicts known in this process: by fix (exact text) and by opportunity (this very function).

Verification is slow and runs the user's code, so a verdict is kept: by the fix itself (module
text and edits: what it was measured on, exactly) for decorating that fix, and by the
opportunity in its function's text, which is what offering and ranking need without building
the fix again. An edit of the function forgets its opportunities' verdicts.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING

from perfpilot.tools.model import Fix

if TYPE_CHECKING:  # a verdict exists only once verification (which loads its model) ran
    from perfpilot.skills.runner import Found
    from perfpilot.tools.verify.model import Verdict

_SIZE = 256
_BY_FIX: OrderedDict[tuple[str, str, str, str], Verdict] = OrderedDict()
_BY_OPPORTUNITY: OrderedDict[tuple[str, str, str, str, str], Verdict] = OrderedDict()
# Verdicts that measured a speed on equal behaviour (VerdictKind names): how much a fix saves.
_TIMED = ("FASTER", "NOT_FASTER")


def remember(text: str, found: Found, fix: Fix, verdict: Verdict) -> None:
    """Keep the verdict on `fix` of `found` in `text` (the oldest go past _SIZE)."""
    for cache, key in ((_BY_FIX, fix_key(text, found, fix)), (_BY_OPPORTUNITY, _here(found))):
        cache[key] = verdict  # type: ignore[index]
        cache.move_to_end(key)  # type: ignore[arg-type]
        while len(cache) > _SIZE:
            cache.popitem(last=False)


def cached_verdict(text: str, found: Found, fix: Fix) -> Verdict | None:
    """The verdict of this fix if it was verified in this process (never runs anything)."""
    return _BY_FIX.get(fix_key(text, found, fix)) if fix.applicable else None


def any_verdicts() -> bool:
    """Whether anything was verified in this process (else no verdict can be known)."""
    return bool(_BY_FIX)


def verdict_here(found: Found) -> Verdict | None:
    """The verdict on this opportunity's fix in the function as it is now, if any."""
    return _BY_OPPORTUNITY.get(_here(found)) if _BY_OPPORTUNITY else None


def measured_speedup(found: Found) -> float | None:
    """The speedup verification measured for this very fix (same behaviour), if any."""
    verdict = verdict_here(found)
    if verdict is None or verdict.kind.name not in _TIMED or verdict.speed is None:
        return None
    return verdict.speed.speedup


def verified_faster(found: Found) -> bool:
    """Whether this very fix was verified faster, on this function's current text."""
    verdict = verdict_here(found)
    if verdict is None:
        return False
    from perfpilot.tools.verify.model import VerdictKind  # loaded: a verdict exists

    return verdict.kind is VerdictKind.FASTER


def forget_all() -> None:
    """Drop every verdict (tests; a user who wants to measure again)."""
    _BY_FIX.clear()
    _BY_OPPORTUNITY.clear()


def save(root: str) -> str:
    """Keep this process's verdicts for later runs in the workspace (user cache); '' or why not."""
    from perfpilot.tools.verdict_store import save_verdicts

    entries = [("fix", k, v) for k, v in _BY_FIX.items()]
    entries += [("opportunity", k, v) for k, v in _BY_OPPORTUNITY.items()]
    try:
        save_verdicts(root, entries)  # type: ignore[arg-type]
    except (OSError, ValueError) as exc:
        return f"verdicts not saved: {exc}"
    return ""


def load(root: str) -> str:
    """Add the workspace's saved verdicts (those measured in this process win); '' or why not."""
    from perfpilot.tools.user_dirs import verdicts_path

    if not verdicts_path(root).exists():  # the common case: no import, no key read
        return ""
    from perfpilot.tools.verdict_store import load_verdicts

    entries, problem = load_verdicts(root)
    for cache, size in ((_BY_FIX, 4), (_BY_OPPORTUNITY, 5)):
        name = "fix" if cache is _BY_FIX else "opportunity"
        # Saved verdicts are older than this process's: they go first, and go first when full.
        merged = OrderedDict((k, v) for c, k, v in entries if c == name and len(k) == size)
        merged.update(cache)
        cache.clear()
        cache.update(list(merged.items())[-_SIZE:])  # type: ignore[arg-type]
    return problem


def fix_key(text: str, found: Found, fix: Fix) -> tuple[str, str, str, str]:
    """Function identity, the module text and the fix (hashes): what a verdict depends on."""
    edits = repr(fix.edits)
    return (found.function.path, found.function.qualname, _digest(text), _digest(edits))


def _here(found: Found) -> tuple[str, str, str, str, str]:
    function = found.function
    return (
        function.path,
        function.qualname,
        _digest(function.text),
        found.skill.name,
        found.opportunity.key,
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
