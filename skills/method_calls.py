"""Calls of the caller's own class's methods (`self.m(...)`), matched to what the module proves."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import libcst as cst

from perfpilot.skills.api import Parsed
from perfpilot.skills.class_facts import ClassFacts, Method, class_facts
from perfpilot.skills.cst_helpers import binding_sites, body_nodes, parameter_names
from perfpilot.skills.package_scan import shadowed_elsewhere


@dataclass
class Caller:
    """The function being fixed as a method: its class, receiver and the names it binds."""

    facts: ClassFacts
    receiver: str | None  # `self`/`cls`; None for a staticmethod caller
    kind: str  # "method", "classmethod", "staticmethod"
    bound: frozenset[str]  # parameters and every name bound in the body
    path: str  # the module's file: its package is scanned only when a call needs it

    @cached_property
    def shadowed(self) -> frozenset[str]:
        """The class's methods that the package's other files override or assign."""
        names = frozenset(self.facts.methods)
        found = shadowed_elsewhere(self.path, self.facts.name, names) if names else None
        return names if found is None else found

    @property
    def private(self) -> bool:
        """The class is private to its package (`_timelex`): no outside subclass is supported."""
        return self.facts.name.startswith("_")


@dataclass(frozen=True)
class MethodCall:
    """`self.name(args)` in the caller, where `name` is a method the module proves unshadowed."""

    call: cst.Call
    method: Method
    args: tuple[cst.BaseExpression, ...]


def caller_of(parsed: Parsed) -> Caller | None:
    """The caller's class facts, when it is a method of a top-level class of its module."""
    source = parsed.source
    parts = source.qualname.split(".")
    if not source.in_class or len(parts) != 2 or not source.module.source:
        return None
    facts = class_facts(source.module.source, parts[0])
    if facts is None:
        return None
    function = parsed.function
    kind = "method"
    for decorator in function.decorators:
        name = decorator.decorator
        if isinstance(name, cst.Name) and name.value in ("classmethod", "staticmethod"):
            kind = name.value
    params = parameter_names(function)
    bound = frozenset({*params, *binding_sites(function)})
    receiver = params[0] if kind != "staticmethod" and function.params.params else None
    if receiver is not None and receiver in binding_sites(function):
        receiver = None  # `self` rebound: a call on it may not reach this class
    return Caller(facts, receiver, kind, bound, source.path)


def method_calls(parsed: Parsed, caller: Caller) -> list[MethodCall]:
    """Every `receiver.m(positional args)` call of a proven method, in source order."""
    if caller.receiver is None:
        return []
    found: list[MethodCall] = []
    for node in body_nodes(parsed.function):
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == caller.receiver
        ):
            continue
        method = caller.facts.methods.get(func.attr.value)
        if method is None or method.name in caller.shadowed:
            continue
        if method.kind == "method" and caller.kind == "classmethod":
            continue  # `cls.m(x)` calls the plain function with x as self
        if any(arg.star or arg.keyword is not None for arg in node.args):
            continue
        if len(node.args) != len(method.params):
            continue
        found.append(MethodCall(node, method, tuple(arg.value for arg in node.args)))
    return found


def is_simple(node: cst.BaseExpression) -> bool:
    """A local name or a constant: evaluating it cannot run code, so its timing cannot matter."""
    if isinstance(node, cst.Name | cst.SimpleString | cst.Integer | cst.Float):
        return not node.lpar
    return False


class Substitute(cst.CSTTransformer):
    """Replace variable Names (not attribute or keyword names) by expressions."""

    def __init__(self, mapping: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self.mapping = mapping
        self.skip: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.skip.add(id(node.keyword))

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if id(original) in self.skip or original.value not in self.mapping:
            return updated
        return self.mapping[original.value].deep_clone()


_ATOMIC = (
    cst.Name,
    cst.Attribute,
    cst.Subscript,
    cst.Call,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.SimpleString,
    cst.FormattedString,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
)


def parenthesized(node: cst.BaseExpression) -> cst.BaseExpression:
    """`node` wrapped in parentheses unless it is an atom (binds tighter than any operator)."""
    if isinstance(node, _ATOMIC) or node.lpar:
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
