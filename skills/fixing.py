"""Whole-file offense: targets of a file, its PP1xx findings, and applying its fixes in rounds."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfpilot.skills.batch_fix import batch_round, disjoint
from perfpilot.skills.offering import held_back_reason, offered, offered_only
from perfpilot.skills.registry import Skill
from perfpilot.skills.runner import (
    FindCache,
    Found,
    Target,
    build_fix,
    find_opportunities,
    finding_of,
)
from perfpilot.tools.edits import (
    StaleFileError,
    apply_edits,
    read_for_update,
    split_lines,
    unified_diff,
    write_if_unchanged,
)
from perfpilot.tools.generated import is_generated
from perfpilot.tools.hotspots import hot_functions
from perfpilot.tools.mapping import MappingResult
from perfpilot.tools.model import Applicability, Finding, Fix
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source

# A file never needs more rounds than this; the cap only guards against a skill that keeps
# finding what it just fixed.
MAX_ROUNDS = 100


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the profile says about one function: its own share (%) and calls."""

    own_share: float
    calls: int | None


@dataclass
class FileFixes:
    """What applying fixes to one file did."""

    text: str
    applied: list[str] = field(default_factory=list)  # fix titles, in order
    hidden_unsafe: list[str] = field(default_factory=list)
    display_only: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (title, stage: reason)
    # With verification: fixes not applied because they were not verified faster.
    held: list[tuple[str, str]] = field(default_factory=list)  # (title, verdict)


def targets_in(
    text: str, path: str, hot: Mapping[str, Evidence] | None, python: tuple[int, int] | None = None
) -> list[Target]:
    """The functions of `text` to look at: the hot ones by qualname, or all when `hot` is None."""
    index = index_source(text, path, python_version=python)
    targets = []
    for function in index.functions:
        if function.is_lambda:
            continue
        if hot is None:
            targets.append(Target(function))
        elif function.qualname in hot:
            evidence = hot[function.qualname]
            targets.append(Target(function, evidence.own_share, evidence.calls))
    return targets


def scan_text(
    text: str,
    path: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    python: tuple[int, int] | None = None,
    cache: FindCache | None = None,
) -> list[Found]:
    """The opportunities in one file's text (hot functions only unless `hot` is None)."""
    targets = targets_in(text, path, hot, python)
    if not targets:
        return []
    facts = facts_of_source(text)
    return find_opportunities(text, path, targets, skills, facts, python, cache)


def findings_in(
    text: str,
    path: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    python: tuple[int, int] | None = None,
    include_unproven: bool = False,
) -> list[Finding]:
    """PP1xx findings of one file (those offered), largest expected saving first."""
    return _ranked_findings(
        offered_only(scan_text(text, path, hot, skills, python), include_unproven)
    )


def _ranked_findings(found: list[Found]) -> list[Finding]:
    """Findings by expected saving (a verdict here, the skill's median, its static effect)."""
    found = sorted(
        found, key=lambda f: (-(f.saving or 0.0), f.opportunity.line, f.opportunity.column)
    )
    return [finding_of(f) for f in found]


