"""Small libcst queries the transforms share: parents, bindings, literals, names.

Shadowing: `shadowed_builtins` says whether a builtin call is the builtin in a function.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING

import libcst as cst

# The walks live in cst_walk.py; re-exported here, where the transforms import them.
from perfpilot.skills.cst_walk import SCOPE_TYPES
from perfpilot.skills.cst_walk import SCOPES as SCOPES
from perfpilot.skills.cst_walk import all_nodes as all_nodes
from perfpilot.skills.cst_walk import children as children
from perfpilot.skills.cst_walk import forget_trees as forget_trees
from perfpilot.skills.cst_walk import own_nodes as own_nodes

if TYPE_CHECKING:
    from perfpilot.tools.module_facts import ModuleFacts

LOOPS = (cst.For, cst.While)
COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
# Statements that can catch or swallow an exception raised inside them.
CATCHING = (cst.Try, cst.TryStar, cst.With)
Parents = dict[cst.CSTNode, cst.CSTNode]


def parent_map(root: cst.CSTNode, *, nested: bool = True) -> Parents:
    """Child → parent for the nodes under `root`; `nested=False` does not enter nested scopes."""
    parents: Parents = {}
    nodes = all_nodes(root) if nested else [root, *own_nodes(root)]
    for node in nodes:
        if nested or type(node) not in SCOPE_TYPES:
            for child in children(node):
                parents[child] = node
    return parents


def ancestors(node: cst.CSTNode, parents: Parents) -> Iterator[cst.CSTNode]:
    """The parents of `node`, innermost first, up to the root of the parent map."""
    current = parents.get(node)
    while current is not None:
        yield current
        current = parents.get(current)


def has_ancestor(
    node: cst.CSTNode, parents: Parents, kinds: tuple[type, ...], stop: cst.CSTNode
) -> bool:
    """Some ancestor of `node` strictly below `stop` is an instance of one of `kinds`."""
    for ancestor in ancestors(node, parents):
        if ancestor is stop:
            return False
        if isinstance(ancestor, kinds):
            return True
    return False


def body_nodes(function: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """The function's own nodes, from its body only (not decorators, parameters, annotations)."""
    return own_nodes(function.body)


def own_loops(function: cst.FunctionDef) -> list[cst.For | cst.While]:
    """The function's own for/while loops in source order: how skills number loops in keys."""
    return [n for n in body_nodes(function) if isinstance(n, LOOPS)]


def names_in(node: cst.CSTNode) -> set[str]:
    """Every Name read or written anywhere under `node` (nested scopes included)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            found.add(current.value)
        stack.extend(children(current))
    return found


def dotted_name(node: cst.CSTNode) -> str | None:
    """`re.match` for an Attribute chain of Names, `len` for a Name, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def parameter_names(function: cst.FunctionDef | cst.Lambda) -> list[str]:
    """The names of every parameter, in order (positional-only, regular, *args, kw-only, **kw)."""
    params = function.params
    names = [p.name.value for p in (*params.posonly_params, *params.params)]
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    names += [p.name.value for p in params.kwonly_params]
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return names


def variable_names(root: cst.CSTNode) -> Iterator[str]:
    """Every variable Name under `root`, one per use: not attribute names, not keyword names."""
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            yield node.value
        elif isinstance(node, cst.Attribute | cst.Arg):
            stack.append(node.value)
        else:
            stack.extend(children(node))


def nested_scope_names(function: cst.FunctionDef) -> set[str]:
    """Names used inside the defs/lambdas/classes nested in the function (closures included)."""
    names: set[str] = set()
    for node in body_nodes(function):
        if type(node) in SCOPE_TYPES:
            names |= names_in(node)
    return names


def is_name(node: cst.CSTNode, name: str) -> bool:
    """`node` is the Name `name`."""
    return isinstance(node, cst.Name) and node.value == name


def has_comment(node: cst.CSTNode) -> bool:
    """A comment anywhere under `node` (it would be lost if the node were rebuilt)."""
    return any(isinstance(n, cst.Comment) for n in all_nodes(node))


def target_parts(target: cst.CSTNode) -> list[cst.CSTNode]:
    """The single targets of a (tuple/list/starred) assignment target, in order."""
    if isinstance(target, cst.Tuple | cst.List):
        return [p for e in target.elements for p in target_parts(e.value)]
    if isinstance(target, cst.StarredElement):
        return target_parts(target.value)
    return [target]


def target_names(target: cst.CSTNode) -> set[str]:
    """Names bound by an assignment target (`a`, `a, (b, *c)`); attributes/subscripts bind none."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        names: set[str] = set()
        for element in target.elements:
            names |= target_names(element.value)
        return names
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()


# The node kinds that bind a name (libcst's node classes are final: exact types suffice).
_BINDING_TYPES = frozenset(
    {
        cst.AssignTarget,
        cst.AnnAssign,
        cst.AugAssign,
        cst.For,
        cst.AsName,
        cst.NamedExpr,
        cst.FunctionDef,
        cst.ClassDef,
        cst.ImportAlias,
        cst.Global,
        cst.Nonlocal,
    }
)


# What else makes a name local to a function: `del x`, and match captures (`case x:`).
_LOCAL_TYPES = _BINDING_TYPES | {cst.Del, cst.MatchAs, cst.MatchStar, cst.MatchMapping}


def bound_names(root: cst.CSTNode) -> set[str]:
    """Names bound in `root`'s own scope: assignments, loops, with/except/import, defs, walrus."""
    bound: set[str] = set()
    for node in own_nodes(root):
        if type(node) in _BINDING_TYPES:  # most nodes: one set lookup, no isinstance checks
            bound |= _names_bound_by(node)
    return bound


