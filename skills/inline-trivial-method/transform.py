"""PP110: `self.isword(c)` where `isword` is `return c.isalpha()` → `c.isalpha()`, in the caller."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.class_facts import Method, free_names, inlinable_expression, uses
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import parent_map
from perfpilot.skills.method_calls import (
    Caller,
    MethodCall,
    Substitute,
    caller_of,
    is_simple,
    method_calls,
    parenthesized,
)
from perfpilot.tools.model import Applicability


@dataclass(frozen=True)
class _Inline:
    use: MethodCall
    replacement: cst.BaseExpression


@dataclass
class InlineTrivialMethod(Transform):
    """Inline calls of one-expression methods of the caller's own class."""

    reads_module: bool = True

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per function: every inlinable call in it, all methods together."""
        caller = caller_of(parsed)
        inlines = self._inlines(parsed)
        if not inlines or caller is None:
            return []
        names = list(dict.fromkeys(i.use.method.name for i in inlines))
        first = inlines[0].use
        line, column, end_line, end_column = parsed.location(first.call)
        listed = ", ".join(f"`{n}`" for n in names)
        body = first.method.source.strip()
        calls = parsed.source.calls
        often = f" ({calls:,} calls of `{parsed.source.name}` in the profile)" if calls else ""
        return [
            Opportunity(
                key="inline:" + ",".join(names),
                title=f"Inline {listed} into `{parsed.source.name}`",
                evidence=(
                    f"{len(inlines)} call{'s' if len(inlines) != 1 else ''} of one-line"
                    f" method{'s' if len(names) != 1 else ''} of the same class (`{names[0]}`"
                    f" is `{body}`){often}: each pays a method lookup and a Python frame"
                    " for one expression; its package defines each once and never overrides"
                    " or assigns it"
                ),
                line=line,
                column=column,
                end_line=end_line,
                end_column=end_column,
                applicability=Applicability.SAFE if caller.private else Applicability.UNSAFE,
            )
        ]

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Replace every inlinable call by the method's expression, arguments substituted."""
        inlines = self._inlines(parsed)
        if not inlines:
            return Rewrite.failed("no inlinable method call is left in the function")
        module = replace_nodes(parsed.module, {i.use.call: i.replacement for i in inlines})
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """The rewritten function calls none of the inlined methods any more."""
        if not self._inlines(before):
            return "nothing to inline in the original"
        if self._inlines(after):
            return "the rewritten function still calls a one-line method"
        return None

    def _inlines(self, parsed: Parsed) -> list[_Inline]:
        caller = caller_of(parsed)
        if caller is None:
            return []
        parents = parent_map(parsed.function, nested=False)
        found = []
        for use in method_calls(parsed, caller):
            replacement = _replacement(use, caller, parents, parsed.source.module.source)
            if replacement is not None:
                found.append(_Inline(use, replacement))
        return found


def _replacement(
    use: MethodCall, caller: Caller, parents: dict[cst.CSTNode, cst.CSTNode], text: str
) -> cst.BaseExpression | None:
    """The expression to put in place of the call, or None when inlining is not provably equal."""
    method = use.method
    expression = inlinable_expression(method)
    if expression is None:
        return None
    if isinstance(method.statement, ast.Expr) and not isinstance(parents.get(use.call), cst.Expr):
        return None  # a bare-expression body returns None: only a call whose value is unused
    if any(uses(expression, param) == 0 for param in method.params):
        return None  # an argument the body ignores would no longer be evaluated
    if free_names(expression, method) & caller.bound:
        return None  # a global the method reads is a local of the caller
    if method.receiver is not None and _calls_own_method(expression, method.receiver, caller):
        return None  # one level at a time: the inlined code would call another such method
    if not all(is_simple(arg) for arg in use.args) and not _keeps_order(expression, method):
        return None
    segment = ast.get_source_segment(text, expression)
    if segment is None or "\n" in segment:
        return None
    try:
        template = cst.parse_expression(segment)
    except cst.ParserSyntaxError:
        return None
    mapping = {
        param: parenthesized(arg) for param, arg in zip(method.params, use.args, strict=True)
    }
    if method.receiver is not None and method.kind == "method" and caller.receiver is not None:
        mapping[method.receiver] = cst.Name(caller.receiver)
    replaced = template.visit(Substitute(mapping))
    assert isinstance(replaced, cst.BaseExpression)
    return parenthesized(replaced)


def _calls_own_method(expression: ast.expr, receiver: str, caller: Caller) -> bool:
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == receiver
        and node.func.attr in caller.facts.methods
        for node in ast.walk(expression)
    )


def _keeps_order(expression: ast.expr, method: Method) -> bool:
    """A non-trivial argument is still evaluated first, and exactly once, when inlined.

    True for a one-parameter method whose expression is `p.attr(<constants>)`, `p.attr` or
    `name(p, <constants>)`: nothing that can run code comes before `p`.
    """
    params = method.params
    if len(params) != 1 or uses(expression, params[0]) != 1:
        return False
    p = params[0]

    def is_p(node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id == p

    def constants(args: list[ast.expr]) -> bool:
        return all(isinstance(a, ast.Constant) for a in args)

    if isinstance(expression, ast.Attribute):
        return is_p(expression.value)
    if not isinstance(expression, ast.Call) or expression.keywords:
        return False
    func = expression.func
    if isinstance(func, ast.Attribute) and is_p(func.value):
        return constants(expression.args)
    if isinstance(func, ast.Name) and expression.args and is_p(expression.args[0]):
        return constants(expression.args[1:])
    return False


TRANSFORM = InlineTrivialMethod()
