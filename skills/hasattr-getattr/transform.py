"""PP117: `if hasattr(o, "a"): return o.a` + `return D` → `return getattr(o, "a", D)`.

hasattr() is a getattr() that throws the value away: the attribute is looked up twice when
it exists (and a function call more). One getattr() with a default looks it up once. The two
spellings differ only when the lookup has effects or changes between the two reads (a
property, `__getattr__`): the fix is UNSAFE, for verification or a person to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import apply_edits
from perfpilot.skills.cst_helpers import (
    body_nodes,
    deleted_names,
    has_comment,
    is_constant,
    parameter_names,
    shadowed_builtins,
)
from perfpilot.tools.model import Applicability


@dataclass(frozen=True)
class _Use:
    node: cst.If | cst.IfExp  # the if statement, or the conditional expression
    obj: str
    attribute: str  # the attribute's name, as a string literal's text
    default: cst.BaseExpression
    after: cst.SimpleStatementLine | None  # the `return D` that follows an if statement
    comment: cst.Comment | None  # a trailing comment that goes with the new line


@dataclass
class HasattrGetattr(Transform):
    """Find hasattr() guarding a read of the same attribute; read it once with a default."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per guarded read, in source order."""
        found = []
        for index, use in enumerate(_uses(parsed)):
            line, column, _, _ = parsed.location(use.node)
            found.append(
                Opportunity(
                    key=f"hasattr#{index}",
                    title=(
                        f"Read `{use.obj}.{use.attribute.strip(chr(39) + chr(34))}` once with"
                        f" getattr() and a default in `{parsed.source.name}`"
                    ),
                    evidence=(
                        "hasattr() looks the attribute up and throws the value away, then the"
                        " code looks it up again; getattr() with a default does one lookup and"
                        " one call. Same result unless the attribute is a property or"
                        " `__getattr__` with effects, or changes between the two reads"
                    ),
                    line=line,
                    column=column,
                    end_line=line,
                    end_column=column + 2,
                    applicability=Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Swap the guarded read (and the `return D` after it) for one getattr() call."""
        uses = _uses(parsed)
        use = opportunity.numbered(uses)
        if use is None:
            return Rewrite.failed("the hasattr() guard is no longer there")
        call = f"getattr({use.obj}, {use.attribute}, {parsed.code(use.default)})"
        config = parsed.module.config_for_parsing
        if isinstance(use.node, cst.IfExp):
            expression = cst.parse_expression(call, config=config)
            expression = expression.with_changes(lpar=use.node.lpar, rpar=use.node.rpar)
            module = apply_edits(parsed.module, {use.node: lambda _node: expression})
            return Rewrite(function_text=parsed.render(module))
        line = cst.parse_statement(f"return {call}\n", config=config)
        assert isinstance(line, cst.SimpleStatementLine)
        line = line.with_changes(leading_lines=use.node.leading_lines)
        if use.comment is not None:
            line = line.with_changes(
                trailing_whitespace=cst.TrailingWhitespace(
                    whitespace=cst.SimpleWhitespace("  "), comment=use.comment
                )
            )
        edits = {use.node: lambda _node: line}
        if use.after is not None:
            edits[use.after] = lambda _node: cst.RemoveFromParent()
        module = apply_edits(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One hasattr() call fewer, getattr and hasattr still the builtins."""
        if _calls(after, "hasattr") != _calls(before, "hasattr") - 1 or _shadowed(after):
            return "the rewritten function does not have one hasattr() call fewer"
        return None


def _uses(parsed: Parsed) -> list[_Use]:
    if _shadowed(parsed):
        return []
    function = parsed.function
    # Parameters are bound from the first line on, unless deleted: then a default read
    # eagerly could raise where the original did not.
    params = set(parameter_names(function)) - deleted_names(function)
    elifs = {id(n.orelse) for n in body_nodes(function) if isinstance(n, cst.If)}
    uses = []
    for node in body_nodes(function):
        if isinstance(node, cst.IfExp):
            guard = _guard(node.test)
            if guard and _reads(node.body, *guard) and _cheap(node.orelse, params):
                if not has_comment(node):
                    uses.append(_Use(node, *guard, node.orelse, None, None))
        elif isinstance(node, cst.If) and id(node) not in elifs:
            use = _statement_use(parsed, node, params)
            if use is not None:
                uses.append(use)
    return uses


def _statement_use(parsed: Parsed, node: cst.If, params: set[str]) -> _Use | None:
    """`if hasattr(o, a): return o.a` then `return D` (the next statement, or the else)."""
    guard = _guard(node.test)
    if guard is None or not isinstance(node.body, cst.IndentedBlock):
        return None
    returned = _returned(node.body.body)
    if returned is None or not _reads(returned[0], *guard):
        return None
    after: cst.SimpleStatementLine | None = None
    if isinstance(node.orelse, cst.Else) and isinstance(node.orelse.body, cst.IndentedBlock):
        other = _returned(node.orelse.body.body)
    elif node.orelse is None:
        after = _next_statement(parsed, node)
        other = _returned([after] if after is not None else [])
    else:
        return None
    if other is None or not _cheap(other[0], params):
        return None
    comments = [c for c in (returned[1], other[1]) if c is not None]
    if len(comments) > 1 or has_comment(node.test) or _header_comment(node):
        return None
    if after is not None and any(line.comment for line in after.leading_lines):
        return None
    return _Use(node, *guard, other[0], after, comments[0] if comments else None)


def _header_comment(node: cst.If) -> bool:
    body = node.body
    header = body.header if isinstance(body, cst.IndentedBlock) else None
    if header is not None and header.comment is not None:
        return True
    if isinstance(node.orelse, cst.Else) and isinstance(node.orelse.body, cst.IndentedBlock):
        return node.orelse.body.header.comment is not None
    return False


def _next_statement(parsed: Parsed, node: cst.If) -> cst.SimpleStatementLine | None:
    """The statement right after `node` in its block, when it is a simple line."""
    for block in body_nodes(parsed.function):
        if isinstance(block, cst.IndentedBlock):
            statements = list(block.body)
            for index, statement in enumerate(statements):
                if statement is node and index + 1 < len(statements):
                    following = statements[index + 1]
                    if isinstance(following, cst.SimpleStatementLine):
                        return following
    if any(s is node for s in parsed.function.body.body):
        statements = list(parsed.function.body.body)
        index = next(i for i, s in enumerate(statements) if s is node)
        if index + 1 < len(statements) and isinstance(
            statements[index + 1], cst.SimpleStatementLine
        ):
            return statements[index + 1]  # type: ignore[return-value]
    return None


def _returned(
    statements: list[cst.BaseStatement] | tuple[cst.BaseStatement, ...],
) -> tuple[cst.BaseExpression, cst.Comment | None] | None:
    """(value, trailing comment) of a block that is exactly one `return <value>` line."""
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return None
    line = statements[0]
    if len(line.body) != 1 or not isinstance(line.body[0], cst.Return):
        return None
    value = line.body[0].value
    if value is None or has_comment(value):
        return None
    return value, line.trailing_whitespace.comment


def _guard(test: cst.BaseExpression) -> tuple[str, str] | None:
    """(object name, attribute literal) of `hasattr(name, "literal")`."""
    if not (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Name)
        and test.func.value == "hasattr"
        and len(test.args) == 2
        and all(a.keyword is None and not a.star for a in test.args)
    ):
        return None
    obj, attribute = test.args[0].value, test.args[1].value
    if not isinstance(obj, cst.Name) or not isinstance(attribute, cst.SimpleString):
        return None
    name = attribute.evaluated_value
    if not isinstance(name, str) or not name.isidentifier():
        return None
    return obj.value, attribute.value


def _reads(value: cst.BaseExpression, obj: str, attribute: str) -> bool:
    """`value` is `obj.<attribute>` or `getattr(obj, <attribute>)`."""
    name = cst.SimpleString(attribute).evaluated_value
    if isinstance(value, cst.Attribute) and not value.lpar:
        return (
            isinstance(value.value, cst.Name)
            and value.value.value == obj
            and value.attr.value == name
        )
    return (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == "getattr"
        and len(value.args) == 2
        and isinstance(value.args[0].value, cst.Name)
        and value.args[0].value.value == obj
        and isinstance(value.args[1].value, cst.SimpleString)
        and value.args[1].value.evaluated_value == name
    )


def _cheap(value: cst.BaseExpression, params: set[str]) -> bool:
    """A default getattr() may evaluate eagerly: a constant or a parameter (always bound)."""
    return is_constant(value) or (isinstance(value, cst.Name) and value.value in params)


def _calls(parsed: Parsed, name: str) -> int:
    return sum(
        1
        for node in body_nodes(parsed.function)
        if isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == name
    )


def _shadowed(parsed: Parsed) -> bool:
    """Whether getattr or hasattr may not be the builtin here."""
    names = ("getattr", "hasattr")
    return bool(shadowed_builtins(parsed.function, parsed.source.module, names))


TRANSFORM = HasattrGetattr()
