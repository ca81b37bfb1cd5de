"""Walking libcst trees fast: a node's children, and the nodes under a root, cached.

Every skill walks the same hot function again; these walks are the shared part, kept apart
from the queries in cst_helpers.py that use them. The caches hold the trees being scanned
only (bounded by nodes held; `forget_trees` drops them once a function is done).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
SCOPE_TYPES = frozenset(SCOPES)  # libcst's node classes are final: exact types suffice

# Node type -> its dataclass field names: read once per type.
_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's child nodes, read from its fields (libcst's `.children` re-visits: ~20x slower).

    Field order is source order for every node kind but two: an `IfExp` lists its test first,
    and a def its decorators after its name. Callers that need source order use positions.
    """
    cached = _CHILDREN.get(id(node))  # by id: a node's own __hash__ is Python code
    if cached is not None and cached[0] is node:
        return cached[1]
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    found: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            found.extend(item for item in value if _is_node(item))
        elif _is_node(value):
            found.append(value)
    if len(_CHILDREN) >= _CHILDREN_LIMIT:
        _CHILDREN.clear()
    _CHILDREN[id(node)] = (node, found)  # the node kept alive: its id is not reused meanwhile
    return found


# Node -> its children: every skill walks the same function's tree again (nodes are immutable,
# so the answer never changes); bounded so that it keeps only recent trees alive.
_CHILDREN: dict[int, tuple[cst.CSTNode, list[cst.CSTNode]]] = {}
_CHILDREN_LIMIT = 20_000  # a large function is a few thousand nodes


def forget_trees() -> None:
    """Drop the walk caches: once every skill has run on a function, its tree may go."""
    _CHILDREN.clear()
    _OWN.clear()
    _ALL.clear()
    _held[0] = 0


# Concrete type -> is it a CSTNode? `isinstance` against libcst's abstract base goes through
# ABCMeta (most of a skill's time on a large function); a dict lookup per type does not.
_NODE_TYPES: dict[type, bool] = {}


def _is_node(value: object) -> bool:
    kind = type(value)
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = isinstance(value, cst.CSTNode)
    return known


def own_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `root` (depth first, source order) except inside nested scopes.

    A nested def, lambda or class is yielded itself but not entered: a pattern inside a nested
    function belongs to that function, which is a target of its own.
    """
    cached = _OWN.get(id(root))
    if cached is not None and cached[0] is root:
        return iter(cached[1])
    found: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = list(reversed(children(root)))
    while stack:
        node = stack.pop()
        found.append(node)
        if type(node) in SCOPE_TYPES:
            continue
        stack.extend(reversed(children(node)))
    _remember(_OWN, root, found)
    return iter(found)


def all_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`root` and every node under it (depth first, source order), nested scopes included."""
    cached = _ALL.get(id(root))
    if cached is not None and cached[0] is root:
        return iter(cached[1])
    found: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(children(node)))
    _remember(_ALL, root, found)
    return iter(found)


# Root -> its nodes in walk order: every skill walks the same function again (about twenty
# walks of each hot function per check), and a list iterates far faster than a re-walk.
# Keyed by id with the root kept alive; bounded by the nodes held, like `_CHILDREN`, so that
# only the trees being scanned stay alive.
_OWN: dict[int, tuple[cst.CSTNode, list[cst.CSTNode]]] = {}
_ALL: dict[int, tuple[cst.CSTNode, list[cst.CSTNode]]] = {}
_held = [0]  # nodes listed in _OWN and _ALL together


def _remember(
    cache: dict[int, tuple[cst.CSTNode, list[cst.CSTNode]]],
    root: cst.CSTNode,
    found: list[cst.CSTNode],
) -> None:
    if _held[0] + len(found) > _CHILDREN_LIMIT:
        _OWN.clear()
        _ALL.clear()
        _held[0] = 0
    cache[id(root)] = (root, found)
    _held[0] += len(found)
