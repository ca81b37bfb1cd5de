"""PP111: `self._sort()` where `_sort` is `if not self._is_sorted: ...` → test the guard first."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.class_facts import Method
from perfpilot.skills.cst_edits import apply_edits
from perfpilot.skills.cst_helpers import parent_map
from perfpilot.skills.method_calls import (
    Caller,
    MethodCall,
    Substitute,
    caller_of,
    is_simple,
    method_calls,
)
from perfpilot.tools.model import Applicability

# Comparisons that never run user code: identity. (`==` calls `__eq__`.)
_PURE_COMPARISONS = (ast.Is, ast.IsNot)


@dataclass(frozen=True)
class _Guarded:
    use: MethodCall
    line: cst.SimpleStatementLine  # the statement that is only the call
    test: cst.BaseExpression  # the method's guard, arguments substituted


@dataclass
class CheckGuardBeforeCall(Transform):
    """Put a called method's early-exit test in front of the call."""

    reads_module: bool = True

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per guarded method called as a statement in the function."""
        caller = caller_of(parsed)
        if caller is None:
            return []
        found: dict[str, list[_Guarded]] = {}
        for guarded in self._guarded(parsed, caller):
            found.setdefault(guarded.use.method.name, []).append(guarded)
        opportunities = []
        for name, uses in found.items():
            first = uses[0]
            test = _code(first.test)
            opportunities.append(
                parsed.opportunity(
                    first.use.call,
                    key=f"guard:{name}",
                    title=f"Test `{test}` before calling `{name}` in `{parsed.source.name}`",
                    evidence=(
                        f"`{name}` does nothing unless `{test}`; calling it anyway costs a"
                        " method lookup and a Python frame each time"
                        + (f" ({parsed.source.calls:,} calls)" if parsed.source.calls else "")
                    ),
                    applicability=(Applicability.SAFE if caller.private else Applicability.UNSAFE),
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Wrap each statement-call of the method in `if <guard>:`."""
        caller = caller_of(parsed)
        name = opportunity.key.partition(":")[2]
        guarded = self._guarded(parsed, caller) if caller is not None else []
        uses = [g for g in guarded if g.use.method.name == name]
        if not uses:
            return Rewrite.failed(f"no call of `{name}` to guard is left in the function")
        edits = {g.line: _wrap(g.test) for g in uses}
        return Rewrite(function_text=parsed.render(apply_edits(parsed.module, edits)))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """Every call of the method now sits under its own guard; no other call was added."""
        name = opportunity.key.partition(":")[2]
        caller = caller_of(after)
        if caller is None:
            return "the rewritten function is no longer a method of a proven class"
        if any(g.use.method.name == name for g in self._guarded(after, caller)):
            return f"a call of `{name}` is still unguarded"
        old = [u for u in method_calls(before, caller) if u.method.name == name]
        new = [u for u in method_calls(after, caller) if u.method.name == name]
        if len(old) != len(new):
            return f"the rewrite changed how many times `{name}` is called"
        return None

    def _guarded(self, parsed: Parsed, caller: Caller) -> list[_Guarded]:
        parents = parent_map(parsed.function, nested=False)
        found = []
        for use in method_calls(parsed, caller):
            statement = parents.get(use.call)
            line = parents.get(statement) if statement is not None else None
            if not (
                isinstance(statement, cst.Expr)
                and isinstance(line, cst.SimpleStatementLine)
                and len(line.body) == 1
            ):
                continue  # only a call whose value is unused, alone on its line
            test = _guard_test(use, caller, parsed.source.module.source)
            if test is not None and not _already_guarded(line, parents, _code(test)):
                found.append(_Guarded(use, line, test))
        return found


def _guard_test(use: MethodCall, caller: Caller, text: str) -> cst.BaseExpression | None:
    """The method's guard with its parameters replaced by the call's arguments, or None."""
    method = use.method
    statement = method.statement
    if not isinstance(statement, ast.If) or statement.orelse:
        return None
    if not all(is_simple(arg) for arg in use.args):
        return None
    if not _pure(statement.test, method, caller):
        return None
    segment = ast.get_source_segment(text, statement.test)
    if segment is None or "\n" in segment:
        return None
    try:
        template = cst.parse_expression(segment)
    except cst.ParserSyntaxError:
        return None
    mapping: dict[str, cst.BaseExpression] = dict(zip(method.params, use.args, strict=True))
    if method.receiver is not None and caller.receiver is not None:
        mapping[method.receiver] = cst.Name(caller.receiver)
    result = template.visit(Substitute(mapping))
    assert isinstance(result, cst.BaseExpression)
    return result


def _pure(test: ast.expr, method: Method, caller: Caller) -> bool:
    """The test reads data only: `not`, `and`/`or`, `is`, constants, parameters, `self.attr`.

    `self.attr` must not be a method, property or other class-level name of the class: a data
    attribute read runs no code. Truth tests of the values read call their `__bool__` (builtin
    values: no code) twice when the guard passes: once here, once in the method.
    """
    allowed = (ast.BoolOp, ast.And, ast.Or, ast.Not, ast.Constant, ast.Load, *_PURE_COMPARISONS)
    for node in ast.walk(test):
        if isinstance(node, allowed):
            continue
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            continue
        if isinstance(node, ast.Compare):
            if all(isinstance(op, _PURE_COMPARISONS) for op in node.ops):
                continue
            return False
        if isinstance(node, ast.Attribute):
            if not (isinstance(node.value, ast.Name) and node.value.id == method.receiver):
                return False
            if node.attr in caller.facts.class_names:
                return False
            continue
        if isinstance(node, ast.Name) and (node.id in method.params or node.id == method.receiver):
            continue
        return False
    return True


def _already_guarded(
    line: cst.SimpleStatementLine, parents: dict[cst.CSTNode, cst.CSTNode], test: str
) -> bool:
    """The call is already the only statement of an `if` testing the same guard."""
    block = parents.get(line)
    branch = parents.get(block) if block is not None else None
    return (
        isinstance(block, cst.IndentedBlock)
        and isinstance(branch, cst.If)
        and len(block.body) == 1
        and _code(branch.test) == test
    )


def _wrap(test: cst.BaseExpression):  # noqa: ANN202 - an Edit
    def edit(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.SimpleStatementLine)
        inner = node.with_changes(leading_lines=())
        return cst.If(
            test=test, body=cst.IndentedBlock(body=[inner]), leading_lines=node.leading_lines
        )

    return edit


def _code(node: cst.BaseExpression) -> str:
    return cst.Module(body=[]).code_for_node(node)


TRANSFORM = CheckGuardBeforeCall()
