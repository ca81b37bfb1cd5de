"""Which lookups in which loops may be aliased: provably the same object on every iteration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Parsed
from perfpilot.skills.cst_helpers import (
    SCOPES,
    Parents,
    all_nodes,
    ancestors,
    body_nodes,
    bound_names,
    declared_names,
    deleted_names,
    dotted_name,
    own_nodes,
    parameter_names,
    parent_map,
    shadowed_builtins,
    target_names,
)

# Builtins that are plain functions or types of their arguments. Not `super` (its zero-argument
# form needs the name), nor the frame-sensitive ones (locals, vars, dir, eval, exec, globals).
_BUILTINS = frozenset(
    "abs all any ascii bin bool bytearray bytes callable chr complex dict divmod enumerate"
    " filter float format frozenset getattr hasattr hash hex id int isinstance issubclass iter"
    " len list map max min next oct ord pow range repr reversed round set slice sorted str sum"
    " tuple type zip".split()
)
# Names through which a loop can rebind a module, a builtin or a local behind our back.
_DYNAMIC = frozenset(
    "globals locals vars exec eval setattr delattr builtins __builtins__ __import__".split()
)
Loop = cst.For | cst.While


@dataclass(frozen=True)
class Candidate:
    loop: cst.For | cst.While
    loop_index: int  # among the function's own loops, in source order
    dotted: str  # "out.append", "math.sqrt", "len"
    kind: str
    uses: tuple[cst.Call, ...]

    @property
    def key(self) -> str:
        return f"{self.dotted}@loop{self.loop_index}"


def candidates(parsed: Parsed) -> list[Candidate]:
    """Every (loop, lookup) that may be aliased, hoisted to the outermost loop that allows it."""
    function = parsed.function
    own = list(body_nodes(function))
    if any(isinstance(n, cst.Yield) for n in own):
        return []  # a generator: the alias lives across yields while the consumer runs
    if any(isinstance(n, cst.Name) and n.value in ("locals", "vars") for n in own):
        return []  # the new local would show in locals()
    locals_ = (
        set(parameter_names(function)) | bound_names(function.body) | deleted_names(function.body)
    )
    declared = declared_names(function)  # global/nonlocal anywhere, nested functions included
    parents = parent_map(function.body, nested=False)
    loops = [n for n in own if isinstance(n, Loop)]
    found: list[Candidate] = []
    for index, loop in enumerate(loops):
        if not _quiet(loop):
            continue
        rebound = rebound_in(loop)
        groups: dict[str, list[cst.Call]] = {}
        for call in hot_calls(loop):
            dotted = dotted_name(call.func)
            if dotted is not None:
                groups.setdefault(dotted, []).append(call)
        for dotted, uses in groups.items():
            if any(c.dotted == dotted and _inside(loop, c.loop, parents) for c in found):
                continue  # already hoisted above an enclosing loop
            kind = _kind(dotted, uses, loop, parsed, locals_, declared, rebound, parents)
            if kind is not None:
                found.append(Candidate(loop, index, dotted, kind, tuple(uses)))
    return found


def _kind(
    dotted: str,
    uses: list[cst.Call],
    loop: cst.For | cst.While,
    parsed: Parsed,
    locals_: set[str],
    declared: set[str],
    rebound: set[str],
    parents: Parents,
) -> str | None:
    """The kind of lookup `dotted` is in this loop, or None when aliasing it is not provable."""
    facts = parsed.source.module
    parts = dotted.split(".")
    base = parts[0]
    if base in declared or base in rebound:
        return None
    if len(parts) == 1:
        shadowed = shadowed_builtins(parsed.function, facts, (base,), locals_)
        builtin = base in _BUILTINS and not shadowed
        return "builtin" if builtin else None
    if _in_nested_scope(loop, base):
        return None
    references = [n for n in own_nodes(loop) if _refers(n, base, parents)]
    if any(_in_target(n, parents) for n in references):
        return None  # `base.x = ...`, `del base.x`, `for base.x in ...`
    if base in facts.imports and base not in facts.rebound and base not in locals_:
        # Every mention of the module must be an attribute read: no `reload(m)`, no `f(m)`.
        if all(isinstance(parents.get(n), cst.Attribute) for n in references):
            return "module-attribute"
        return None
    if len(parts) != 2 or base not in locals_ or parts[1].startswith("__"):
        return None
    # A local's method: the loop may mention the local only in the calls being aliased (any
    # other use, even `len(out)`, could reach code that reassigns the attribute).
    funcs = {id(call.func) for call in uses}
    if any(id(parents.get(n)) not in funcs for n in references):
        return None
    return "method" if _bound_before(base, loop, parsed, parents) else None


def hot_calls(loop: cst.For | cst.While) -> Iterator[cst.Call]:
    """Calls evaluated on every iteration: the body, and the test of a while loop."""
    parts: list[cst.CSTNode] = [loop.body] + ([loop.test] if isinstance(loop, cst.While) else [])
    for part in parts:
        for node in [part, *own_nodes(part)]:
            if isinstance(node, cst.Call):
                yield node


def _quiet(loop: cst.For | cst.While) -> bool:
    """No await, no match, no dynamic rebinding tools anywhere in the loop."""
    if isinstance(loop, cst.For) and loop.asynchronous is not None:
        return False
    for node in all_nodes(loop):
        if isinstance(node, cst.Await | cst.Match):
            return False
        if isinstance(node, cst.With) and node.asynchronous is not None:
            return False
        if isinstance(node, cst.Name) and node.value in _DYNAMIC:
            return False
    return True


def rebound_in(loop: cst.For | cst.While) -> set[str]:
    """Names the loop statement binds or deletes (its own target included)."""
    names = bound_names(loop) | deleted_names(loop)
    if isinstance(loop, cst.For):
        names |= target_names(loop.target)
    return names


def _refers(node: cst.CSTNode, name: str, parents: Parents) -> bool:
    """A Name that reads or binds `name` (not an attribute's name, not a keyword argument)."""
    if not isinstance(node, cst.Name) or node.value != name:
        return False
    parent = parents.get(node)
    if isinstance(parent, cst.Attribute) and parent.attr is node:
        return False
    return not (isinstance(parent, cst.Arg) and parent.keyword is node)


def _in_target(node: cst.CSTNode, parents: Parents) -> bool:
    """Whether `node` is inside something assigned, deleted or bound."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, cst.AssignTarget | cst.Del | cst.AsName):
            return True
        if isinstance(parent, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor):
            if parent.target is child:
                return True
        if isinstance(parent, cst.NamedExpr) and parent.target is child:
            return True
        if isinstance(parent, cst.BaseStatement):
            return False
        child, parent = parent, parents.get(parent)
    return False


def _in_nested_scope(loop: cst.For | cst.While, name: str) -> bool:
    """Whether a def, lambda or class inside the loop mentions `name`."""
    for node in own_nodes(loop):
        if isinstance(node, SCOPES):
            if any(isinstance(n, cst.Name) and n.value == name for n in all_nodes(node)):
                return True
    return False


def _inside(node: cst.CSTNode, ancestor: cst.CSTNode, parents: Parents) -> bool:
    """`ancestor` holds `node` (and is not `node` itself)."""
    return any(a is ancestor for a in ancestors(node, parents))


def _bound_before(name: str, loop: cst.CSTNode, parsed: Parsed, parents: Parents) -> bool:
    """Whether `name` surely holds a value when the loop starts: the alias is evaluated there."""
    if name in parameter_names(parsed.function):
        return True
    node, parent = loop, parents.get(loop)
    while parent is not None:
        if isinstance(parent, cst.With) and any(
            item.asname is not None and name in target_names(item.asname.name)
            for item in parent.items
        ):
            return True
        if (
            isinstance(parent, cst.For)
            and node is parent.body
            and name in target_names(parent.target)
        ):
            return True
        siblings = (
            list(getattr(parent, "body", ())) if isinstance(parent, cst.IndentedBlock) else []
        )
        if node in siblings:
            for statement in siblings[: siblings.index(node)]:
                if isinstance(statement, cst.SimpleStatementLine) and any(
                    binds(small, name) for small in statement.body
                ):
                    return True
        node, parent = parent, parents.get(parent)
    return False


def binds(node: cst.CSTNode, name: str) -> bool:
    """A plain `name = ...` (or `name: T = ...`) assignment statement."""
    if isinstance(node, cst.Assign):
        return any(name in target_names(t.target) for t in node.targets)
    if isinstance(node, cst.AnnAssign):
        return node.value is not None and name in target_names(node.target)
    return False
