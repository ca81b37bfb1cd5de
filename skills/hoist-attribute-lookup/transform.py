"""PP124: `self.md.stash.blocks[i]` read on every pass of a loop → one local read before it."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import Edit, apply_edits, swap
from perfpilot.skills.cst_helpers import ancestors, binding_sites, own_nodes, parent_map
from perfpilot.skills.naming import local_name, snake_case
from perfpilot.tools.model import Applicability

from .plan import plan

_RECEIVERS = ("self", "cls")


@dataclass
class HoistAttributeLookup(Transform):
    """Read loop-invariant attribute chains once, before the function's loops."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per function: every chain of every outermost loop, together."""
        plans = plan(parsed)
        if not plans:
            return []
        chains = list(dict.fromkeys(h.dotted for p in plans for h in p.hoists))
        saved = sum(p.lookups_saved for p in plans)
        first = plans[0].hoists[0].reads[0]
        line, column, end_line, end_column = parsed.location(first)
        listed = ", ".join(f"`{c}`" for c in chains[:4]) + (", ..." if len(chains) > 4 else "")
        calls = parsed.source.calls
        often = f" ({calls:,} calls in the profile)" if calls else ""
        return [
            Opportunity(
                key="hoist-attributes:" + ",".join(chains),
                title=f"Read {listed} once before the loop in `{parsed.source.name}`",
                evidence=(
                    f"the loop looks up {saved} attribute{'s' if saved != 1 else ''} on every"
                    f" pass{often} ({listed}) that it never assigns; read once into a local,"
                    " each becomes a local variable load. Unsafe: a call or a `yield` in the"
                    " loop could rebind one of them, a property would run once instead of per"
                    " pass, and the read happens even when the loop runs zero times"
                ),
                line=line,
                column=column,
                end_line=end_line,
                end_column=end_column,
                applicability=Applicability.UNSAFE,
                effect=min(0.04 * saved, 0.3),
            )
        ]

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Assign each chain to a fresh local right before its loop; read the local inside."""
        plans = plan(parsed)
        if not plans:
            return Rewrite.failed("no loop-invariant attribute chain is left in a loop")
        taken: set[str] = set()
        edits: dict[cst.CSTNode, Edit] = {}
        for loop_plan in plans:
            statements = []
            for hoist in loop_plan.hoists:
                alias = _alias(hoist.dotted, parsed, taken)
                for read in hoist.reads:
                    edits[read] = swap(cst.Name(alias))
                statements.append(
                    cst.SimpleStatementLine(
                        [
                            cst.Assign(
                                [cst.AssignTarget(cst.Name(alias))],
                                cst.parse_expression(hoist.dotted),
                            )
                        ]
                    )
                )
            edits[loop_plan.loop] = _insert_all_before(statements)
        module = apply_edits(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """No hoisted chain is read in a loop any more; each local is bound once, outside loops."""
        hoisted = set(opportunity.key.partition(":")[2].split(","))
        left = {h.dotted for p in plan(after) for h in p.hoists} & hoisted
        if left:
            return f"the rewritten loop still reads {', '.join(sorted(left))}"
        covered = set(_aliases(after, hoisted).values())
        if covered != hoisted:
            return "not every chain is read into a local (bound once, never in a loop) first"
        return None


def _alias(dotted: str, parsed: Parsed, taken: set[str]) -> str:
    """`md_html_stash` for `self.md.htmlStash`, `string_double` for `String.Double`."""
    parts = dotted.split(".")
    if parts[0] in _RECEIVERS:
        parts = parts[1:]
    wanted = snake_case("_".join(p.strip("_") for p in parts)) or "value"
    name = local_name(wanted, parsed.function, parsed.source.module)
    number = 2
    while name in taken:
        name = local_name(f"{wanted}_{number}", parsed.function, parsed.source.module)
        number += 1
    taken.add(name)
    return name


def _insert_all_before(statements: list[cst.SimpleStatementLine]) -> Edit:
    """Put `statements` before the node; the comment lines above the node stay on top."""

    def edit(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
        leading = node.leading_lines  # type: ignore[attr-defined]
        first = statements[0].with_changes(leading_lines=leading)
        return cst.FlattenSentinel([first, *statements[1:], node.with_changes(leading_lines=())])

    return edit


def _aliases(parsed: Parsed, chains: set[str]) -> dict[str, str]:
    """Local → chain for each `local = <chain>` that is the local's only binding in the function."""
    sites = binding_sites(parsed.function)
    parents = parent_map(parsed.function.body, nested=False)
    found: dict[str, str] = {}
    for node in own_nodes(parsed.function.body):
        if not (isinstance(node, cst.Assign) and len(node.targets) == 1):
            continue
        if any(isinstance(a, cst.For | cst.While) for a in ancestors(node, parents)):
            continue
        target = node.targets[0].target
        code = parsed.module.code_for_node(node.value)
        if isinstance(target, cst.Name) and code in chains and len(sites[target.value]) == 1:
            found[target.value] = code
    return found


TRANSFORM = HoistAttributeLookup()
