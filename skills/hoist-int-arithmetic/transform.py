"""PP121: int arithmetic of loop-invariant ints (`-d`, `v_offset + delta`) computed once, before.

PP102 hoists pure *calls*; a bare `-d` or `a + b` is below its bar, yet in a tight loop (a
Myers diff's k-loop) each is an interpreted operation per iteration. For ints the hoist is
exact: `+ - * & | ^` and unary `- + ~` of ints have no side effect and never raise, so computing
once before the loop gives the same value even when the loop body would not have reached it,
and a function's locals cannot change except through its own code.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import (
    Edit,
    apply_edits,
    insert_before,
    runs_before,
    single_assign,
    statement_before,
    swap,
)
from perfpilot.skills.cst_helpers import (
    LOOPS,
    Parents,
    ancestors,
    binding_sites,
    body_nodes,
    declared_names,
    names_in,
    own_loops,
    own_nodes,
    parameter_names,
    parent_map,
)
from perfpilot.skills.naming import local_name
from perfpilot.tools.model import Applicability

from .ints import int_names

# Operators that never raise on ints (`//`, `%` can divide by zero; shifts reject negatives).
_SAFE_BINARY = {
    cst.Add: "plus",
    cst.Subtract: "minus",
    cst.Multiply: "times",
    cst.BitAnd: "and",
    cst.BitOr: "or",
    cst.BitXor: "xor",
}
_SAFE_UNARY = {cst.Minus: "neg", cst.Plus: "pos", cst.BitInvert: "inv"}
_DYNAMIC = frozenset({"locals", "vars", "exec", "eval"})
EFFECT = 0.03  # one interpreted operation of a few dozen per iteration


@dataclass(frozen=True)
class _Hoist:
    code: str
    loop: cst.For | cst.While
    loop_index: int
    nodes: tuple[cst.BaseExpression, ...]


@dataclass
class HoistIntArithmetic(Transform):
    """Compute invariant int arithmetic once before the outermost loop it is invariant in."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per (loop, expression), the expression's first occurrence located."""
        opportunities = []
        for hoist in _hoists(parsed):
            line, column, end_line, end_column = parsed.location(hoist.nodes[0])
            loop_line = parsed.location(hoist.loop)[0]
            count = len(hoist.nodes)
            opportunities.append(
                Opportunity(
                    key=f"{hoist.code}@{hoist.loop_index}",
                    title=(
                        f"Compute `{hoist.code}` once before the loop at line {loop_line} in"
                        f" `{parsed.source.name}`"
                    ),
                    evidence=(
                        f"`{hoist.code}` ({count} place{'s' if count != 1 else ''} in the loop)"
                        " is int arithmetic of ints the loop never changes: computed on every"
                        " iteration for the same value. On ints it has no side effect and"
                        " cannot raise, so computing it once before the loop is exact"
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=Applicability.SAFE,
                    effect=EFFECT,
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """`name = <expression>` right before the loop; the loop reads the name."""
        hoist = next((h for h in _hoists(parsed) if _key(h) == opportunity.key), None)
        if hoist is None:
            return Rewrite.failed("the expression is no longer invariant in the loop")
        name = local_name(_wanted(hoist.nodes[0]), parsed.function, parsed.source.module)
        statement = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(name))], cst.parse_expression(hoist.code))]
        )
        edits: dict[cst.CSTNode, Edit] = {node: swap(cst.Name(name)) for node in hoist.nodes}
        edits[hoist.loop] = insert_before(statement)
        module = apply_edits(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """The loop is preceded by `name = <expression>`, an int bound once, never in the loop."""
        code, _, index = opportunity.key.rpartition("@")
        loops = own_loops(after.function)
        if not index.isdigit() or int(index) >= len(loops):
            return "the loop is gone from the rewritten function"
        loop = loops[int(index)]
        assigned = single_assign(statement_before(after.function.body, loop))
        if assigned is None or after.code(assigned[1]) != code:
            return f"no `name = {code}` right before the loop"
        name = assigned[0]
        sites = binding_sites(after.function)
        if len(sites.get(name, [])) != 1 or name in parameter_names(after.function):
            return f"`{name}` is bound more than once"
        if name not in int_names(after.function, after.source.module):
            return f"`{name}` is not provably an int"
        inside = _bound_inside(loop, sites)
        if (names_in(assigned[1]) | {name}) & inside:
            return "the loop rebinds the hoisted name or what it reads"
        if any(after.code(n) == code for n in _per_iteration(loop)):
            return f"the loop still computes `{code}`"
        return None


def _key(hoist: _Hoist) -> str:
    return f"{hoist.code}@{hoist.loop_index}"


def _hoists(parsed: Parsed) -> list[_Hoist]:
    """Maximal invariant int expressions per loop, grouped by their text."""
    function = parsed.function
    names_used = names_in(function.body)
    if names_used & _DYNAMIC:
        return []  # the new local would show in locals()/vars(), or exec could rebind
    ints = int_names(function, parsed.source.module) - declared_names(function)
    if not ints:
        return []
    sites = binding_sites(function)
    parents = parent_map(function.body, nested=False)
    loops = own_loops(function)
    grouped: dict[tuple[str, int], list[cst.BaseExpression]] = {}
    selected: set[int] = set()
    for node in body_nodes(function):  # parents before children: the largest expression wins
        if not _candidate(node, ints) or any(id(a) in selected for a in ancestors(node, parents)):
            continue
        assert isinstance(node, cst.BaseExpression)
        target = _outermost_loop(node, parents, sites, loops, function)
        if target is not None:
            selected.add(id(node))
            index = next(i for i, loop in enumerate(loops) if loop is target)
            grouped.setdefault((parsed.code(node), index), []).append(node)
    hoists = []
    for (code, index), nodes in grouped.items():
        hoists.append(_Hoist(code, loops[index], index, tuple(nodes)))
    return hoists


def _candidate(node: cst.CSTNode | None, ints: frozenset[str]) -> bool:
    """An operation (not a bare name or literal) of int names and literals that cannot raise."""
    if isinstance(node, cst.UnaryOperation):
        return (
            type(node.operator) in _SAFE_UNARY
            and _operand(node.expression, ints)
            and bool(_names(node))
        )
    if isinstance(node, cst.BinaryOperation):
        return (
            type(node.operator) in _SAFE_BINARY
            and _operand(node.left, ints)
            and _operand(node.right, ints)
            and bool(_names(node))
        )
    return False


def _operand(node: cst.BaseExpression, ints: frozenset[str]) -> bool:
    if isinstance(node, cst.Integer):
        return True
    if isinstance(node, cst.Name):
        return node.value in ints
    return _candidate(node, ints)


def _names(node: cst.CSTNode) -> set[str]:
    return {n.value for n in [node, *own_nodes(node)] if isinstance(n, cst.Name)}


def _outermost_loop(
    node: cst.BaseExpression,
    parents: Parents,
    sites: dict[str, list[cst.CSTNode]],
    loops: list[cst.CSTNode],
    function: cst.FunctionDef,
) -> cst.For | cst.While | None:
    """The outermost loop evaluating `node` per iteration in which its names are invariant."""
    chain: list[cst.For | cst.While] = []
    child: cst.CSTNode = node
    for ancestor in ancestors(node, parents):
        if isinstance(ancestor, LOOPS) and _per_iteration_part(ancestor, child):
            chain.append(ancestor)
        child = ancestor
    names = _names(node)
    for loop in reversed(chain):  # outermost first
        if names & _bound_inside(loop, sites):
            continue
        if all(_available(name, loop, sites, parents) for name in names):
            return loop
    return None


def _per_iteration_part(loop: cst.For | cst.While, child: cst.CSTNode) -> bool:
    """`child` (a direct child of the loop) runs on every iteration: the body or a while test."""
    return child is loop.body or (isinstance(loop, cst.While) and child is loop.test)


def _per_iteration(loop: cst.For | cst.While) -> list[cst.CSTNode]:
    roots: list[cst.CSTNode] = [loop.body] + ([loop.test] if isinstance(loop, cst.While) else [])
    return [n for root in roots for n in own_nodes(root)]


def _bound_inside(loop: cst.CSTNode, sites: dict[str, list[cst.CSTNode]]) -> set[str]:
    """Names some binding site inside `loop` (its target included) binds."""
    inside = {id(n) for n in own_nodes(loop)} | {id(loop)}
    return {name for name, nodes in sites.items() if any(id(n) in inside for n in nodes)}


def _available(
    name: str, loop: cst.CSTNode, sites: dict[str, list[cst.CSTNode]], parents: Parents
) -> bool:
    """`name` is surely bound when `loop` starts: an earlier simple line, or an enclosing for."""
    for site in sites.get(name, []):
        if isinstance(site, cst.For) and any(a is site for a in ancestors(loop, parents)):
            return True
        if isinstance(site, cst.Assign | cst.AnnAssign | cst.AugAssign):
            statement = parents.get(site)
            if statement is not None and isinstance(loop, cst.BaseStatement):
                if runs_before(site, loop, parents):
                    return True
    return False


def _wanted(node: cst.CSTNode) -> str:
    """`neg_d` for `-d`, `v_offset_plus_delta` for `v_offset + delta`."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Integer):
        return node.value
    if isinstance(node, cst.UnaryOperation):
        return f"{_SAFE_UNARY[type(node.operator)]}_{_wanted(node.expression)}"
    if isinstance(node, cst.BinaryOperation):
        word = _SAFE_BINARY[type(node.operator)]
        return f"{_wanted(node.left)}_{word}_{_wanted(node.right)}"
    return "value"


TRANSFORM = HoistIntArithmetic()
