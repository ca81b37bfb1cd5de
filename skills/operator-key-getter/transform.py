"""PP123: `key=lambda r: r[0]` → `key=itemgetter(0)`, `key=lambda r: r.name` → `attrgetter(...)`.

`sorted`, `min`, `max`, `list.sort`, `heapq.nsmallest`, `itertools.groupby`... call the key
once per element. A lambda runs a Python frame for each; `operator.itemgetter` and
`operator.attrgetter` do the subscript or the attribute lookup in C. `itemgetter(a, b)` returns
the tuple `(r[a], r[b])`, exactly what `lambda r: (r[a], r[b])` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import (
    body_nodes,
    bound_names,
    dotted_name,
    has_comment,
    parameter_names,
    shadowed_builtins,
)
from perfpilot.tools.model import Applicability

# Callers known to call `key` with one positional argument and nothing else (no keyword call,
# no introspection of the callable): builtins, list.sort and the stdlib's keyed functions.
_KNOWN_CALLERS = frozenset(
    {"sorted", "min", "max", "sort"}
    | {f"heapq.{n}" for n in ("nlargest", "nsmallest", "merge")}
    | {"itertools.groupby"}
    | {f"bisect.{n}" for n in ("bisect", "bisect_left", "bisect_right", "insort", "insort_left")}
)


@dataclass(frozen=True)
class _Use:
    arg: cst.Arg  # the `key=` argument
    getter: str  # "itemgetter" or "attrgetter"
    operands: tuple[str, ...]  # source text of each getter argument
    known_caller: bool = False


@dataclass
class OperatorKeyGetter(Transform):
    """Replace a key lambda that only subscripts or reads attributes with an operator getter."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per `key=lambda` of the getter shape."""
        found = []
        for index, use in enumerate(_uses(parsed)):
            new = f"{use.getter}({', '.join(use.operands)})"
            found.append(
                parsed.opportunity(
                    use.arg.value,
                    key=f"key#{index}",
                    title=f"Use `key={new}` in `{parsed.source.name}`",
                    evidence=(
                        "the key function runs once per element: a lambda is a Python call"
                        f" each time, `operator.{use.getter}` does the same lookup in C and"
                        " returns the same value"
                    ),
                    applicability=(
                        Applicability.SAFE if use.known_caller else Applicability.UNSAFE
                    ),
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Swap the lambda for the getter; import it unless the module already has it."""
        uses = _uses(parsed)
        use = opportunity.numbered(uses)
        if use is None:
            return Rewrite.failed("the key lambda is no longer there")
        prefix, imports = _getter_name(parsed, use.getter)
        if prefix is None:
            return Rewrite.failed(f"`{use.getter}` or `operator` names something else here")
        value = cst.parse_expression(f"{prefix}({', '.join(use.operands)})")
        module = replace_nodes(parsed.module, {use.arg.value: value})
        return Rewrite(function_text=parsed.render(module), imports=imports)

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One key lambda fewer; the getter names are not rebound in the function."""
        if len(_uses(after)) != len(_uses(before)) - 1:
            return "the rewritten function does not have one key lambda fewer"
        local = bound_names(after.function.body) | set(parameter_names(after.function))
        if local & {"itemgetter", "attrgetter", "operator"}:
            return "the function binds itemgetter, attrgetter or operator itself"
        return None


def _uses(parsed: Parsed) -> list[_Use]:
    uses = []
    for node in body_nodes(parsed.function):
        if not isinstance(node, cst.Call):
            continue
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "key":
                use = _getter_of(arg, parsed)
                if use is not None and _getter_name(parsed, use.getter)[0] is not None:
                    uses.append(replace(use, known_caller=_known_caller(node, parsed)))
    return uses


def _known_caller(call: cst.Call, parsed: Parsed) -> bool:
    """`sorted(...)`, `x.sort(...)`, `heapq.nlargest(...)`...: a caller that only calls the key."""
    facts = parsed.source.module
    local = bound_names(parsed.function.body) | set(parameter_names(parsed.function))
    func = call.func
    if isinstance(func, cst.Name):
        name = func.value
        if name in ("sorted", "min", "max"):
            return not shadowed_builtins(parsed.function, facts, (name,))
        target = facts.imports.get(name)  # `from heapq import nlargest`
        return target in _KNOWN_CALLERS and name not in facts.rebound and name not in local
    if isinstance(func, cst.Attribute):
        if func.attr.value == "sort":
            return True  # list.sort; another class's sort(key=...) is the caller's own risk
        base = dotted_name(func.value)
        module = facts.imports.get(base or "") if base else None
        return (
            module is not None
            and f"{module}.{func.attr.value}" in _KNOWN_CALLERS
            and base not in local
            and base not in facts.rebound
        )
    return False


def _getter_of(arg: cst.Arg, parsed: Parsed) -> _Use | None:
    """`lambda r: r[k]`, `lambda r: (r[a], r[b])`, `lambda r: r.a.b`, constant subscripts only."""
    function = arg.value
    if not isinstance(function, cst.Lambda) or has_comment(function):
        return None
    params = function.params
    if params.posonly_params or params.kwonly_params or params.star_kwarg:
        return None
    if params.star_arg is not cst.MaybeSentinel.DEFAULT or len(params.params) != 1:
        return None
    param = params.params[0]
    if param.default is not None:
        return None
    name = param.name.value
    body = function.body
    parts = list(body.elements) if isinstance(body, cst.Tuple) and body.elements else [body]
    if isinstance(body, cst.Tuple) and len(parts) < 2:
        return None  # `(r[0],)` is a one-tuple; itemgetter(0) is not
    items = [_item(p.value if isinstance(p, cst.Element) else p, name, parsed) for p in parts]
    if all(i is not None for i in items):
        return _Use(arg, "itemgetter", tuple(i for i in items if i is not None))
    if len(parts) == 1:
        path = _attribute_path(body, name)
        if path is not None:
            return _Use(arg, "attrgetter", (f'"{path}"',))
    return None


def _item(node: cst.CSTNode, name: str, parsed: Parsed) -> str | None:
    """The source of `k` in `name[k]` when `k` is a literal number, string or negative number."""
    if not isinstance(node, cst.Subscript) or node.lpar:
        return None
    if not (isinstance(node.value, cst.Name) and node.value.value == name):
        return None
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    index = node.slice[0].slice.value
    literal = isinstance(index, cst.Integer | cst.SimpleString) or (
        isinstance(index, cst.UnaryOperation)
        and isinstance(index.operator, cst.Minus)
        and isinstance(index.expression, cst.Integer)
    )
    if not literal or (isinstance(index, cst.SimpleString) and "f" in index.prefix.lower()):
        return None
    return parsed.code(index)


def _attribute_path(node: cst.CSTNode, name: str) -> str | None:
    """`a.b` for `name.a.b` (no dunder: attrgetter reads those too, but rarely meant)."""
    names: list[str] = []
    while isinstance(node, cst.Attribute) and not node.lpar:
        names.append(node.attr.value)
        node = node.value
    if not names or not (isinstance(node, cst.Name) and node.value == name and not node.lpar):
        return None
    if any(n.startswith("__") for n in names):
        return None
    return ".".join(reversed(names))


def _getter_name(parsed: Parsed, getter: str) -> tuple[str | None, tuple[str, ...]]:
    """How to name the getter here, and the import to add (if any)."""
    facts = parsed.source.module
    function = parsed.function
    local = bound_names(function.body) | set(parameter_names(function))
    direct = facts.binding_for(f"operator.{getter}")
    if direct is not None and direct not in local:
        return direct, ()
    module = facts.binding_for("operator")
    if module is not None and module not in local:
        return f"{module}.{getter}", ()
    if getter in facts.identifiers or getter in local:
        return None, ()  # the name is used for something else in this file
    return getter, (f"from operator import {getter}",)


TRANSFORM = OperatorKeyGetter()
