"""PP102: compute a loop-invariant expression once, before the loop, instead of per iteration."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import (
    Edit,
    apply_edits,
    parent_block,
    single_assign,
    statement_before,
    swap,
)
from perfpilot.skills.cst_helpers import (
    COMPREHENSIONS,
    body_nodes,
    bound_names,
    children,
    dotted_name,
    is_constant,
    own_loops,
    own_nodes,
    parameter_names,
    shorten,
    target_names,
    target_parts,
)
from perfpilot.skills.naming import local_name
from perfpilot.tools.model import Applicability
from perfpilot.tools.module_facts import ModuleFacts

from . import edit, effects

# Results that are new mutable objects: hoisted, one object would be shared by every iteration.
_FRESH_MUTABLE_CALLS = frozenset({"list", "set", "sorted", "dict", "bytearray"})
_FRESH_MUTABLE_METHODS = frozenset({"split", "rsplit", "splitlines"})
# Calls that cost time proportional to their input: hoisting them saves the most.
_COSTLY = frozenset(
    "sorted set frozenset sum min max any all tuple list join split median mean fmean stdev"
    " pstdev variance pvariance mode quantiles".split()
)


@dataclass
class _Occurrence:
    node: cst.BaseExpression
    every_iteration: bool  # reached on each iteration that reaches it, not under if/try/with


@dataclass
class _Candidate:
    occurrence: _Occurrence
    parent: cst.CSTNode
    grandparent: cst.CSTNode


@dataclass
class _Group:
    loop_index: int
    loop: cst.For | cst.While
    code: str
    occurrences: list[_Occurrence] = field(default_factory=list)


@dataclass
class HoistLoopInvariant(Transform):
    """Find maximal invariant, pure, costly expressions in loops; assign them before the loop."""

    effect: float = 0.5

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per (loop, distinct invariant expression)."""
        opportunities = []
        calls = parsed.source.calls
        often = (
            f" ({calls:,} call{'s' if calls != 1 else ''} of the function in the profile)"
            if calls
            else ""
        )
        for group in _groups(parsed):
            first = next(o.node for o in group.occurrences if o.every_iteration)
            line, column, end_line, end_column = parsed.location(first)
            loop_line = parsed.location(group.loop)[0]
            kind = "while" if isinstance(group.loop, cst.While) else "for"
            shown = shorten(group.code)
            costly = any(edit.call_name(n) in _COSTLY for n in edit.calls_in(first))
            opportunities.append(
                Opportunity(
                    key=f"loop#{group.loop_index}:{group.code}",
                    title=f"Hoist `{shown}` out of the loop in `{parsed.source.name}`",
                    evidence=(
                        f"`{shown}` is recomputed on every iteration of the `{kind}` loop at"
                        f" line {loop_line}{often}, although nothing it reads changes in the"
                        " loop; computing it once before the loop saves the repeats"
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=Applicability.UNSAFE,
                    effect=0.5 if costly else 0.15,
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Assign the expression to a fresh name just before the loop; use the name inside."""
        group = _group_for(parsed, opportunity.key)
        if group is None:
            return Rewrite.failed("the expression is no longer invariant in that loop")
        function = parsed.function
        block = parent_block(function.body, group.loop)
        if block is None:
            return Rewrite.failed("the loop is not in an indented block")
        facts = parsed.source.module
        name = local_name(edit.name_for(group.occurrences[0].node, facts), function, facts)
        value = group.occurrences[0].node
        value = edit.bare(value)
        try:  # a line break outside brackets needs parentheses at statement level
            cst.parse_statement(f"{name} = {parsed.code(value)}\n")
        except cst.ParserSyntaxError:
            value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        edits: dict[cst.CSTNode, Edit] = {
            o.node: swap(edit.name_at(parsed, o.node, name)) for o in group.occurrences
        }
        edits[block] = edit.hoist(block, group.loop, name, value)
        module = apply_edits(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """The new name is assigned once, just before the loop, to a value still invariant there."""
        group = _group_for(before, opportunity.key)
        if group is None:
            return "the opportunity is not found again in the original"
        loops = own_loops(after.function)
        if group.loop_index >= len(loops):
            return "the loop is gone"
        loop = loops[group.loop_index]
        assign = single_assign(statement_before(after.function.body, loop))
        if assign is None:
            return "no assignment of the hoisted value just before the loop"
        name, value = assign
        if after.code(edit.bare(value)) != group.code:
            return "the hoisted value is not the expression found in the loop"
        analysis = _LoopFacts(after, loop)
        if name in analysis.changes.changed or name in parameter_names(after.function):
            return f"`{name}` is reassigned in the loop"
        binds = sum(
            1
            for n in body_nodes(after.function)
            if isinstance(n, cst.AssignTarget) and name in target_names(n.target)
        )
        if binds != 1 or name in bound_names(loop):
            return f"`{name}` is bound more than once"
        if not analysis.invariant(value):
            return "the hoisted value reads something the loop changes"
        uses = sum(1 for n in own_nodes(loop) if isinstance(n, cst.Name) and n.value == name)
        if uses != len(group.occurrences):
            return "the loop does not use the new name in place of every occurrence"
        return None


class _LoopFacts:
    """What one loop changes: names it binds or mutates; whether an expression is invariant."""

    def __init__(self, parsed: Parsed, loop: cst.For | cst.While) -> None:
        self.parsed = parsed
        self.facts: ModuleFacts = parsed.source.module
        function = parsed.function
        self.locals = bound_names(function.body) | set(parameter_names(function))
        self.changes = effects.loop_changes(function, loop, self.facts, _self_names(parsed))
        self.variant = self.changes.variant

    def invariant(self, node: cst.CSTNode) -> bool:
        """Pure (known functions only) and reads nothing the loop changes."""
        if is_constant(node):
            return True
        if isinstance(node, cst.Name):
            return node.value not in self.variant
        if isinstance(node, cst.Attribute):
            return self.invariant(node.value)
        if isinstance(node, cst.Subscript):
            return self.invariant(node.value) and all(
                self.invariant(part)
                for element in node.slice
                for part in _slice_parts(element.slice)
            )
        if isinstance(node, cst.BinaryOperation | cst.BooleanOperation):
            return self.invariant(node.left) and self.invariant(node.right)
        if isinstance(node, cst.UnaryOperation):
            return self.invariant(node.expression)
        if isinstance(node, cst.Comparison):
            return self.invariant(node.left) and all(
                self.invariant(c.comparator) for c in node.comparisons
            )
        if isinstance(node, cst.IfExp):
            return all(self.invariant(p) for p in (node.test, node.body, node.orelse))
        if isinstance(node, cst.Tuple):
            return all(self.invariant(e.value) for e in node.elements)
        if isinstance(node, cst.Call):
            return self.pure_callee(node.func) and all(self.invariant(a.value) for a in node.args)
        return False

    def pure_callee(self, func: cst.BaseExpression) -> bool:
        """A known-pure function: a builtin, a pure module's function, a str method."""
        if isinstance(func, cst.Name):
            name = func.value
            if name in self.locals or name in self.variant:
                return False
            target = self.facts.imports.get(name)
            if target is not None:
                return name not in self.facts.rebound and effects.pure_target(target)
            return name in effects.PURE_BUILTINS and name not in self.facts.rebound
        if not isinstance(func, cst.Attribute):
            return False
        dotted = dotted_name(func)
        if dotted is not None:
            root = dotted.split(".")[0]
            target = self.facts.imports.get(root)
            if target is not None and root not in self.locals and root not in self.facts.rebound:
                return effects.pure_target(target + dotted[len(root) :])
        return func.attr.value in effects.VALUE_METHODS and self.invariant(func.value)


def _groups(parsed: Parsed) -> list[_Group]:
    """Invariant expressions per loop, outer loops first; a node is claimed by one loop only."""
    loops = own_loops(parsed.function)
    claimed: set[int] = set()
    groups: list[_Group] = []
    for index, loop in enumerate(loops):
        if _suspends(loop):
            continue
        analysis = _LoopFacts(parsed, loop)
        by_code: dict[str, _Group] = {}
        for candidate in _candidates(loop, analysis):
            occurrence = candidate.occurrence
            node = occurrence.node
            inner = {id(n) for n in own_nodes(node)} | {id(node)}
            if inner & claimed or not _read_only_use(candidate, analysis):
                continue
            code = parsed.code(edit.bare(node))
            by_code.setdefault(code, _Group(index, loop, code)).occurrences.append(occurrence)
        for group in by_code.values():
            if any(o.every_iteration for o in group.occurrences):
                groups.append(group)
                for occurrence in group.occurrences:
                    claimed |= {id(n) for n in own_nodes(occurrence.node)} | {id(occurrence.node)}
    return groups


def _group_for(parsed: Parsed, key: str) -> _Group | None:
    return next((g for g in _groups(parsed) if f"loop#{g.loop_index}:{g.code}" == key), None)


def _candidates(loop: cst.For | cst.While, analysis: _LoopFacts) -> list[_Candidate]:
    """Maximal invariant costly expressions in the loop, with their parents, in source order."""
    found: list[_Candidate] = []

    def visit(node: cst.CSTNode, parents: tuple[cst.CSTNode, cst.CSTNode], every: bool) -> None:
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            return
        method = isinstance(parents[0], cst.Call) and parents[0].func is node
        if (
            isinstance(node, cst.BaseExpression)
            and not method  # hoist `s.strip()` whole, never the bound method `s.strip`
            and _worth(node)
            and analysis.invariant(node)
        ):
            found.append(_Candidate(_Occurrence(node, every), *parents))
            return
        for child, child_every in _children(node, every):
            visit(child, (node, parents[0]), child_every)

    # A condition that never changes means the analysis missed what ends the loop: leave it.
    if isinstance(loop, cst.While) and not analysis.invariant(loop.test):
        visit(loop.test, (loop, loop), True)
    visit(loop.body, (loop, loop), True)
    return found


def _children(node: cst.CSTNode, every: bool) -> list[tuple[cst.CSTNode, bool]]:
    """A node's children that are evaluated, and whether each runs whenever the node does."""
    if isinstance(node, cst.If):
        return [(node.test, every), (node.body, False), *_opt(node.orelse)]
    if isinstance(node, cst.For):
        return [(node.iter, every), (node.body, every), *_opt(node.orelse)]
    if isinstance(node, cst.While):
        return [(node.test, every), (node.body, every), *_opt(node.orelse)]
    if isinstance(node, cst.Try | cst.TryStar | cst.Match):
        return [(child, False) for child in children(node)]  # exceptions are caught in there
    if isinstance(node, cst.With):
        return [*((item.item, every) for item in node.items), (node.body, False)]
    if isinstance(node, cst.BooleanOperation):
        return [(node.left, every), (node.right, False)]
    if isinstance(node, cst.IfExp):
        return [(node.test, every), (node.body, False), (node.orelse, False)]
    if isinstance(node, COMPREHENSIONS):
        return [(node.for_in.iter, every)]  # the rest runs per element, with its own names
    if isinstance(node, cst.Assign):
        stores = [(p, every) for t in node.targets for p in _store_loads(t.target)]
        return [*stores, (node.value, every)]
    if isinstance(node, cst.AugAssign | cst.AnnAssign):
        value = [(node.value, every)] if node.value is not None else []
        return [*((p, every) for p in _store_loads(node.target)), *value]
    if isinstance(node, cst.Del):
        return [(p, every) for p in _store_loads(node.target)]
    if isinstance(node, cst.NamedExpr):
        return [(node.value, every)]
    return [(child, every) for child in children(node)]


def _store_loads(target: cst.CSTNode) -> list[cst.CSTNode]:
    """The parts of an assignment target that are evaluated: subscript indexes only."""
    loads: list[cst.CSTNode] = []
    for part in target_parts(target):
        if isinstance(part, cst.Subscript):
            loads += [p for e in part.slice for p in _slice_parts(e.slice)]
    return loads


def _read_only_use(candidate: _Candidate, analysis: _LoopFacts) -> bool:
    """A fresh list/set may only be hoisted where it is read: shared, it must not change."""
    node, parent, grandparent = candidate.occurrence.node, candidate.parent, candidate.grandparent
    if not _fresh_mutable(node):
        return True
    if isinstance(parent, cst.Comparison | cst.ComparisonTarget):
        return True
    if isinstance(parent, cst.For | cst.CompFor):
        return parent.iter is node
    if isinstance(parent, COMPREHENSIONS):
        return True  # the first iterable of a comprehension
    if isinstance(parent, cst.Subscript):
        return parent.value is node
    if isinstance(parent, cst.Arg) and isinstance(grandparent, cst.Call):
        return analysis.pure_callee(grandparent.func)  # a pure function only reads it
    if isinstance(parent, cst.Attribute) and isinstance(grandparent, cst.Call):
        return grandparent.func is parent and parent.attr.value in effects.READ_ONLY_METHODS - {
            "copy"
        }
    return False


def _fresh_mutable(node: cst.CSTNode) -> bool:
    node = edit.bare(node)
    if not isinstance(node, cst.Call):
        return False
    if isinstance(node.func, cst.Name):
        return node.func.value in _FRESH_MUTABLE_CALLS
    return isinstance(node.func, cst.Attribute) and node.func.attr.value in _FRESH_MUTABLE_METHODS


def _opt(orelse: cst.CSTNode | None) -> list[tuple[cst.CSTNode, bool]]:
    """An `else`/`elif` part: runs only on some paths."""
    return [(orelse, False)] if orelse is not None else []


def _slice_parts(part: cst.BaseSlice) -> list[cst.BaseExpression]:
    if isinstance(part, cst.Index):
        return [part.value]
    assert isinstance(part, cst.Slice)
    return [p for p in (part.lower, part.upper, part.step) if p is not None]


def _self_names(parsed: Parsed) -> set[str]:
    """The method's receiver: any method call on it may change any of its attributes."""
    names = {"self", "cls"}
    params = parameter_names(parsed.function)
    if parsed.source.in_class and params:
        names.add(params[0])
    return names


def _suspends(loop: cst.For | cst.While) -> bool:
    """An `await`/`yield` in the loop lets other code change anything between iterations."""
    if isinstance(loop, cst.For) and loop.asynchronous is not None:
        return True
    for node in own_nodes(loop):
        if isinstance(node, cst.Await | cst.Yield):
            return True
        if isinstance(node, cst.For | cst.With | cst.CompFor) and node.asynchronous is not None:
            return True
    return False


def _worth(node: cst.CSTNode) -> bool:
    """A call, or an operation on a subscript: a bare name or attribute is not worth a line."""
    inner = [node, *own_nodes(node)]
    if any(isinstance(n, cst.Call) for n in inner):
        return True
    plain = isinstance(node, cst.Name | cst.Attribute | cst.Subscript) or is_constant(node)
    return not plain and any(isinstance(n, cst.Subscript) for n in inner)


TRANSFORM = HoistLoopInvariant()
