"""Which attribute chains a loop reads on every pass without ever rebinding them, and where."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache

import libcst as cst

from perfpilot.skills.api import Parsed
from perfpilot.skills.cst_helpers import (
    Parents,
    all_nodes,
    body_nodes,
    bound_names,
    declared_names,
    dotted_name,
    own_nodes,
    parameter_names,
    parent_map,
    target_names,
)
from perfpilot.skills.module_statements import statement_bodies

Loop = cst.For | cst.While
# Names through which a loop can rebind anything behind our back (or see the new local).
_DYNAMIC = frozenset(
    "globals locals vars exec eval setattr delattr builtins __builtins__ __import__".split()
)
# A chain under one of these is bound, not read.
_TARGET_WRAPPERS = (cst.Tuple, cst.List, cst.Element, cst.StarredElement)


@dataclass
class Hoist:
    """One chain read in a loop: where it is read, and the local that will hold it."""

    dotted: str  # "self.md.htmlStash"
    reads: list[cst.Attribute] = field(default_factory=list)


@dataclass
class LoopPlan:
    """The chains to read once before one of the function's outermost loops."""

    loop: cst.For | cst.While
    hoists: list[Hoist]

    @property
    def lookups_saved(self) -> int:
        """Attribute lookups saved per pass of the loop (each read of `a.b.c` costs two)."""
        return sum(len(h.reads) * h.dotted.count(".") for h in self.hoists)


def plan(parsed: Parsed) -> list[LoopPlan]:
    """Per outermost loop of the function, the attribute chains provably not rebound in it."""
    function = parsed.function
    own = list(body_nodes(function))
    if any(isinstance(n, cst.Name) and n.value in _DYNAMIC for n in own):
        return []
    parents = parent_map(function.body, nested=False)
    declared = declared_names(function)
    params = set(parameter_names(function))
    locals_ = params | bound_names(function.body)
    plans = []
    for loop in own:
        if not isinstance(loop, Loop) or _inside_loop(loop, parents):
            continue
        if not _quiet(loop):
            continue
        hoists = _hoists(loop, parents, declared, locals_, params, parsed)
        if hoists:
            plans.append(LoopPlan(loop, hoists))
    return plans


def hot_parts(loop: cst.For | cst.While) -> list[cst.CSTNode]:
    """What runs on every pass: the body, and the test of a while loop (not `else`)."""
    return ([loop.test] if isinstance(loop, cst.While) else []) + [loop.body]


def _hoists(
    loop: cst.For | cst.While,
    parents: Parents,
    declared: set[str],
    locals_: set[str],
    params: set[str],
    parsed: Parsed,
) -> list[Hoist]:
    rebound = bound_names(loop) | _deleted(loop) | declared
    if isinstance(loop, cst.For):
        rebound |= target_names(loop.target)
    stored: set[str] = set()
    reads: dict[str, Hoist] = {}
    methods_called: set[tuple[str, str]] = set()  # `self.forward()` -> ("self", "forward")
    for part in hot_parts(loop):
        for node in [part, *own_nodes(part)]:
            if not isinstance(node, cst.Attribute) or _extends(node, parents):
                continue
            dotted = dotted_name(node)
            if dotted is None:
                continue
            if _is_target(node, parents):
                stored.add(dotted)
                continue
            read = node
            parent = parents.get(node)
            if isinstance(parent, cst.Call) and parent.func is node:
                # A method call: hoist its receiver (`self.md.stash`), not the bound method.
                if isinstance(node.value, cst.Name):
                    methods_called.add((node.value.value, node.attr.value))
                    continue
                if not isinstance(node.value, cst.Attribute):
                    continue
                read = node.value
                dotted = dotted.rsplit(".", 1)[0]
            reads.setdefault(dotted, Hoist(dotted)).reads.append(read)
    # `self.x` is also rebound when the loop assigns it through a longer store's prefix only
    # if it is that store: `self.x.y = v` leaves `self.x` alone but rebinds `self.x.y`.
    module_text = parsed.source.module.source or ""
    reassigned = reassigned_attributes(module_text)
    opaque = _opaque_receivers(methods_called, params, module_text)
    hoists = []
    for dotted, hoist in reads.items():
        if "*" in reassigned or reassigned & set(dotted.split(".")[1:]):
            continue  # e.g. a `_reset()` the loop calls may rebind `self.tokens`
        root = dotted.split(".", 1)[0]
        if root in rebound or root == "super" or root in opaque:
            continue
        if any(dotted == s or dotted.startswith(s + ".") for s in stored):
            continue
        if root in locals_ and root not in params and not _bound_before(root, loop, parents):
            continue  # the hoisted read could meet an unbound local the loop never reaches
        hoists.append(hoist)
    return hoists