def fix_text(
    text: str,
    path: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    *,
    minimum: Applicability = Applicability.SAFE,
    root: str | None = None,
    python: tuple[int, int] | None = None,
    verify: Callable[[str, Found, Fix], Fix] | None = None,
    cache: FindCache | None = None,
    include_unproven: bool = False,
    prove_unproven: bool = True,
) -> FileFixes:
    """Apply every fix at or above `minimum`, in rounds, re-scanning after each.

    Each round re-finds the opportunities in the edited text, so positions never go stale
    and one fix cannot clobber another's lines. With `verify`, only fixes verified faster
    are applied. An unproven skill's fix (skills/offering.py) is left out, unless
    `include_unproven` or it is verified faster here: with `verify` and `prove_unproven`
    it is verified first (False when `verify` only looks verdicts up).
    """
    result = FileFixes(text)
    tried: set[tuple[str, str, str]] = set()
    # A round re-runs the skills on the functions just fixed only; a caller's cache (the
    # language server's) spares the first round too.
    cache = cache if cache is not None else FindCache()
    for _ in range(MAX_ROUNDS):
        found = scan_text(result.text, path, hot, skills, python, cache)
        # Split once a round, not once per opportunity (50 fixes: ~0.2 s of splitting).
        lines = split_lines(result.text)
        identities = {id(f): _identity(f, lines) for f in found}
        pending = [f for f in found if identities[id(f)] not in tried]
        if verify is None or not prove_unproven:  # nothing new can prove an unproven skill
            pending = offered_only(pending, include_unproven)
        if not pending:
            break
        # Verification measures each fix on its own, so only unverified rounds are batched.
        if verify is None and _fixed_in_batch(
            result, pending, tried, identities, path, minimum, root, python
        ):
            continue
        for candidate in pending:
            tried.add(identities[id(candidate)])
            title = f"{candidate.skill.code} {candidate.opportunity.title}"
            held_back = not offered(candidate, include_unproven)
            if candidate.claim < minimum and not held_back and not _may_rise(candidate, verify):
                shown_only = candidate.claim is Applicability.DISPLAY_ONLY
                (result.display_only if shown_only else result.hidden_unsafe).append(title)
                continue
            fix = verified_fix(result.text, candidate, root, python, verify)
            if held_back and not offered(candidate, include_unproven):
                result.held.append((title, held_back_reason(candidate)))
                continue
            if not fix.applicable:
                result.refused.append((title, fix.refusal or "refused"))
                continue
            if verify is not None and fix.verdict is not None and not _faster(fix):
                result.held.append((title, fix.verdict.summary))
                continue
            if fix.applicability < minimum:
                shown_only = fix.applicability is Applicability.DISPLAY_ONLY
                (result.display_only if shown_only else result.hidden_unsafe).append(title)
                continue
            result.text = apply_edits(result.text, fix.edits)
            result.applied.append(title)
            break  # lines moved: find the rest again in the new text
    else:
        print(f"perfpilot: warning: {path}: stopped after {MAX_ROUNDS} fixes", file=sys.stderr)
    return result


def verified_fix(
    text: str,
    candidate: Found,
    root: str | None,
    python: tuple[int, int] | None,
    verify: Callable[[str, Found, Fix], Fix] | None,
) -> Fix:
    """The validated fix, verified when asked; rebuilt when a faster verdict raised its claim."""
    claim = candidate.claim
    fix = build_fix(text, candidate, root=root, python=python)
    if verify is None:
        return fix
    fix = verify(text, candidate, fix)
    if candidate.claim != claim:  # the same edits: the verdict comes from the cache
        fix = verify(text, candidate, build_fix(text, candidate, root=root, python=python))
    return fix


def _may_rise(candidate: Found, verify: Callable[[str, Found, Fix], Fix] | None) -> bool:
    """With verification, a fix below the minimum whose skill lets a faster verdict raise it."""
    return verify is not None and candidate.skill.verified_applicability is not None


def _faster(fix: Fix) -> bool:
    return fix.verdict is not None and fix.verdict.kind.value == "faster"


def _fixed_in_batch(
    result: FileFixes,
    pending: Sequence[Found],
    tried: set[tuple[str, str, str]],
    identities: Mapping[int, tuple[str, str, str]],
    path: str,
    minimum: Applicability,
    root: str | None,
    python: tuple[int, int] | None,
) -> bool:
    """Apply the round's disjoint fixes together (validated once); False to go one by one."""
    batch = batch_round(
        result.text,
        disjoint([f for f in pending if f.claim >= minimum]),
        path,
        root=root,
        python=python,
    )
    if batch.text is None:
        return False
    for found in batch.applied:
        tried.add(identities[id(found)])
        result.applied.append(f"{found.skill.code} {found.opportunity.title}")
    for found, reason in batch.refused:
        tried.add(identities[id(found)])
        result.refused.append((f"{found.skill.code} {found.opportunity.title}", reason))
    result.text = batch.text
    return True


def _identity(found: Found, lines: Sequence[str]) -> tuple[str, str, str]:
    """An opportunity by function, skill and the code it points at (stable across line shifts).

    `lines` are the text's lines (split_lines).
    """
    opportunity = found.opportunity
    code = "".join(lines[opportunity.line - 1 : opportunity.end_line])
    return (found.function.qualname, found.skill.name, code.strip())


