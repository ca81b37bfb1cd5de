"""PP120: a class constant read through `self` on every iteration → a local read before the loop.

`self.NAME` where NAME lives in the class (not the instance) misses the instance dict and finds
the name on the type on every read; a local read is a single fast load (measured 1.6x-2.5x on a
loop doing nothing else, CPython 3.7-3.13: SKILL.md). The proof that the hoisted value is the
one every read would get comes from the module (class_facts.py): NAME is a plain,
non-descriptor value assigned once in the class body (or a base in the module), and nothing in
the module stores or deletes an attribute of that name, or stores attributes by a name known
only at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import Edit, apply_edits, single_assign, swap
from perfpilot.skills.cst_helpers import (
    LOOPS,
    SCOPES,
    all_nodes,
    body_nodes,
    bound_names,
    children,
    declared_names,
    own_nodes,
    parameter_names,
)
from perfpilot.skills.naming import local_name
from perfpilot.tools.model import Applicability

from .class_facts import class_constants

# Per read saved, CPython 3.11.7, a loop comparing each item with `self.K` against a local
# (/tmp micro-benchmark recorded in SKILL.md): 38 ns of 77 ns per iteration.
EFFECT_PER_READ = 0.15


@dataclass(frozen=True)
class _Hoist:
    loop: cst.For | cst.While
    receiver: str
    reads: dict[str, list[cst.Attribute]]  # constant → its reads in the loop, in source order


@dataclass
class HoistClassConstant(Transform):
    """Read each class constant the loop reads through `self` once, before the loop."""

    min_python: tuple[int, int] = (3, 7)
    max_python: tuple[int, int] | None = (3, 13)  # measured up to 3.13 (SKILL.md)

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per outermost loop that reads class constants through `self`."""
        opportunities = []
        for index, hoist in enumerate(_hoists(parsed)):
            names = sorted(hoist.reads)
            count = sum(len(reads) for reads in hoist.reads.values())
            shown = ", ".join(f"`{hoist.receiver}.{n}`" for n in names)
            first = hoist.reads[names[0]][0]
            line, column, end_line, end_column = parsed.location(first)
            loop_line = parsed.location(hoist.loop)[0]
            verb = "is a class constant" if len(names) == 1 else "are class constants"
            opportunities.append(
                Opportunity(
                    key=f"loop#{index}",
                    title=(
                        f"Read {shown} once before the loop at line {loop_line} in"
                        f" `{parsed.source.name}`"
                    ),
                    evidence=(
                        f"{shown} {verb} read in {count} place{'s' if count != 1 else ''} of"
                        f" the loop at line {loop_line}; a class attribute read through the"
                        " instance misses the instance dict first (measured ~35 ns a read on"
                        " 3.11 against ~1 ns for a local). Nothing in this module"
                        " rebinds it; a subclass elsewhere that makes it a property, or code"
                        " outside the module assigning it during the loop, would no longer be"
                        " seen"
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=Applicability.UNSAFE,
                    effect=min(0.5, EFFECT_PER_READ * count),
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Assign a local per constant right before the loop; read the locals in the loop."""
        hoists = _hoists(parsed)
        hoist = opportunity.numbered(hoists)
        if hoist is None:
            return Rewrite.failed("the loop no longer reads class constants")
        function, facts = parsed.function, parsed.source.module
        edits: dict[cst.CSTNode, Edit] = {}
        statements: list[cst.BaseStatement] = []
        taken: set[str] = set()
        for name, reads in hoist.reads.items():
            local = _fresh(name, function, facts, taken)
            taken.add(local)
            statements.append(
                cst.SimpleStatementLine(
                    [
                        cst.Assign(
                            [cst.AssignTarget(cst.Name(local))],
                            cst.Attribute(cst.Name(hoist.receiver), cst.Name(name)),
                        )
                    ]
                )
            )
            for read in reads:
                edits[read] = swap(cst.Name(local, lpar=read.lpar, rpar=read.rpar))
        edits[hoist.loop] = _insert_all_before(statements)
        module = apply_edits(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """The loop reads no hoisted constant through `self`; each local is bound once, before."""
        indexed = _indexed(before)
        hoist = opportunity.numbered(indexed)
        if hoist is None:
            return "the loop no longer reads provable class constants (has the module changed?)"
        loops = _outer_loops(after.function)
        if hoist.loop_index >= len(loops):
            return "the loop is gone from the rewritten function"
        loop = loops[hoist.loop_index]
        receiver = hoist.hoist.receiver
        left = {n for n, _ in _reads(loop, receiver)} & set(hoist.hoist.reads)
        if left:
            return f"the loop still reads {', '.join(sorted(left))} through `{receiver}`"
        assigned = _assignments_before(after.function, loop)
        for name in hoist.hoist.reads:
            local = assigned.get(name)
            if local is None:
                return f"no `local = {receiver}.{name}` right before the loop"
            if sum(1 for n in all_nodes(after.function.body) if _binds(n, local)) != 1:
                return f"the local `{local}` is bound more than once"
        return None


@dataclass(frozen=True)
class _Indexed:
    loop_index: int  # among the function's outermost loops
    hoist: _Hoist


def _hoists(parsed: Parsed) -> list[_Hoist]:
    return [indexed.hoist for indexed in _indexed(parsed)]


def _indexed(parsed: Parsed) -> list[_Indexed]:
    """Per outermost loop reading provable class constants through the receiver, its reads."""
    source, function = parsed.source, parsed.function
    receiver = _receiver(parsed)
    if receiver is None:
        return []
    constants = class_constants(source.path, source.qualname, source.text)
    if not constants:
        return []
    found = []
    for position, loop in enumerate(_outer_loops(function)):
        reads: dict[str, list[cst.Attribute]] = {}
        for name, node in _reads(loop, receiver):
            if name in constants:
                reads.setdefault(name, []).append(node)
        if reads:
            found.append(_Indexed(position, _Hoist(loop, receiver, reads)))
    return found


def _receiver(parsed: Parsed) -> str | None:
    """`self` (or `cls`): the first parameter of a method that never rebinds it."""
    function = parsed.function
    if not parsed.source.in_class:
        return None
    for decorator in function.decorators:
        if (
            isinstance(decorator.decorator, cst.Name)
            and decorator.decorator.value == "staticmethod"
        ):
            return None
    params = function.params
    positional = [*params.posonly_params, *params.params]
    if not positional:
        return None
    name = positional[0].name.value
    if name in bound_names(function.body) or name in declared_names(function.body):
        return None
    if name in parameter_names(function)[1:]:
        return None
    for node in body_nodes(function):
        if isinstance(node, cst.Del) and name in _del_names(node):
            return None
        if isinstance(node, cst.CompFor) and _binds(node, name):
            return None  # `[self.K for self in others]` reads another object's K
    return name


def _del_names(node: cst.Del) -> set[str]:
    return {n.value for n in all_nodes(node.target) if isinstance(n, cst.Name)}


def _outer_loops(function: cst.FunctionDef) -> list[cst.For | cst.While]:
    """Loops of the function not inside another loop of it (nested scopes excluded)."""
    loops: list[cst.For | cst.While] = []
    stack: list[cst.CSTNode] = list(reversed(children(function.body)))
    while stack:
        node = stack.pop()
        if isinstance(node, LOOPS):
            loops.append(node)
            continue
        if isinstance(node, SCOPES):
            continue
        stack.extend(reversed(children(node)))
    return loops


def _reads(loop: cst.For | cst.While, receiver: str) -> list[tuple[str, cst.Attribute]]:
    """`receiver.NAME` reads evaluated per iteration: the body (nested loops too), a while test.

    A for loop's iterable and either loop's `else` run once; nested defs and classes are not
    the loop's code. Comprehensions are included: they read the local through a closure.
    """
    roots: list[cst.CSTNode] = [loop.body]
    if isinstance(loop, cst.While):
        roots.append(loop.test)
    found = []
    for root in roots:
        for node in [root, *own_nodes(root)]:
            if (
                isinstance(node, cst.Attribute)
                and isinstance(node.value, cst.Name)
                and node.value.value == receiver
            ):
                found.append((node.attr.value, node))
    return found


def _fresh(name: str, function: cst.FunctionDef, facts: object, taken: set[str]) -> str:
    """A snake_case local named after the constant, free in the function and the module."""
    from perfpilot.tools.module_facts import ModuleFacts

    assert isinstance(facts, ModuleFacts)
    local = local_name(name, function, facts)
    number = 2
    while local in taken:
        local = local_name(f"{name}_{number}", function, facts)
        number += 1
    return local


def _insert_all_before(statements: list[cst.BaseStatement]) -> Edit:
    """Put the statements before the node; blank lines and comments above it stay on top."""

    def edit(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
        leading = node.leading_lines  # type: ignore[attr-defined]
        first = statements[0].with_changes(leading_lines=leading)
        return cst.FlattenSentinel([first, *statements[1:], node.with_changes(leading_lines=())])

    return edit


def _assignments_before(function: cst.FunctionDef, loop: cst.CSTNode) -> dict[str, str]:
    """constant → local for the `local = self.CONST` lines right before the loop."""
    for node in [function.body, *own_nodes(function.body)]:
        if isinstance(node, cst.IndentedBlock) and any(s is loop for s in node.body):
            body = list(node.body)
            position = next(i for i, s in enumerate(body) if s is loop)
            found: dict[str, str] = {}
            for statement in reversed(body[:position]):
                assigned = single_assign(statement)
                if assigned is None or not isinstance(assigned[1], cst.Attribute):
                    break
                found[assigned[1].attr.value] = assigned[0]
            return found
    return {}


def _binds(node: cst.CSTNode, name: str) -> bool:
    """`node` binds `name` (an assignment target, loop target, walrus, with/except as...)."""
    targets: list[cst.CSTNode] = []
    if isinstance(node, cst.AssignTarget):
        targets.append(node.target)
    elif isinstance(node, cst.AnnAssign | cst.AugAssign | cst.For | cst.CompFor):
        targets.append(node.target)
    elif isinstance(node, cst.NamedExpr):
        targets.append(node.target)
    elif isinstance(node, cst.AsName):
        targets.append(node.name)
    elif isinstance(node, cst.Param):
        targets.append(node.name)
    return any(isinstance(n, cst.Name) and n.value == name for t in targets for n in all_nodes(t))


TRANSFORM = HoistClassConstant()
