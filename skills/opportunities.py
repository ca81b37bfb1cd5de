"""One file's fix opportunities with their validated diffs, and applying one of them safely.

A fix is named by (file, function, skill, key) and tied to the file's content hash: applying
it re-finds the opportunity in the file as it is now, and refuses when the file is not the
one the fix was shown for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfpilot.skills.fixing import Evidence, scan_text
from perfpilot.skills.offering import held_back_reason, offered, offered_only
from perfpilot.skills.registry import Skill
from perfpilot.skills.runner import Found, build_fix, fix_title
from perfpilot.tools.edits import (
    StaleFileError,
    apply_edits,
    read_for_update,
    unified_diff,
    write_if_unchanged,
)
from perfpilot.tools.model import Applicability, Fix


class FixRefused(Exception):
    """The fix cannot be applied; the message says why (stale file, refused by validation...)."""


@dataclass(frozen=True, slots=True)
class StageReport:
    """One validation stage's verdict."""

    stage: str
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A fix opportunity in a file, with the validated fix as a diff (or why it was refused)."""

    path: str  # as shown (workspace-relative)
    line: int
    end_line: int
    code: str
    skill: str
    key: str
    qualname: str
    title: str
    evidence: str
    saving_percent: float | None
    estimate: str  # what saving_percent rests on: a verdict here, the skill's median, static
    applicability: str  # after validation: safe, unsafe, display-only
    applicable: bool
    refusal: str | None
    diff: str
    stages: list[StageReport]
    sha256: str  # of the file the diff applies to; apply_fix refuses any other content


@dataclass(frozen=True, slots=True)
class Applied:
    """What apply_fix wrote."""

    path: str
    title: str
    applicability: str
    diff: str
    sha256: str  # of the file as written


def content_hash(text: str) -> str:
    """The SHA-256 of a file's text (UTF-8), as fix_opportunities reports it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def level_name(level: Applicability) -> str:
    """`display-only`, `unsafe` or `safe`."""
    return level.name.lower().replace("_", "-")


def file_opportunities(
    path: Path,
    display: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    *,
    root: str,
    python: tuple[int, int] | None,
    include_unproven: bool = False,
) -> list[Opportunity]:
    """Every opportunity offered in one file, each built and validated, hottest first."""
    text = _read(path, display)
    digest = content_hash(text)
    found = offered_only(scan_text(text, str(path), hot, skills, python), include_unproven)
    found.sort(key=lambda f: (-(f.saving or 0.0), f.opportunity.line, f.opportunity.column))
    reports = []
    for candidate in found:
        fix = build_fix(text, candidate, root=root, python=python)
        reports.append(_report(candidate, fix, text, display, digest))
    return reports


def apply_opportunity(
    path: Path,
    display: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    *,
    qualname: str,
    skill: str,
    key: str,
    expected_sha256: str,
    minimum: Applicability,
    root: str,
    python: tuple[int, int] | None,
    include_unproven: bool = False,
) -> Applied:
    """Apply one validated fix atomically; FixRefused when stale, gone, refused or too unsafe."""
    try:
        text, stamp = read_for_update(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise FixRefused(f"{display}: cannot read: {exc}") from None
    if content_hash(text) != expected_sha256:
        raise FixRefused(
            f"{display}: changed since the fix was computed (content hash differs);"
            " call fix_opportunities again"
        )
    found = scan_text(text, str(path), hot, skills, python)
    match = next(
        (
            f
            for f in found
            if f.function.qualname == qualname
            and f.skill.name == skill
            and f.opportunity.key == key
        ),
        None,
    )
    if match is None:
        raise FixRefused(f"{display}: no {skill} opportunity {key!r} in `{qualname}`")
    if not offered(match, include_unproven):
        reason = held_back_reason(match, "include_unproven=true")
        raise FixRefused(f"{display}: not offered: {reason}")
    fix = build_fix(text, match, root=root, python=python)
    if not fix.applicable:
        raise FixRefused(f"{fix.title}: refused by validation: {fix.refusal}")
    if fix.applicability < minimum:
        raise FixRefused(
            f"{fix.title}: the fix is {level_name(fix.applicability)}; pass unsafe=true to apply"
            " an unsafe fix (display-only fixes are never applied)"
        )
    after = apply_edits(text, fix.edits)
    try:
        write_if_unchanged(path, text, stamp, after)
    except StaleFileError:
        raise FixRefused(
            f"{display}: changed on disk while the fix was built; not written"
        ) from None
    except OSError as exc:
        raise FixRefused(f"{display}: cannot write: {exc}") from None
    return Applied(
        path=display,
        title=fix.title,
        applicability=level_name(fix.applicability),
        diff=unified_diff(text, after, display),
        sha256=content_hash(after),
    )


def _read(path: Path, display: str) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixRefused(f"{display}: cannot read: {exc}") from None


def _report(found: Found, fix: Fix, text: str, display: str, digest: str) -> Opportunity:
    opportunity = found.opportunity
    diff = unified_diff(text, apply_edits(text, fix.edits), display) if fix.edits else ""
    saving = found.saving
    assert found.skill.code is not None
    return Opportunity(
        path=display,
        line=opportunity.line,
        end_line=opportunity.end_line,
        code=found.skill.code,
        skill=found.skill.name,
        key=opportunity.key,
        qualname=found.function.qualname,
        title=fix_title(found),
        evidence=opportunity.evidence,
        saving_percent=round(saving, 2) if saving is not None else None,
        estimate=found.estimate.basis,
        applicability=level_name(fix.applicability),
        applicable=fix.applicable,
        refusal=fix.refusal,
        diff=diff,
        stages=[StageReport(s.stage, s.passed, s.reason) for s in fix.stages],
        sha256=digest,
    )
