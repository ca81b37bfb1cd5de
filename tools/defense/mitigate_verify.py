"""The regression solver's verification stage: candidates replayed on recorded calls.

Uses perfpilot's verification (tools.verify): the calls `perfpilot capture` recorded while the
program ran are replayed against head's function and the candidate's, behaviour compared and
speed timed interleaved. A candidate whose behaviour differs is refused; any other verdict
(faster, not faster on these calls, nondeterministic, unverified and why) goes into the
pull-request description beside the workload timing.
"""

from __future__ import annotations

from pathlib import Path

from perfpilot.tools.defense.mitigate import Verify
from perfpilot.tools.defense.repo import file_at
from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change


def recorded_calls_check(root: Path, head: str, settings: VerifySettings) -> Verify:
    """A Verify for prepare_mitigation: head's file against the candidate's, on recorded calls."""

    def check(tree: Path, path: str, qualname: str) -> tuple[bool, str]:
        original = file_at(root, head, path)
        if original is None:
            return True, f"unverified: {path} is not in {head[:10]}"
        fixed = (tree / path).read_text(encoding="utf-8")
        # The captures belong to the user's workspace path (where the program ran).
        verdict = verify_change(root, str(root / path), qualname, original, fixed, settings)
        return verdict.kind is not VerdictKind.DIFFERS, verdict.summary

    return check