def _names_bound_by(node: cst.CSTNode) -> set[str]:
    """The names one node of `_LOCAL_TYPES` binds (or, for `del`, unbinds)."""
    if isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.AugAssign | cst.For):
        return target_names(node.target)
    if isinstance(node, cst.AsName):
        return target_names(node.name)
    if isinstance(node, cst.NamedExpr | cst.Del):
        return target_names(node.target)
    if isinstance(node, cst.FunctionDef | cst.ClassDef):
        return {node.name.value}
    if isinstance(node, cst.ImportAlias):
        if node.asname is not None:
            return set()  # its AsName binds
        return {dotted_name(node.name).split(".")[0] if dotted_name(node.name) else ""}
    if isinstance(node, cst.Global | cst.Nonlocal):
        return {item.name.value for item in node.names}
    if isinstance(node, cst.MatchAs | cst.MatchStar):
        return {node.name.value} if node.name is not None else set()
    if isinstance(node, cst.MatchMapping):
        return {node.rest.value} if node.rest is not None else set()
    return set()


_DECLARATIONS = frozenset({cst.Global, cst.Nonlocal})


def declared_names(root: cst.CSTNode) -> set[str]:
    """Names declared global/nonlocal anywhere under `root`, nested functions included."""
    names: set[str] = set()
    for node in all_nodes(root):
        if type(node) in _DECLARATIONS:
            names |= {item.name.value for item in node.names}
    return names


# Every node kind `binding_sites` records (libcst's node classes are final: exact types suffice).
_SITE_TYPES = frozenset(
    {
        cst.Assign,
        cst.AnnAssign,
        cst.AugAssign,
        cst.For,
        cst.CompFor,
        cst.AsName,
        cst.NamedExpr,
        cst.FunctionDef,
        cst.ClassDef,
        cst.Del,
        cst.ImportAlias,
        cst.MatchAs,
        cst.MatchStar,
        cst.MatchMapping,
    }
)


def binding_sites(function: cst.FunctionDef) -> dict[str, list[cst.CSTNode]]:
    """Name → the nodes binding it in the function's own scope (comprehension targets too)."""
    found: dict[str, list[cst.CSTNode]] = {}

    def add(names: set[str], node: cst.CSTNode) -> None:
        for name in names:
            found.setdefault(name, []).append(node)

    for node in body_nodes(function):
        if type(node) not in _SITE_TYPES:  # most nodes: one set lookup, no ABC isinstance
            continue
        if isinstance(node, cst.Assign):
            for target in node.targets:
                add(target_names(target.target), node)
        elif isinstance(node, cst.AnnAssign | cst.AugAssign):
            add(target_names(node.target), node)
        elif isinstance(node, cst.For | cst.CompFor):
            add(target_names(node.target), node)
        elif isinstance(node, cst.AsName):
            add(target_names(node.name), node)
        elif isinstance(node, cst.NamedExpr):
            add(target_names(node.target), node)
        elif isinstance(node, cst.FunctionDef | cst.ClassDef):
            add({node.name.value}, node)
        elif isinstance(node, cst.Del):
            add(target_names(node.target), node)
        elif isinstance(node, cst.ImportAlias):
            bound = node.asname.name if node.asname else node.name
            add({(dotted_name(bound) or "").split(".")[0]}, node)
        elif isinstance(node, cst.MatchAs | cst.MatchStar) and node.name is not None:
            add({node.name.value}, node)
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            add({node.rest.value}, node)
    return found


def deleted_names(root: cst.CSTNode) -> set[str]:
    """Names a `del` in `root`'s own scope unbinds (in a function, `del` makes a name local)."""
    return {
        name
        for node in own_nodes(root)
        if type(node) is cst.Del
        for name in target_names(node.target)
    }


def local_names(function: cst.FunctionDef) -> set[str]:
    """Every name the function's own scope binds or declares, as Python decides at compile time.

    Parameters and every binding of its own scope: assignments, loops, with/except, imports,
    defs, walrus, `del`, match captures, and names it declares global/nonlocal. Comprehension
    targets are the comprehension's own (Python 3), not the function's.
    """
    names = set(parameter_names(function))
    for node in own_nodes(function.body):
        if type(node) in _LOCAL_TYPES:  # one walk, one set lookup a node
            names |= _names_bound_by(node)
    return names


def shadowed_builtins(
    function: cst.FunctionDef,
    facts: ModuleFacts,
    names: Iterable[str],
    local: Collection[str] | None = None,
) -> set[str]:
    """The builtin `names` that may be something else inside `function`.

    The one shadowing check for skills: before treating a call such as `any(...)` or `sorted(...)`
    as the builtin, ask which of its names the function (`local`, default `local_names`) or the
    module (`facts`: rebound at module level, or imported) binds. An empty result means every
    name is the builtin.
    """
    if local is None:
        local = local_names(function)
    return {n for n in names if n in local or n in facts.rebound or n in facts.imports}


def is_constant(node: cst.CSTNode) -> bool:
    """A literal of strings (no f-strings), numbers, True/False/None, or tuples of them."""
    if isinstance(node, cst.SimpleString | cst.Integer | cst.Float | cst.Imaginary):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return is_constant(node.left) and is_constant(node.right)
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, cst.Integer | cst.Float)
    if isinstance(node, cst.Tuple):
        return all(
            is_constant(e.value) for e in node.elements if not isinstance(e, cst.StarredElement)
        )
    return False


def shorten(code: str) -> str:
    """The code on one line, cut to 40 characters for a title."""
    flat = " ".join(code.split())
    return flat if len(flat) <= 40 else flat[:37] + "..."
