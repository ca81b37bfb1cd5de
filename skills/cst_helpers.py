"""Small libcst queries the transforms share: own nodes, bound names, literals, dotted names."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
# Node type -> its dataclass field names: read once per type.
_FIELDS: dict[type, tuple[str, ...]] = {}


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's child nodes, read from its fields (libcst's `.children` re-visits: ~20x slower).

    Field order is source order for every node kind but two: an `IfExp` lists its test first,
    and a def its decorators after its name. Callers that need source order use positions.
    """
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    found: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            found.append(value)
        elif isinstance(value, list | tuple):
            found.extend(item for item in value if isinstance(item, cst.CSTNode))
    return found


def own_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `root` (depth first, source order) except inside nested scopes.

    A nested def, lambda or class is yielded itself but not entered: a pattern inside a nested
    function belongs to that function, which is a target of its own.
    """
    stack: list[cst.CSTNode] = list(reversed(children(root)))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES):
            continue
        stack.extend(reversed(children(node)))


def body_nodes(function: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """The function's own nodes, from its body only (not decorators, parameters, annotations)."""
    return own_nodes(function.body)


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


def parameter_names(function: cst.FunctionDef) -> list[str]:
    """The names of every parameter, in order (positional-only, regular, *args, kw-only, **kw)."""
    params = function.params
    names = [p.name.value for p in (*params.posonly_params, *params.params)]
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    names += [p.name.value for p in params.kwonly_params]
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return names


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


def bound_names(root: cst.CSTNode) -> set[str]:
    """Names bound in `root`'s own scope: assignments, loops, with/except/import, defs, walrus."""
    bound: set[str] = set()
    for node in own_nodes(root):
        if isinstance(node, cst.AssignTarget):
            bound |= target_names(node.target)
        elif isinstance(node, cst.AnnAssign | cst.AugAssign):
            bound |= target_names(node.target)
        elif isinstance(node, cst.For):
            bound |= target_names(node.target)
        elif isinstance(node, cst.AsName):
            bound |= target_names(node.name)
        elif isinstance(node, cst.NamedExpr):
            bound |= target_names(node.target)
        elif isinstance(node, cst.FunctionDef | cst.ClassDef):
            bound.add(node.name.value)
        elif isinstance(node, cst.ImportAlias) and node.asname is None:
            bound.add(dotted_name(node.name).split(".")[0] if dotted_name(node.name) else "")
        elif isinstance(node, cst.Global | cst.Nonlocal):
            bound |= {item.name.value for item in node.names}
    return bound


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


def replace_nodes(module: cst.Module, replacements: dict[cst.CSTNode, cst.CSTNode]) -> cst.Module:
    """`module` with each key node (by identity, from this same parse) swapped for its value."""
    result = module.visit(_Replace(replacements))
    assert isinstance(result, cst.Module)
    return result


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        return self.replacements.get(original_node, updated_node)
