"""PP116: `try: return getattr(o, n)` / `except AttributeError:` → getattr with a default.

When the attribute is often missing (jinja2's `Environment.getattr` on dict items), the
original raises, builds and catches an AttributeError each time; `getattr(o, n, default)`
asks the type's lookup not to raise at all (for ordinary classes CPython never creates the
exception), and a sentinel tells "missing" from any value the attribute could hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import apply_edits
from perfpilot.skills.cst_helpers import (
    all_nodes,
    body_nodes,
    deleted_names,
    has_comment,
    is_constant,
    names_in,
    parameter_names,
    shadowed_builtins,
)
from perfpilot.skills.naming import local_name, module_name
from perfpilot.tools.model import Applicability


@dataclass(frozen=True)
class _Use:
    statement: cst.Try
    obj: cst.BaseExpression  # what the attribute is read from
    attribute: cst.BaseExpression  # its name, as an expression (`"x"` for `o.x`)
    target: str | None  # `x = <lookup>`; None for `return <lookup>`
    default: cst.BaseExpression | None  # the handler's `x = D` / `return D`, when that simple
    handler: cst.BaseSuite  # the handler's body (moved after the lookup when not a default)

    @property
    def falls_through(self) -> bool:
        """The handler is only `pass`: nothing runs where the exception was caught."""
        body = self.handler.body
        return (
            len(body) == 1
            and isinstance(body[0], cst.SimpleStatementLine)
            and all(isinstance(s, cst.Pass) for s in body[0].body)
        )


@dataclass
class GetattrDefault(Transform):
    """Find try/except AttributeError around one attribute read; use getattr's default."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per rewritable try statement, in source order."""
        found = []
        for index, use in enumerate(_uses(parsed)):
            line, column, end_line, end_column = parsed.location(use.statement)
            end_line, end_column = line, column + len("try:")
            exact = use.default is not None or use.falls_through
            found.append(
                Opportunity(
                    key=f"try#{index}",
                    title=(
                        "Use getattr() with a default instead of catching AttributeError in"
                        f" `{parsed.source.name}`"
                    ),
                    evidence=(
                        "each missing attribute raises, builds and catches an AttributeError"
                        " (~1 µs on CPython 3.11); getattr() with a default does the same lookup"
                        " and, for ordinary classes, never creates the exception"
                        + (
                            ""
                            if exact
                            else "; an exception raised in the handler's code no longer has the"
                            " AttributeError as its context (tracebacks read differently)"
                        )
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=Applicability.SAFE if exact else Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """The lookup with a default, then the handler's code when the sentinel came back."""
        uses = _uses(parsed)
        use = opportunity.numbered(uses)
        if use is None:
            return Rewrite.failed("the try statement is no longer there")
        config = parsed.module.config_for_parsing
        obj, attribute = parsed.code(use.obj), parsed.code(use.attribute)
        leading = use.statement.leading_lines
        if use.default is not None:
            lookup = f"getattr({obj}, {attribute}, {parsed.code(use.default)})"
            text = f"{use.target} = {lookup}\n" if use.target else f"return {lookup}\n"
            line = cst.parse_statement(text, config=config).with_changes(leading_lines=leading)
            module = apply_edits(parsed.module, {use.statement: lambda _node: line})
            return Rewrite(function_text=parsed.render(module))
        # One sentinel per function: fixes of several functions of a module are applied
        # together, each adding its own definition.
        sentinel = module_name(f"_{parsed.source.name}_missing", parsed.source.module)
        value = use.target or local_name("value", parsed.function, parsed.source.module)
        lookup = cst.parse_statement(
            f"{value} = getattr({obj}, {attribute}, {sentinel})\n", config=config
        ).with_changes(leading_lines=leading)
        statements: list[cst.BaseStatement] = [lookup]
        if use.target is None:
            statements.append(
                cst.parse_statement(f"if {value} is not {sentinel}:\n    return {value}\n", config)
            )
            if not use.falls_through:
                statements.extend(use.handler.body)  # type: ignore[arg-type]
        else:
            branch = cst.parse_statement(f"if {value} is {sentinel}:\n    pass\n", config=config)
            assert isinstance(branch, cst.If)
            statements.append(branch.with_changes(body=use.handler))
        module = apply_edits(
            parsed.module, {use.statement: lambda _node: cst.FlattenSentinel(statements)}
        )
        return Rewrite(
            function_text=parsed.render(module), definitions=(f"{sentinel} = object()\n",)
        )

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One such try fewer and one three-argument getattr() more, getattr still the builtin."""
        if len(_uses(after)) != len(_uses(before)) - 1 or _shadowed(after):
            return "the rewritten function does not have one try/except AttributeError fewer"
        if _defaulted(after) != _defaulted(before) + 1:
            return "the rewritten function does not have one getattr() with a default more"
        return None


def _uses(parsed: Parsed) -> list[_Use]:
    """The function's `try: <one attribute read> / except AttributeError: ...` statements."""
    if _shadowed(parsed):
        return []
    function = parsed.function
    # Parameters are bound from the first line on, unless deleted: then a default read
    # eagerly could raise where the original did not.
    params = set(parameter_names(function)) - deleted_names(function)
    uses = []
    for node in body_nodes(function):
        if not isinstance(node, cst.Try) or node.orelse or node.finalbody:
            continue
        if len(node.handlers) != 1 or has_comment(node.body) or has_comment(node.handlers[0]):
            continue
        handler = node.handlers[0]
        if not _catches_attribute_error(handler) or handler.name is not None:
            continue
        if any(isinstance(n, cst.Raise) and n.exc is None for n in all_nodes(handler.body)):
            continue  # a bare raise re-raises the caught AttributeError: there is none
        read = _single_read(node.body)
        if read is None:
            continue
        target, obj, attribute = read
        default = _simple_default(handler.body, target, params)
        if target is not None and default is None and not _assigns_target(handler, target):
            continue  # after the handler `target` may be unbound: keep that as it is
        uses.append(_Use(node, obj, attribute, target, default, handler.body))
    return uses


def _catches_attribute_error(handler: cst.ExceptHandler) -> bool:
    return isinstance(handler.type, cst.Name) and handler.type.value == "AttributeError"


def _single_read(
    body: cst.BaseSuite,
) -> tuple[str | None, cst.BaseExpression, cst.BaseExpression] | None:
    """(target, object, attribute name) of a body that is one `return/x = o.a` or getattr(o, n).

    The object and the name must be plain names or constants: evaluating them cannot raise
    an AttributeError of their own (which the try would have caught and getattr would not).
    """
    if len(body.body) != 1 or not isinstance(body.body[0], cst.SimpleStatementLine):
        return None
    line = body.body[0]
    if len(line.body) != 1:
        return None
    statement = line.body[0]
    target: str | None = None
    if isinstance(statement, cst.Return) and statement.value is not None:
        value = statement.value
    elif (
        isinstance(statement, cst.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0].target, cst.Name)
    ):
        target, value = statement.targets[0].target.value, statement.value
    else:
        return None
    if isinstance(value, cst.Attribute) and not value.lpar:
        obj: cst.BaseExpression = value.value
        attribute: cst.BaseExpression = cst.SimpleString(repr(value.attr.value))
    elif (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == "getattr"
        and len(value.args) == 2
        and all(a.keyword is None and not a.star for a in value.args)
    ):
        obj, attribute = value.args[0].value, value.args[1].value
    else:
        return None
    if not all(_plain(e) for e in (obj, attribute)) or target in _names(obj, attribute):
        return None
    return target, obj, attribute


def _plain(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Name) and not node.lpar) or isinstance(node, cst.SimpleString)


def _names(*nodes: cst.BaseExpression) -> set[str]:
    return {n.value for n in nodes if isinstance(n, cst.Name)}


def _simple_default(
    handler: cst.BaseSuite, target: str | None, params: set[str]
) -> cst.BaseExpression | None:
    """D of a handler that is just `return D` (or `target = D`), D a constant or a parameter.

    D is then evaluated even when the attribute exists: only values that cannot raise or
    cost anything qualify (a parameter is always bound, unless the function deletes it).
    """
    if len(handler.body) != 1 or not isinstance(handler.body[0], cst.SimpleStatementLine):
        return None
    line = handler.body[0]
    if len(line.body) != 1:
        return None
    statement = line.body[0]
    if target is None and isinstance(statement, cst.Return) and statement.value is not None:
        value = statement.value
    elif (
        target is not None
        and isinstance(statement, cst.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0].target, cst.Name)
        and statement.targets[0].target.value == target
    ):
        value = statement.value
    else:
        return None
    if is_constant(value) or (isinstance(value, cst.Name) and value.value in params):
        return value
    return None


def _assigns_target(handler: cst.ExceptHandler, target: str) -> bool:
    """The handler's first statement binds `target` (so it is bound after the try either way)."""
    first = handler.body.body[0] if handler.body.body else None
    if not isinstance(first, cst.SimpleStatementLine):
        return False
    statement = first.body[0]
    return (
        isinstance(statement, cst.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0].target, cst.Name)
        and statement.targets[0].target.value == target
        and target not in names_in(statement.value)  # it would read the sentinel
    )


def _defaulted(parsed: Parsed) -> int:
    return sum(
        1
        for node in body_nodes(parsed.function)
        if isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "getattr"
        and len(node.args) == 3
    )


def _shadowed(parsed: Parsed) -> bool:
    """Whether getattr may not be the builtin here, or AttributeError not the exception."""
    names = ("getattr", "AttributeError", "object")
    return bool(shadowed_builtins(parsed.function, parsed.source.module, names))


TRANSFORM = GetattrDefault()
