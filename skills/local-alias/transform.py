"""PP107: a lookup repeated on every iteration of a hot loop → a local alias made before it.

Whether the alias helps depends on the Python version (3.11+ specializes LOAD_ATTR,
LOAD_GLOBAL and method calls), so each kind of lookup is offered only on the versions where
benchmarks/bench_local_alias.py measured it faster; see SKILL.md for the table.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import (
    Edit,
    apply_edits,
    insert_before,
    single_assign,
    statement_before,
    swap,
)
from perfpilot.skills.cst_helpers import (
    body_nodes,
    dotted_name,
    own_loops,
    parameter_names,
)
from perfpilot.skills.naming import local_name
from perfpilot.tools.model import Applicability

from .candidates import Candidate, binds, candidates, hot_calls, rebound_in

THRESHOLD = 0.05  # an alias under 5% faster in a loop doing nothing else is not worth an edit

MEASURED_ON = ((3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13))


def _ranges(row: str) -> dict[tuple[int, int], tuple[float, float]]:
    """`"9.3/11.6 ..."` (percent, one low/high pair per version of MEASURED_ON) as fractions."""
    pairs = [tuple(float(p) / 100 for p in cell.split("/")) for cell in row.split()]
    return {v: (low, high) for v, (low, high) in zip(MEASURED_ON, pairs, strict=True)}


# kind → {version: (lowest, highest) saving of its worst variant over repeated runs} from
# benchmarks/bench_local_alias.py (CPython 3.8.18 ... 3.13.0, 300,000 iterations, median of
# 21-31, 3-4 runs each). The lowest above THRESHOLD: a fix; only the highest above it: shown,
# not offered; neither: not reported.
MEASURED = {
    "method": _ranges("9.3/11.6 10.0/11.4 9.7/12.3 -7.0/1.4 -5.4/-4.4 -9.1/-3.0"),
    "module-attribute": _ranges("25.4/27.0 23.3/23.8 26.5/29.2 3.4/11.7 3.9/7.4 7.1/8.5"),
    "builtin": _ranges("5.8/13.2 10.4/11.3 11.7/12.4 0.1/3.7 -2.3/1.6 -5.0/2.9"),
}


@dataclass
class LocalAlias(Transform):
    """Alias a method, module attribute or builtin called in a loop, where it is measured faster."""

    min_python: tuple[int, int] = (3, 8)
    max_python: tuple[int, int] | None = (3, 13)
    python: tuple[int, int] | None = None  # the target version; None: the running interpreter

    def target(self) -> tuple[int, int]:
        """The Python version the decision is made for."""
        return self.python or (sys.version_info[0], sys.version_info[1])

    def verdict(self, kind: str) -> tuple[Applicability | None, tuple[float, float] | None]:
        """What a kind may claim on the target version, and the numbers behind it."""
        measured = MEASURED.get(kind, {}).get(self.target())
        if measured is None or measured[1] <= THRESHOLD:
            return None, measured
        if measured[0] > THRESHOLD:
            return Applicability.UNSAFE, measured
        return Applicability.DISPLAY_ONLY, measured

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per (loop, lookup) whose kind is measured to help on the target."""
        opportunities = []
        version = ".".join(map(str, self.target()))
        calls = parsed.source.calls
        often = (
            f"; the function ran {calls:,} time{'s' if calls != 1 else ''} in the profile"
            if calls
            else ""
        )
        for candidate in candidates(parsed):
            claim, measured = self.verdict(candidate.kind)
            if claim is None or measured is None:
                continue
            low, high = measured
            func = candidate.uses[0].func
            line, column, end_line, end_column = parsed.location(func)
            loop_line = parsed.location(candidate.loop)[0]
            measured = (
                f"{low:.0%} to {high:.0%}" if round(low, 2) != round(high, 2) else f"{low:.0%}"
            )
            verdict = (
                f"a local alias measured {measured} faster on Python {version}"
                if claim == Applicability.UNSAFE
                else f"a local alias measured only {measured} faster on Python {version}"
                " (not reliably above 5%): shown, not offered as a fix"
            )
            opportunities.append(
                Opportunity(
                    key=candidate.key,
                    title=(
                        f"Alias `{candidate.dotted}` to a local before the loop in"
                        f" `{parsed.source.name}`"
                    ),
                    evidence=(
                        f"`{candidate.dotted}` ({candidate.kind.replace('-', ' ')}) is looked"
                        f" up on every iteration of the loop at line {loop_line}{often};"
                        f" {verdict} (benchmarks/bench_local_alias.py). The alias freezes the"
                        " binding: a reassignment during the loop is no longer seen"
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=claim,
                    effect=max(low / 2, 0.01),  # the benchmark loop does nothing else
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Assign the alias just before the loop and call it at every use in the loop."""
        candidate = next((c for c in candidates(parsed) if c.key == opportunity.key), None)
        if candidate is None:
            return Rewrite.failed("the lookup is no longer in the loop")
        alias = _alias_name(parsed, candidate)
        statement = cst.SimpleStatementLine(
            [
                cst.Assign(
                    [cst.AssignTarget(cst.Name(alias))], cst.parse_expression(candidate.dotted)
                )
            ],
        )
        edits: dict[cst.CSTNode, Edit] = {
            call.func: swap(cst.Name(alias)) for call in candidate.uses
        }
        edits[candidate.loop] = insert_before(statement)
        module = apply_edits(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """The loop must be preceded by `alias = <lookup>`, call only the alias, never rebind it."""
        dotted, _, index = opportunity.key.rpartition("@loop")
        loops = own_loops(after.function)
        if not index.isdigit() or int(index) >= len(loops):
            return "the loop is gone from the rewritten function"
        loop = loops[int(index)]
        alias = _assigned_alias(statement_before(after.function.body, loop), dotted)
        if alias is None:
            return f"no `alias = {dotted}` right before the loop"
        if any(dotted_name(call.func) == dotted for call in hot_calls(loop)):
            return f"the loop still looks `{dotted}` up"
        if not any(dotted_name(call.func) == alias for call in hot_calls(loop)):
            return "the loop does not call the alias"
        if alias in rebound_in(loop):
            return f"the loop rebinds the alias `{alias}`"
        bindings = [n for n in body_nodes(after.function) if binds(n, alias)]
        if len(bindings) != 1 or alias in parameter_names(after.function):
            return f"the alias `{alias}` is bound elsewhere in the function"
        return None


def _alias_name(parsed: Parsed, candidate: Candidate) -> str:
    """`append` for `out.append`, `len_` for `len`: unused in the function and the module."""
    last = candidate.dotted.rsplit(".", 1)[-1].strip("_") or "alias"
    # A builtin's alias keeps its name recognisable without shadowing it: `len_`.
    wanted = last if "." in candidate.dotted else f"{last}_"
    return local_name(wanted, parsed.function, parsed.source.module)


def _assigned_alias(statement: cst.CSTNode | None, dotted: str) -> str | None:
    """`alias` when `statement` is exactly `alias = <dotted>`."""
    assigned = single_assign(statement)
    return assigned[0] if assigned and dotted_name(assigned[1]) == dotted else None


TRANSFORM = LocalAlias()
