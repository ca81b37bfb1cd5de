"""Where a function binds its names: a tested value's type, a list's lifetime, its loops."""

from __future__ import annotations

import libcst as cst

from perfpilot.skills.api import Parsed
from perfpilot.skills.cst_edits import block_statement, runs_before
from perfpilot.skills.cst_helpers import (
    COMPREHENSIONS,
    SCOPES,
    ancestors,
    binding_sites,
    declared_names,
    dotted_name,
    is_constant,
    parameter_names,
    parent_map,
    shadowed_builtins,
)

# Builtins whose result is an exact int/str/bool (never a subclass with its own __eq__).
_EXACT_RESULT = frozenset({"len", "ord", "chr", "hash", "bool", "int", "float", "id"})
_SEQUENCE_TYPES = frozenset({"list", "tuple", "List", "Tuple", "typing.List", "typing.Tuple"})
_SEQUENCE_BUILDERS = frozenset({"list", "tuple", "sorted"})


class Scope:
    """What the function binds, and where: enough to know a name's type and lifetime."""

    def __init__(self, parsed: Parsed) -> None:
        self.function = parsed.function
        self.facts = parsed.source.module
        self.parents = parent_map(parsed.function)
        self.bindings = binding_sites(parsed.function)
        self.declared = declared_names(parsed.function.body)
        self.params = set(parameter_names(parsed.function))
        self.locals = self.bindings.keys() | self.params | self.declared

    def local(self, name: str) -> bool:
        """Bound in the function, or declared global/nonlocal: not (only) the builtin."""
        return name in self.locals

    def is_builtin(self, name: str) -> bool:
        """`name` can only be the builtin: bound neither here nor at module level."""
        return not shadowed_builtins(self.function, self.facts, (name,), self.locals)

    def exact(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """The value is an exact str/bytes/int/float/bool/None: hashable, and equal only to
        what hashes the same (no subclass with its own __eq__ can come out of it)."""
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            return is_constant(node)
        if isinstance(node, cst.Integer | cst.Float | cst.Imaginary):
            return True
        if isinstance(node, cst.FormattedString):
            # f"{x}" alone may return x.__format__'s str subclass; joined parts are exact.
            return len(node.parts) >= 2
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            return node.func.value in _EXACT_RESULT and self.is_builtin(node.func.value)
        if not isinstance(node, cst.Name):
            return False
        if node.value in ("True", "False", "None"):
            return True
        sites = self.bindings.get(node.value, [])
        if depth > 5 or node.value in self.params or node.value in self.declared:
            return False
        site = sites[0] if len(sites) == 1 else None
        if isinstance(site, cst.Assign) and len(site.targets) == 1:
            return self.exact(site.value, depth + 1)
        if isinstance(site, cst.For) and isinstance(site.target, cst.Name):
            iterator = site.iter  # `for i in range(...)` yields exact ints
            return (
                isinstance(iterator, cst.Call)
                and dotted_name(iterator.func) == "range"
                and self.is_builtin("range")
            )
        return False

    def hoist_statement(self, name: str, loops: list[cst.CSTNode]) -> cst.BaseStatement | None:
        """The statement to build the set before, when `name` is a list/tuple fixed there."""
        if name in self.declared:
            return None
        sites = self.bindings.get(name, [])
        binding: cst.CSTNode | None = None
        if name in self.params:
            if sites or not _is_sequence_param(self.function, name):
                return None
        elif len(sites) == 1 and self.sequence_value(sites[0]):
            binding = sites[0]
        else:
            return None
        # The outermost loop that does not contain the binding: the name is fixed inside it.
        chosen = None
        for loop in loops:
            if binding is not None and self.contains(loop, binding):
                break
            chosen = loop
        statement = (
            block_statement(chosen, self.parents, self.function) if chosen is not None else None
        )
        if statement is None or (
            binding is not None and not runs_before(binding, statement, self.parents)
        ):
            return None
        return statement

    def sequence_value(self, site: cst.CSTNode) -> bool:
        """`name = [...]`: a list/tuple display, a list comprehension, list()/tuple()/sorted()."""
        value: cst.BaseExpression | None = None
        if isinstance(site, cst.Assign) and len(site.targets) == 1:
            if isinstance(site.targets[0].target, cst.Name):
                value = site.value
        elif isinstance(site, cst.AnnAssign) and isinstance(site.target, cst.Name):
            value = site.value
        if isinstance(value, cst.List | cst.Tuple | cst.ListComp):
            return True
        return (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Name)
            and value.func.value in _SEQUENCE_BUILDERS
            and self.is_builtin(value.func.value)
        )

    def enclosing_loops(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """Loops that evaluate `node` once per pass, innermost first ([] in a nested scope)."""
        loops: list[cst.CSTNode] = []
        previous, current = node, node
        while current is not self.function and current in self.parents:
            parent = self.parents[current]
            if isinstance(parent, SCOPES) and parent is not self.function:
                return []  # inside a lambda/def/class: that one is its own target
            if isinstance(parent, cst.For) and current is parent.body:
                loops.append(parent)
            elif isinstance(parent, cst.While) and current in (parent.body, parent.test):
                loops.append(parent)
            elif isinstance(parent, COMPREHENSIONS):
                # The outermost iterable is evaluated once, before the comprehension runs.
                if not (current is parent.for_in and previous is parent.for_in.iter):
                    loops.append(parent)
            previous, current = current, parent
        return loops

    def contains(self, outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
        """`inner` is `outer` or under it."""
        return inner is outer or any(a is outer for a in ancestors(inner, self.parents))


def _is_sequence_param(function: cst.FunctionDef, name: str) -> bool:
    """`*args`, or a parameter annotated `list[...]`/`tuple[...]` (annotations can lie:
    this is one reason the fix is unsafe)."""
    params = function.params
    star = params.star_arg
    if isinstance(star, cst.Param) and star.name.value == name:
        return True
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name and param.annotation is not None:
            annotation = param.annotation.annotation
            if isinstance(annotation, cst.Subscript):
                annotation = annotation.value
            return dotted_name(annotation) in _SEQUENCE_TYPES
    return False
