"""PP125: a loop (or `any`) trying `isinstance(x, t)` per type `t` → one `isinstance(x, types)`.

    for choice in choices:                      if isinstance(token, choices):
        if isinstance(token, choice):     →         return True
            return True
    any(isinstance(x, t) for t in types)  →     isinstance(x, types)

`isinstance` given a tuple tries its items in order in C, with the same per-item checks (the
exact-type shortcut, `__instancecheck__`, the same TypeError for an item that is not a type),
so only the Python loop around it goes. The iterable must be a tuple: a `*args` parameter the
function never rebinds, or a tuple display.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import (
    bound_names,
    deleted_names,
    has_comment,
    parameter_names,
    shadowed_builtins,
    variable_names,
)
from perfpilot.skills.cst_walk import own_nodes
from perfpilot.tools.model import Applicability

_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class _Site:
    node: cst.For | cst.Call  # the loop, or the `any(...)` call
    checked: cst.BaseExpression  # x in isinstance(x, t)
    types: cst.BaseExpression  # the tuple iterated over
    safe: bool


@dataclass
class IsinstanceTuple(Transform):
    """Pass the tuple of types to one `isinstance` instead of looping over it in Python."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per isinstance loop or `any(isinstance(...) for ...)` over a tuple."""
        found = []
        for index, site in enumerate(_sites(parsed)):
            checked = parsed.code(site.checked)
            caveat = (
                ""
                if site.safe
                else f"; `{checked}` is now evaluated once, and also when the tuple is empty,"
                " where the loop evaluated it once per type tried (an attribute, a subscript"
                " or a call may run code or raise)"
            )
            found.append(
                parsed.opportunity(
                    site.node,
                    key=f"isinstance#{index}",
                    title=f"Check `{checked}` against the whole tuple in one `isinstance`",
                    evidence=(
                        "a Python loop calls `isinstance` once per type; `isinstance` takes the"
                        f" tuple itself and tries the same types in the same order in C{caveat}"
                    ),
                    applicability=Applicability.SAFE if site.safe else Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """The loop becomes its own `if` with the tuple as isinstance's second argument."""
        site = opportunity.numbered(_sites(parsed))
        if site is None:
            return Rewrite.failed("the isinstance loop is no longer there")
        call = cst.Call(
            func=cst.Name("isinstance"),
            args=[
                cst.Arg(site.checked, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Arg(_parenthesized(site.types)),
            ],
        )
        if isinstance(site.node, cst.Call):
            module = replace_nodes(parsed.module, {site.node: call})
        else:
            test = _only_if(site.node)
            assert test is not None  # _sites checked the shape
            statement = test.with_changes(test=call, leading_lines=site.node.leading_lines)
            module = replace_nodes(parsed.module, {site.node: statement})
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One isinstance loop fewer, and `isinstance` still the builtin."""
        if len(_sites(after)) != len(_sites(before)) - 1:
            return "the rewritten function does not have one isinstance loop fewer"
        if _shadowed(after, "isinstance"):
            return "isinstance is not the builtin in the rewritten function"
        return None


def _sites(parsed: Parsed) -> list[_Site]:
    """The isinstance loops and `any(isinstance...)` calls over a tuple, in source order."""
    if _shadowed(parsed, "isinstance"):
        return []
    function = parsed.function
    star = function.params.star_arg
    star_name = star.name.value if isinstance(star, cst.Param) else None
    found = []
    for node in own_nodes(function.body):
        if isinstance(node, cst.For):
            site = _loop_site(parsed, node, star_name)
        elif isinstance(node, cst.Call):
            site = _any_site(parsed, node, star_name)
        else:
            continue
        if site is not None:
            found.append(site)
    return found


def _loop_site(parsed: Parsed, loop: cst.For, star_name: str | None) -> _Site | None:
    """`for t in TYPES: if isinstance(x, t): return C` (nothing else, no else, no comment)."""
    if loop.asynchronous is not None or loop.orelse is not None or has_comment(loop):
        return None
    if not isinstance(loop.target, cst.Name):
        return None
    test = _only_if(loop)
    if test is None or test.orelse is not None:
        return None
    body = test.body
    if not (isinstance(body, cst.IndentedBlock) and len(body.body) == 1):
        return None
    (line,) = body.body
    if not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1):
        return None
    (statement,) = line.body
    if not (isinstance(statement, cst.Return) and _plain_constant(statement.value)):
        return None
    checked = _isinstance_of(test.test, loop.target.value)
    if checked is None:
        return None
    # The loop variable keeps the last type after a loop; the rewrite never binds it.
    uses = list(variable_names(parsed.function.body))
    if uses.count(loop.target.value) != 2:  # the for target and isinstance's argument
        return None
    if not _is_tuple(parsed, loop.iter, star_name):
        return None
    return _Site(loop, checked, loop.iter, _evaluates_freely(parsed, checked))


def _any_site(parsed: Parsed, call: cst.Call, star_name: str | None) -> _Site | None:
    """`any(isinstance(x, t) for t in TYPES)` with the builtin `any`."""
    if not (isinstance(call.func, cst.Name) and call.func.value == "any"):
        return None
    if _shadowed(parsed, "any") or len(call.args) != 1:
        return None
    (arg,) = call.args
    generator = arg.value
    if arg.keyword is not None or arg.star or not isinstance(generator, cst.GeneratorExp):
        return None
    loop = generator.for_in
    if loop.asynchronous is not None or loop.ifs or loop.inner_for_in is not None:
        return None
    if not isinstance(loop.target, cst.Name) or has_comment(generator):
        return None
    checked = _isinstance_of(generator.elt, loop.target.value)
    if checked is None or not _is_tuple(parsed, loop.iter, star_name):
        return None
    return _Site(call, checked, loop.iter, _evaluates_freely(parsed, checked))


def _only_if(loop: cst.For) -> cst.If | None:
    body = loop.body
    if isinstance(body, cst.IndentedBlock) and len(body.body) == 1:
        (only,) = body.body
        if isinstance(only, cst.If):
            return only
    return None


def _isinstance_of(test: cst.BaseExpression, variable: str) -> cst.BaseExpression | None:
    """x when `test` is `isinstance(x, variable)` and x does not read `variable`."""
    if not (isinstance(test, cst.Call) and isinstance(test.func, cst.Name)):
        return None
    if test.func.value != "isinstance" or len(test.args) != 2:
        return None
    first, second = test.args
    if any(a.keyword is not None or a.star for a in test.args):
        return None
    if not (isinstance(second.value, cst.Name) and second.value.value == variable):
        return None
    if variable in set(variable_names(first.value)):
        return None
    if any(isinstance(n, cst.Await | cst.Yield | cst.NamedExpr) for n in own_nodes(first.value)):
        return None
    return first.value


def _is_tuple(parsed: Parsed, node: cst.BaseExpression, star_name: str | None) -> bool:
    """A `*args` parameter the function never rebinds or deletes, or a tuple display."""
    if isinstance(node, cst.Tuple):
        return bool(node.elements) and not any(
            isinstance(e, cst.StarredElement) for e in node.elements
        )
    if not (isinstance(node, cst.Name) and node.value == star_name):
        return False
    return star_name not in bound_names(parsed.function.body)  # `del` and `global` count too


def _parenthesized(types: cst.BaseExpression) -> cst.BaseExpression:
    """`for t in A, B:` iterates a bare tuple; as an argument it needs its parentheses."""
    if isinstance(types, cst.Tuple) and not types.lpar:
        return types.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return types


def _evaluates_freely(parsed: Parsed, checked: cst.BaseExpression) -> bool:
    """A parameter never deleted: reading it runs no code and cannot raise."""
    if not isinstance(checked, cst.Name):
        return False
    function = parsed.function
    return checked.value in parameter_names(function) and checked.value not in deleted_names(
        function.body
    )


def _plain_constant(value: cst.BaseExpression | None) -> bool:
    return isinstance(value, cst.Name) and value.value in ("True", "False", "None")


def _shadowed(parsed: Parsed, name: str) -> bool:
    """`name` may not be the builtin here: bound in the module or the function."""
    if name not in _BUILTINS:
        return True
    return bool(shadowed_builtins(parsed.function, parsed.source.module, [name]))


TRANSFORM = IsinstanceTuple()