@dataclass
class FileReport:
    """One file after a check: its remaining findings, what fixing did, and its diff."""

    path: str
    findings: list[Finding]
    fixes: FileFixes | None = None
    diff: str = ""
    written: bool = False
    error: str | None = None
    skipped_generated: int = 0  # opportunities not reported: the file is generated
    unapplied_diff: str = ""  # with show_all: each fix below the minimum, marked, as a diff
    unproven: int = 0  # opportunities held back: their skill measured below 1.05x


def process_file(
    path: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    *,
    mode: str = "report",
    minimum: Applicability = Applicability.SAFE,
    root: str | None = None,
    python: tuple[int, int] | None = None,
    display: str | None = None,
    verify: Callable[[str, Found, Fix], Fix] | None = None,
    include_generated: bool = False,
    show_all: bool = False,
    include_unproven: bool = False,
) -> FileReport:
    """Scan one file; with mode "fix" write the fixed text atomically, with "diff" show it.

    A file that does not decode, or that changes on disk while it is being fixed, is left
    untouched and reported. A generated file is only counted, unless `include_generated`.
    """
    file = Path(path)
    try:
        original, stamp = read_for_update(file)
    except (OSError, UnicodeDecodeError) as exc:
        return FileReport(path, [], error=f"{path}: cannot read: {exc}")
    if not include_generated and is_generated(original):
        # A fix there is lost at the next generation: say how many were left alone, no more.
        found = scan_text(original, path, hot, skills, python)
        return FileReport(path, [], skipped_generated=len(offered_only(found, include_unproven)))
    if mode == "report":
        found = scan_text(original, path, hot, skills, python)
        offered = offered_only(found, include_unproven)
        report = FileReport(path, _ranked_findings(offered), unproven=len(found) - len(offered))
        return report
    fixes = fix_text(
        original,
        path,
        hot,
        skills,
        minimum=minimum,
        root=root,
        python=python,
        verify=verify,
        include_unproven=include_unproven,
    )
    remaining = findings_in(fixes.text, path, hot, skills, python, include_unproven)
    report = FileReport(path, remaining, fixes)
    if mode == "diff" and show_all:
        report.unapplied_diff = unapplied_diffs(
            fixes.text, path, hot, skills, minimum, root, python, display or path, include_unproven
        )
    if fixes.text == original:
        return report
    if mode == "diff":
        report.diff = unified_diff(original, fixes.text, display or path)
        return report
    try:
        write_if_unchanged(file, original, stamp, fixes.text)
        report.written = True
    except (StaleFileError, OSError) as exc:
        report.error = str(exc)
        report.findings = findings_in(original, path, hot, skills, python, include_unproven)
        fixes.applied.clear()
    return report


def unapplied_diffs(
    text: str,
    path: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    minimum: Applicability,
    root: str | None,
    python: tuple[int, int] | None,
    display: str,
    include_unproven: bool = False,
) -> str:
    """Each validated fix below `minimum` as its own diff against `text`, under a marker line.

    `# PP107 display-only: <title> (not applied)` heads each one: they are for reading, and
    each is independent of the others.
    """
    sections = []
    for found in offered_only(scan_text(text, path, hot, skills, python), include_unproven):
        if found.claim >= minimum:
            continue  # applied already, or refused: the summary says why
        fix = build_fix(text, found, root=root, python=python)
        if not fix.applicable:
            continue
        level = fix.applicability.name.lower().replace("_", "-")
        marker = f"# {found.skill.code} {level}: {fix.title} (not applied)\n"
        sections.append(marker + unified_diff(text, apply_edits(text, fix.edits), display))
    return "".join(sections)


def hot_evidence(result: MappingResult, threshold: float) -> dict[str, dict[str, Evidence]]:
    """Hot functions' evidence by file path and qualname, for profile-guided scanning."""
    by_file: dict[str, dict[str, Evidence]] = {}
    for hot in hot_functions(result, threshold):
        function = hot.mapped.function
        by_file.setdefault(function.path, {})[function.qualname] = Evidence(
            hot.own_share, hot.mapped.calls
        )
    return by_file
