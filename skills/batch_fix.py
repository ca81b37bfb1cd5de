"""Fix-all in batches: one fix per function, spliced together, validated once per round.

Validating a fix (compile, tree-sitter, ruff check and format of the whole file) costs far more
than rewriting it, and fix-all used to validate the whole file once per fix. Fixes in different
functions touch disjoint lines (plus imports and module-level definitions added at one place),
so a round rewrites every function's first pending fix, splices them bottom-up, runs each
skill's own guard on its function, and validates the combined file once. When that validation
refuses, the caller falls back to one fix at a time, which names the fix at fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from perfpilot.skills.api import Parsed, Rewrite, parse_function
from perfpilot.skills.runner import Found, _replaced, _same_signature, splice
from perfpilot.tools.edits import line_count
from perfpilot.tools.model import Applicability
from perfpilot.tools.validate import validate_edit

if TYPE_CHECKING:
    import logging


def _log() -> logging.Logger:
    """This module's logger: logging loads with the first thing worth logging, not with check."""
    import logging

    return logging.getLogger(__name__)


@dataclass
class Batch:
    """What one batched round did: the new text and the fixes in it, or refusals only."""

    text: str | None
    applied: list[Found] = field(default_factory=list)
    refused: list[tuple[Found, str]] = field(default_factory=list)  # transform failures


def disjoint(candidates: Sequence[Found]) -> list[Found]:
    """At most one fix per function, and only functions below the import block.

    Two fixes of one function could rewrite the same lines; a function above the imports
    would move when imports are added, so it waits for the one-at-a-time path.
    """
    chosen: dict[tuple[int, int], Found] = {}
    for found in candidates:
        function = found.function
        span = (function.first_line, function.end_line)
        if function.module.import_line > function.first_line - 1:
            continue
        if any(_overlap(span, other) for other in chosen):
            continue
        chosen[span] = found
    return list(chosen.values())


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def batch_round(
    text: str,
    candidates: Sequence[Found],
    path: str,
    *,
    root: str | None = None,
    python: tuple[int, int] | None = None,
) -> Batch:
    """Rewrite `candidates` (disjoint, see `disjoint`) together and validate the result once."""
    rewrites: list[tuple[Found, Rewrite]] = []
    parses: dict[int, Parsed] = {}  # id(found) -> its parse, reused by the guard
    refused: list[tuple[Found, str]] = []
    for found in candidates:
        assert found.skill.transform is not None
        try:
            parsed = parses[id(found)] = parse_function(found.function)
            rewrite = found.skill.transform.rewrite(parsed, found.opportunity)
        except Exception as exc:  # noqa: BLE001 - a transform bug refuses its fix, visibly
            _log().exception("skill %s rewrite failed", found.skill.name)
            rewrite = Rewrite.failed(f"the transform raised {type(exc).__name__}: {exc}")
        if rewrite.failure is not None or rewrite.function_text is None:
            refused.append((found, f"transform: {rewrite.failure or 'produced nothing'}"))
        else:
            rewrites.append((found, rewrite))
    if len(rewrites) < 2:
        return Batch(None, [], refused)  # nothing to gain over the one-at-a-time path

    # Bottom-up, so a splice never moves the functions still to splice, except for the lines
    # each one adds at the import block above them all.
    proposed = text
    added_on_top = 0
    placed: list[tuple[Found, Rewrite, int]] = []
    for found, rewrite in sorted(rewrites, key=lambda pair: -pair[0].function.first_line):
        function = found.function
        moved = replace(
            function,
            first_line=function.first_line + added_on_top,
            end_line=function.end_line + added_on_top,
        )
        before = line_count(proposed)
        proposed = splice(proposed, moved, rewrite)
        body_delta = line_count(rewrite.function_text or "") - (
            function.end_line - function.first_line + 1
        )
        added_on_top += line_count(proposed) - before - body_delta
        placed.append((found, rewrite, moved.first_line))

    def guard() -> str | None:
        for found, rewrite, _ in placed:
            assert found.skill.transform is not None
            before = parses[id(found)]
            after = parse_function(_replaced(found.function, rewrite.function_text or ""))
            reason = found.skill.transform.guard(
                before, after, found.opportunity
            ) or _same_signature(before, after)
            if reason is not None:
                return f"{found.opportunity.title}: {reason}"
        return None

    claim = min((found.claim for found, _ in rewrites), default=Applicability.SAFE)
    validation = validate_edit(
        text, proposed, path, claim=claim, root=root, python=python, guard=guard
    )
    if validation.text is None:
        _log().info("batched fixes refused (%s); fixing one at a time", validation.refusal)
        return Batch(None, [], refused)
    applied = [found for found, _, _ in sorted(placed, key=lambda item: item[2])]
    return Batch(validation.text, applied, refused)
