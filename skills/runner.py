"""Run deterministic skills over functions: find opportunities, and build validated fixes."""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from perfpilot.skills.api import FunctionSource, Opportunity, Parsed, Rewrite, parse_function
from perfpilot.skills.registry import Skill
from perfpilot.skills.triggers import skills_to_run
from perfpilot.skills.verdicts import measured_speedup, verified_faster
from perfpilot.tools.edits import line_edits, split_lines
from perfpilot.tools.model import Applicability, Finding, Fix, Severity, StageResult
from perfpilot.tools.module_facts import ModuleFacts, identifiers_in
from perfpilot.tools.source_index import SourceFunction
from perfpilot.tools.suppression import is_suppressed
from perfpilot.tools.validate import validate_edit

if TYPE_CHECKING:
    import logging


def _log() -> logging.Logger:
    """This module's logger: logging loads with the first thing worth logging, not with check."""
    import logging

    return logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    """A function to look at, with its profile evidence when profile-guided."""

    function: SourceFunction
    own_share: float | None = None
    calls: int | None = None


MEASURED_HERE = "measured on this function"
STATIC = "static estimate"


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a fix is expected to save, and what that expectation rests on."""

    fraction: float  # of the function's own time (negative: measured slower)
    saving: float | None  # % of the whole profile (None: no profile evidence)
    basis: str  # MEASURED_HERE, "skill median on the corpus (N fixes)" or STATIC
    speedup: float | None = None  # the measured speedup it comes from, if any


@dataclass(frozen=True, slots=True)
class Found:
    """An opportunity one skill found in one function."""

    skill: Skill
    function: FunctionSource
    opportunity: Opportunity

    @property
    def estimate(self) -> Estimate:
        """The best-founded estimate: a verdict on this fix, else the skill's corpus median,
        else the skill's static effect; times the function's share of the profile."""
        speedup, basis = measured_speedup(self), MEASURED_HERE
        if speedup is None and self.skill.measured is not None:
            measured = self.skill.measured
            fixes = f"{measured.fixes} fix{'es' if measured.fixes != 1 else ''}"
            speedup = measured.median
            basis = "skill median on the corpus" + (f" ({fixes})" if measured.fixes else "")
        if speedup is not None and speedup > 0:
            fraction = 1.0 - 1.0 / speedup
        else:
            transform = self.skill.transform
            static = transform.effect if transform is not None else 0.0
            fraction, basis, speedup = self.opportunity.effect or static, STATIC, None
        share = self.function.own_share
        saving = share * fraction if share is not None else None
        return Estimate(fraction, saving, basis, speedup)

    @property
    def saving(self) -> float | None:
        """Estimated % of the whole profile saved (see `estimate`); what ranking sorts by."""
        if not self.skill.deterministic:
            return None
        return self.estimate.saving

    @property
    def claim(self) -> Applicability:
        """The most this fix may claim before validation (a faster verdict may raise it)."""
        level = min(self.skill.applicability, self.opportunity.applicability)
        risen = self.skill.verified_applicability
        if risen is not None and level < risen and verified_faster(self):
            # The skill held it back for want of speed evidence; this verdict is that evidence.
            return min(risen, self.skill.applicability)
        return level


def function_source(
    lines: Sequence[str], target: Target, facts: ModuleFacts, path: str
) -> FunctionSource:
    """The text of a target function (its lines) with its evidence."""
    function = target.function
    text = "".join(lines[function.first_line - 1 : function.end_line])
    if text and not text.endswith(("\n", "\r")):
        text += "\n"
    parent = function.qualname.rpartition(".")[0]
    return FunctionSource(
        path=path,
        qualname=function.qualname,
        first_line=function.first_line,
        end_line=function.end_line,
        text=text,
        module=facts,
        in_class=bool(parent) and not parent.endswith("<locals>"),
        own_share=target.own_share,
        calls=target.calls,
    )


class FindCache:
    """Opportunities per function text, so an edit re-runs the skills on what it touched only.

    The key holds everything `find` may read: the function's text, names and evidence, the
    module's imports; positions are stored relative to the function and re-based on a hit.
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[object, ...], list[tuple[Skill, Opportunity]]] = (
            OrderedDict()
        )

    def key(self, source: FunctionSource, skills: Sequence[Skill]) -> tuple[object, ...]:
        """What a cached answer depends on."""
        facts = source.module
        # A fix adds module names (a compiled pattern): only those this function mentions count.
        mentioned = facts.rebound & identifiers_in(source.text)
        return (
            source.text,
            source.qualname,
            source.in_class,
            source.own_share,
            source.calls,
            tuple(sorted(facts.imports.items())),
            mentioned,
            # A skill proving facts about the rest of the module depends on all of it.
            facts.source if any(_reads_module(s) for s in skills) else "",
            tuple(id(s) for s in skills),
        )

    def get(
        self, key: tuple[object, ...], first_line: int
    ) -> list[tuple[Skill, Opportunity]] | None:
        """The cached opportunities moved to a function now starting at `first_line`."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return [(skill, _shifted(o, first_line - 1)) for skill, o in entry]

    def put(
        self, key: tuple[object, ...], first_line: int, found: list[tuple[Skill, Opportunity]]
    ) -> None:
        """Remember the opportunities of a function starting at `first_line`."""
        self._entries[key] = [(skill, _shifted(o, 1 - first_line)) for skill, o in found]
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


def find_opportunities(
    text: str,
    path: str,
    targets: Sequence[Target],
    skills: Sequence[Skill],
    facts: ModuleFacts,
    python: tuple[int, int] | None = None,
    cache: FindCache | None = None,
) -> list[Found]:
    """Every opportunity the skills see in the targets, minus the suppressed ones.

    A skill runs on a function only when its trigger (SKILL.md) is in the function's text:
    its transform is imported, and the function parsed, only for the skills that may fire.
    """
    version = python or sys.version_info[:2]
    deterministic = [s for s in skills if s.deterministic]
    lines = split_lines(text)
    found: list[Found] = []
    for target in targets:
        if target.function.is_lambda:
            continue
        source = function_source(lines, target, facts, path)
        active = skills_to_run(deterministic, source.text, version)
        # Skills that read the whole module are cached apart: an edit elsewhere in the file
        # re-runs only them on this function, not every skill.
        groups = [g for g in _by_module_reading(active) if g]
        pairs: list[tuple[Skill, Opportunity]] = []
        parsed: list[Parsed | None] = []  # parsed once for both groups, when one misses
        for group in groups:
            key = cache.key(source, group) if cache is not None else None
            cached = cache.get(key, source.first_line) if cache is not None and key else None
            if cached is None:
                cached = _find_in(source, group, parsed)
                if cache is not None and key is not None:
                    cache.put(key, source.first_line, cached)
            pairs += cached
        if parsed:
            _forget_trees()
        for skill, opportunity in pairs:
            line = lines[opportunity.line - 1] if opportunity.line <= len(lines) else ""
            if skill.code and not is_suppressed(line, skill.code):
                found.append(Found(skill, source, opportunity))
    return found


def _forget_trees() -> None:
    """Every skill has seen this function: its libcst tree (a few MiB when large) may go."""
    from perfpilot.skills.cst_helpers import forget_trees  # libcst: not at start-up

    forget_trees()


def _reads_module(skill: Skill) -> bool:
    transform = skill.transform
    return transform is not None and transform.reads_module


def _by_module_reading(skills: Sequence[Skill]) -> tuple[list[Skill], list[Skill]]:
    """(skills that read only the function, skills that read the whole module)."""
    reads = [s for s in skills if _reads_module(s)]
    return [s for s in skills if s not in reads], reads


def _find_in(
    source: FunctionSource, skills: Sequence[Skill], memo: list[Parsed | None]
) -> list[tuple[Skill, Opportunity]]:
    import libcst as cst  # imported when a skill first runs, not at start-up

    if not memo:
        try:
            memo.append(parse_function(source))
        except (cst.ParserSyntaxError, ValueError, RecursionError):
            memo.append(None)
    parsed = memo[0]
    if parsed is None:
        return []  # the user is mid-edit: the syntax error is their editor's to show
    pairs: list[tuple[Skill, Opportunity]] = []
    for skill in skills:
        assert skill.transform is not None
        try:
            pairs += [(skill, o) for o in skill.transform.find(parsed)]
        except Exception:  # noqa: BLE001 - one skill's bug must not hide the others' findings
            _log().exception("skill %s failed on %s:%s", skill.name, source.path, source.qualname)
    return pairs


def _shifted(opportunity: Opportunity, delta: int) -> Opportunity:
    return replace(
        opportunity, line=opportunity.line + delta, end_line=opportunity.end_line + delta
    )


def finding_of(found: Found) -> Finding:
    """The PP1xx diagnostic of an opportunity, with its evidence and estimated saving."""
    opportunity = found.opportunity
    expected = found.estimate
    saving = expected.saving
    estimate = f" ({_cpu(saving)}, {expected.basis})" if saving is not None else ""
    assert found.skill.code is not None
    return Finding(
        code=found.skill.code,
        message=f"{opportunity.title}{estimate}: {opportunity.evidence}",
        path=found.function.path,
        line=opportunity.line,
        column=opportunity.column,
        end_line=opportunity.end_line,
        end_column=opportunity.end_column,
        severity=Severity.WARNING if found.function.own_share is not None else Severity.HINT,
        data={
            "skill": found.skill.name,
            "key": opportunity.key,
            "qualname": found.function.qualname,
            "title": fix_title(found),
            "applicability": found.claim.name.lower().replace("_", "-"),
            "saving_percent": round(saving, 2) if saving is not None else None,
            "estimate": expected.basis,
            "speedup": round(expected.speedup, 3) if expected.speedup is not None else None,
        },
    )


def _cpu(saving: float) -> str:
    """`~18% CPU`, `<1% CPU`, or `~3% CPU more` for a fix measured slower."""
    if saving >= 0.5:
        return f"~{saving:.0f}% CPU"
    return "<1% CPU" if saving > -0.5 else f"~{-saving:.0f}% CPU more"


def fix_title(found: Found) -> str:
    """`Memoize fib with functools.cache (~18% CPU)`: what a quick fix is called."""
    saving = found.saving
    estimate = f" (~{saving:.0f}% CPU)" if saving is not None and saving >= 0.5 else ""
    return f"{found.opportunity.title}{estimate}"


def build_fix(
    text: str,
    found: Found,
    root: str | None = None,
    python: tuple[int, int] | None = None,
) -> Fix:
    """Rewrite one opportunity and put the result through validation; never raises."""
    transform = found.skill.transform
    title = fix_title(found)
    assert transform is not None
    try:
        parsed = parse_function(found.function)
        rewrite = transform.rewrite(parsed, found.opportunity)
    except Exception as exc:  # noqa: BLE001 - a transform bug refuses the fix, visibly
        _log().exception("skill %s rewrite failed", found.skill.name)
        rewrite = Rewrite.failed(f"the transform raised {type(exc).__name__}: {exc}")
    if rewrite.failure is not None or rewrite.function_text is None:
        stage = StageResult("transform", False, rewrite.failure or "produced nothing")
        return Fix(title, Applicability.DISPLAY_ONLY, (), (stage,), f"transform: {stage.reason}")
    proposed = splice(text, found.function, rewrite)

    def guard() -> str | None:
        after = parse_function(_replaced(found.function, rewrite.function_text or ""))
        return transform.guard(parsed, after, found.opportunity) or _same_signature(parsed, after)

    validation = validate_edit(
        text,
        proposed,
        found.function.path,
        claim=found.claim,
        root=root,
        python=python,
        guard=guard,
    )
    if validation.text is None or validation.applicability is None:
        return Fix(title, Applicability.DISPLAY_ONLY, (), validation.stages, validation.refusal)
    return Fix(
        title, validation.applicability, line_edits(text, validation.text), validation.stages
    )


def splice(text: str, function: FunctionSource, rewrite: Rewrite) -> str:
    """The file with the function replaced and the rewrite's imports and definitions added."""
    lines = split_lines(text)
    facts = function.module
    newline = _newline_of(lines)
    body = split_lines(rewrite.function_text or "")
    lines[function.first_line - 1 : function.end_line] = body
    insert_at = facts.import_line
    if insert_at > function.first_line - 1:  # a function above the imports moved them
        insert_at += len(body) - (function.end_line - function.first_line + 1)
    added: list[str] = []
    for statement in rewrite.imports:
        if statement.strip() not in {line.strip() for line in lines}:
            added.append(statement.rstrip() + newline)
    definitions = [d.rstrip() + newline for d in rewrite.definitions]
    if definitions:
        # Definitions follow the imports, separated by a blank line as a formatter would.
        block = [*added, *([newline] if facts.has_imports or added else []), *definitions]
        if insert_at < len(lines) and lines[insert_at].strip():
            block.append(newline)
        added = block
    if added and not facts.has_imports and insert_at > 0 and not definitions:
        added = [newline, *added]
    lines[insert_at:insert_at] = added
    return "".join(lines)


def _replaced(function: FunctionSource, text: str) -> FunctionSource:
    end = function.first_line + len(split_lines(text)) - 1
    return replace(function, text=text, end_line=end)


def _same_signature(before: Parsed, after: Parsed) -> str | None:
    """Every skill keeps the function's name and parameters: callers must not notice."""
    old, new = before.function, after.function
    if old.name.value != new.name.value or before.code(old.params) != after.code(new.params):
        return "the rewrite changed the function's name or parameters"
    return None


def _newline_of(lines: Sequence[str]) -> str:
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith(("\n", "\r")):
            return line[-1]
    return "\n"