def _opaque_receivers(
    methods_called: set[tuple[str, str]], params: set[str], module_text: str
) -> set[str]:
    """Parameters the loop calls a method of (`self.forward()`) that this module never defines.

    `reassigned_attributes` sees what the module's own methods store; a method inherited from
    another module (PyYAML's Scanner calls its Reader mixin's `forward()`, which moves
    `self.column`) may store anything on its receiver, so no chain rooted there is hoisted.
    """
    defined = defined_functions(module_text)
    return {
        receiver
        for receiver, method in methods_called
        if receiver in params and ("*" in defined or method not in defined)
    }


def _extends(node: cst.Attribute, parents: Parents) -> bool:
    """`node` is the `.value` of a longer chain (`self.a` in `self.a.b`)."""
    parent = parents.get(node)
    return isinstance(parent, cst.Attribute) and parent.value is node


def _is_target(node: cst.CSTNode, parents: Parents) -> bool:
    """The chain itself is assigned, deleted or bound (not a subscript or attribute of it)."""
    child, parent = node, parents.get(node)
    while isinstance(parent, _TARGET_WRAPPERS):
        child, parent = parent, parents.get(parent)
    if isinstance(parent, cst.AssignTarget | cst.Del | cst.AsName):
        return True
    if isinstance(parent, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor):
        return parent.target is child
    return isinstance(parent, cst.NamedExpr) and parent.target is child


def _inside_loop(node: cst.CSTNode, parents: Parents) -> bool:
    current = parents.get(node)
    while current is not None:
        if isinstance(current, Loop):
            return True
        current = parents.get(current)
    return False


def _quiet(loop: cst.For | cst.While) -> bool:
    """No async iteration or await: the loop's reads cannot interleave with a coroutine's."""
    if isinstance(loop, cst.For) and loop.asynchronous is not None:
        return False
    return not any(
        isinstance(n, cst.Await)
        or (isinstance(n, cst.For | cst.With) and n.asynchronous is not None)
        for n in all_nodes(loop)
    )


def _deleted(root: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    for node in own_nodes(root):
        if isinstance(node, cst.Del):
            names |= target_names(node.target)
    return names


def _bound_before(name: str, loop: cst.CSTNode, parents: Parents) -> bool:
    """A plain `name = ...` statement runs before the loop in the same or an enclosing block."""
    node, parent = loop, parents.get(loop)
    while parent is not None:
        siblings = (
            list(getattr(parent, "body", ())) if isinstance(parent, cst.IndentedBlock) else []
        )
        if node in siblings:
            for statement in siblings[: siblings.index(node)]:
                if isinstance(statement, cst.SimpleStatementLine) and any(
                    isinstance(small, cst.Assign)
                    and any(name in target_names(t.target) for t in small.targets)
                    for small in statement.body
                ):
                    return True
        node, parent = parent, parents.get(parent)
    return False


def reassigned_attributes(module_text: str) -> frozenset[str]:
    """Attribute names the module assigns or deletes outside `__init__` (or via setattr).

    `self.tokens = []` in a `_reset()` method the loop calls would leave a hoisted
    `self.tokens` stale; an attribute only ever set up in `__init__` is not rebound later
    by this module.
    """
    return _module_scan(module_text)[0]


def defined_functions(module_text: str) -> frozenset[str]:
    """Names of every function the module defines, at any depth ({"*"}: it does not parse)."""
    return _module_scan(module_text)[1]


@lru_cache(maxsize=16)
def _module_scan(module_text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(reassigned attributes, defined functions) of a module, from one pass over it."""
    names: set[str] = set()
    functions: set[str] = set()
    try:
        for body in statement_bodies(module_text):  # never the whole tree at once
            _reassigned_in(body, names, functions)
    except (SyntaxError, ValueError, RecursionError):
        return frozenset({"*"}), frozenset({"*"})
    return frozenset(names), frozenset(functions)


def _reassigned_in(body: list[ast.stmt], names: set[str], functions: set[str]) -> None:
    """Add the attribute names `body` assigns or deletes outside `__init__` to `names`, and
    the names of the functions it defines to `functions`."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.add(node.name)
            if node.name in ("__init__", "__new__"):
                continue  # set-up, not a rebinding while a loop runs
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.attr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
        ):
            key = node.args[1] if len(node.args) > 1 else None
            names.add(key.value if isinstance(key, ast.Constant) else "*")
        stack.extend(ast.iter_child_nodes(node))
