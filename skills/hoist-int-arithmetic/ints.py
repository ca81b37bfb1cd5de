"""Which locals of a function are provably `int` objects, from every place that binds them.

A name is an int when each of its bindings in the function is one of: an int literal, `len()`
of anything (the builtin), an int arithmetic of ints (`+ - * // % & | ^ << >>`, unary `- + ~`),
`abs()`/`min()`/`max()` of ints, `x += <int>` style augmented assignments, or the target of a
`for` over the builtin `range(...)`. Parameters and anything else are unknown. The answer is a
least fixed point: names that only depend on each other and nothing known stay unknown.
"""

from __future__ import annotations

import libcst as cst

from perfpilot.skills.cst_helpers import binding_sites, parameter_names, shadowed_builtins
from perfpilot.tools.module_facts import ModuleFacts

# Operators whose result is an int when both operands are ints (never a float).
INT_BINARY = (
    cst.Add,
    cst.Subtract,
    cst.Multiply,
    cst.FloorDivide,
    cst.Modulo,
    cst.BitAnd,
    cst.BitOr,
    cst.BitXor,
    cst.LeftShift,
    cst.RightShift,
)
INT_UNARY = (cst.Minus, cst.Plus, cst.BitInvert)
_INT_CALLS = frozenset({"len", "abs", "min", "max"})
_BUILTINS_USED = _INT_CALLS | {"range"}


def int_names(function: cst.FunctionDef, facts: ModuleFacts) -> frozenset[str]:
    """The function's locals that are ints wherever they are bound."""
    sites = binding_sites(function)
    # Comprehension targets count too (binding_sites has them): `len` bound in one may be
    # called there.
    local = set(sites) | set(parameter_names(function))
    shadowed = shadowed_builtins(function, facts, _BUILTINS_USED, local)
    candidates = {
        name for name in sites if name not in parameter_names(function) and _simple(sites[name])
    }
    known: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name in sorted(candidates - known):
            if all(_binds_int(site, name, known, shadowed) for site in sites[name]):
                known.add(name)
                changed = True
    return frozenset(known)


def _simple(sites: list[cst.CSTNode]) -> bool:
    return all(isinstance(s, cst.Assign | cst.AugAssign | cst.AnnAssign | cst.For) for s in sites)


def _binds_int(site: cst.CSTNode, name: str, known: set[str], shadowed: set[str]) -> bool:
    """Whether this binding of `name` gives it an int, given the names already known."""
    if isinstance(site, cst.Assign):
        if not all(isinstance(t.target, cst.Name) for t in site.targets):
            return False  # `a, b = ...`: the parts are not known
        return is_int(site.value, known, shadowed)
    if isinstance(site, cst.AnnAssign):
        return site.value is not None and is_int(site.value, known, shadowed)
    if isinstance(site, cst.AugAssign):
        # By induction over the bindings: an int updated by an int operation stays an int.
        return isinstance(site.operator, _AUG_INT) and is_int(site.value, known | {name}, shadowed)
    if isinstance(site, cst.For):
        iterable = site.iter
        return (
            isinstance(site.target, cst.Name)
            and isinstance(iterable, cst.Call)
            and isinstance(iterable.func, cst.Name)
            and iterable.func.value == "range"
            and "range" not in shadowed
            and site.asynchronous is None
        )
    return False


_AUG_INT = (
    cst.AddAssign,
    cst.SubtractAssign,
    cst.MultiplyAssign,
    cst.FloorDivideAssign,
    cst.ModuloAssign,
    cst.BitAndAssign,
    cst.BitOrAssign,
    cst.BitXorAssign,
    cst.LeftShiftAssign,
    cst.RightShiftAssign,
)


def is_int(node: cst.BaseExpression, known: set[str] | frozenset[str], shadowed: set[str]) -> bool:
    """Whether `node` evaluates to an int (or raises) given the int names `known`."""
    if isinstance(node, cst.Integer):
        return True
    if isinstance(node, cst.Name):
        return node.value in known
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, INT_UNARY) and is_int(node.expression, known, shadowed)
    if isinstance(node, cst.BinaryOperation):
        return (
            isinstance(node.operator, INT_BINARY)
            and is_int(node.left, known, shadowed)
            and is_int(node.right, known, shadowed)
        )
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
        name = node.func.value
        if name not in _INT_CALLS or name in shadowed or not node.args:
            return False
        if any(a.keyword is not None or a.star for a in node.args):
            return False
        if name == "len":
            return len(node.args) == 1
        if name == "abs":
            return len(node.args) == 1 and is_int(node.args[0].value, known, shadowed)
        return len(node.args) >= 2 and all(is_int(a.value, known, shadowed) for a in node.args)
    return False
