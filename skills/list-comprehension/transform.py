"""PP106: `result = []` then `for x in xs: result.append(f(x))` → a list comprehension."""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import Edit, apply_edits, single_assign
from perfpilot.skills.cst_helpers import (
    CATCHING,
    COMPREHENSIONS,
    Parents,
    all_nodes,
    ancestors,
    body_nodes,
    children,
    declared_names,
    has_ancestor,
    has_comment,
    names_in,
    nested_scope_names,
    parameter_names,
    parent_map,
    variable_names,
)
from perfpilot.tools.model import Applicability

from .layout import Clause, comprehension, indentation

# Names that behave differently inside a comprehension's own scope: zero-argument super()
# and __class__ need the method's frame; locals()/vars()/dir()/eval()/exec() see the
# comprehension's variables, not the function's (Python < 3.12).
_SCOPE_SENSITIVE = frozenset({"super", "__class__", "locals", "vars", "dir", "eval", "exec"})
LINE_LENGTH = 88  # ruff's and black's default; a longer result is laid out one clause a line


@dataclass(frozen=True)
class _Loop:
    """One opportunity: `name = []` and the loop that only appends to it."""

    name: str
    init: cst.SimpleStatementLine
    loop: cst.For
    element: cst.BaseExpression
    clauses: tuple[Clause, ...]
    caught: bool  # inside a try/with: an exception mid-loop may be observed


@dataclass
class ListComprehension(Transform):
    """Find append-only loops building a fresh list; build the list with a comprehension."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per `name = []` + append loop."""
        calls = parsed.source.calls
        often = f" ({calls:,} call{'s' if calls != 1 else ''} in the profile)" if calls else ""
        found = []
        for index, loop in enumerate(_loops(parsed.function)):
            caveat = (
                "; inside a try/with, where an exception caught mid-loop would no longer"
                " leave a partial list behind"
                if loop.caught
                else ""
            )
            found.append(
                parsed.opportunity(
                    loop.loop,
                    key=f"append#{index}",
                    title=(
                        f"Build `{loop.name}` with a list comprehension in `{parsed.source.name}`"
                    ),
                    evidence=(
                        f"`{loop.name}.append(...)` in a for loop{often} looks up and calls"
                        " the method on every pass; a list comprehension appends with a single"
                        f" bytecode instruction{caveat}"
                    ),
                    applicability=Applicability.UNSAFE if loop.caught else Applicability.SAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Put the comprehension in the `name = []` line and delete the loop."""
        loops = _loops(parsed.function)
        loop = opportunity.numbered(loops)
        if loop is None:
            return Rewrite.failed("the append loop is no longer in the function")
        assign = loop.init.body[0]
        assert isinstance(assign, cst.Assign)
        indent = indentation(parsed, loop.init)
        comment = loop.init.trailing_whitespace.comment
        used = len(indent) + len(f"{loop.name} = ") + (len(comment.value) + 2 if comment else 0)
        try:
            text = comprehension(parsed, loop.element, loop.clauses, LINE_LENGTH - used)
            value = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return Rewrite.failed("the comprehension does not parse")
        edits: dict[cst.CSTNode, Edit] = {
            loop.loop: lambda _node: cst.RemovalSentinel.REMOVE,
            assign: lambda node: node.with_changes(value=value),  # type: ignore[attr-defined]
        }
        module = apply_edits(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One loop fewer, and one more comprehension computing exactly what that loop did."""
        old = _loops(before.function)
        if len(_loops(after.function)) != len(old) - 1:
            return "the rewritten function still has the append loop"
        loop = opportunity.numbered(old)
        if loop is None:
            return "the append loop is not in the original function"
        wanted = _signature(before, loop)
        added = _comprehensions(after) - _comprehensions(before)
        if added != Counter([wanted]):
            return "the new comprehension does not compute what the loop appended"
        return None


def _loops(function: cst.FunctionDef) -> list[_Loop]:
    """The qualifying `name = []` + loop pairs of the function, in source order."""
    own = list(body_nodes(function))
    parents = parent_map(function)
    declared = declared_names(function.body)
    nested = nested_scope_names(function)
    found = []
    for block in (n for n in [function.body, *own] if isinstance(n, cst.IndentedBlock)):
        statements = list(block.body)
        for init, loop in zip(statements, statements[1:]):
            name = _empty_list_init(init)
            if name is None or name in declared or name in nested:
                continue
            if not isinstance(loop, cst.For):
                continue
            shape = _shape(loop, name)
            if shape is None or not _contained(loop, name, function, declared, parents):
                continue
            element, clauses = shape
            assert isinstance(init, cst.SimpleStatementLine)
            # A try/with could catch what the loop raises: after it, code of this function
            # could read the list half built (after the rewrite: its previous binding).
            caught = has_ancestor(loop, parents, CATCHING, function)
            found.append(_Loop(name, init, loop, element, clauses, caught))
    return found


def _empty_list_init(statement: cst.BaseStatement) -> str | None:
    """`name` when the statement is exactly `name = []` (no comment inside the brackets)."""
    assigned = single_assign(statement)
    if assigned is None:
        return None
    name, value = assigned
    if not isinstance(value, cst.List) or value.elements or has_comment(value):
        return None
    return name


def _shape(loop: cst.For, name: str) -> tuple[cst.BaseExpression, tuple[Clause, ...]] | None:
    """(element, clauses) when the loop nest only appends one value to `name`, else None."""
    if has_comment(loop):
        return None  # a comment in the loop would be lost
    clauses: list[Clause] = []
    node: cst.CSTNode = loop
    while True:
        if isinstance(node, cst.For):
            if node.asynchronous is not None or node.orelse is not None:
                return None
            if not _plain_target(node.target):
                return None
            clauses.append(("for", node.target, node.iter))
        elif isinstance(node, cst.If):
            if node.orelse is not None:
                return None
            clauses.append(("if", node.test, None))
        else:
            break
        body = node.body
        inner = body.body if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite) else []
        if len(inner) != 1:
            return None
        node = inner[0]
        if isinstance(node, cst.SimpleStatementLine):
            if len(node.body) != 1:
                return None
            node = node.body[0]
    element = _appended(node, name)
    if element is None:
        return None
    return element, tuple(clauses)


def _appended(node: cst.CSTNode, name: str) -> cst.BaseExpression | None:
    """The value of `name.append(value)` as an expression statement, else None."""
    if not isinstance(node, cst.Expr) or not isinstance(node.value, cst.Call):
        return None
    call = node.value
    func = call.func
    if not (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value == name
        and func.attr.value == "append"
        and len(call.args) == 1
        and not call.args[0].star
        and call.args[0].keyword is None
    ):
        return None
    return call.args[0].value


def _plain_target(target: cst.BaseExpression) -> bool:
    """Names, or tuples/lists of names: no attribute or item assignment with side effects."""
    if isinstance(target, cst.Name):
        return True
    if isinstance(target, cst.Tuple | cst.List):
        return all(_plain_target(e.value) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _plain_target(target.value)
    return False


def _contained(
    loop: cst.For,
    name: str,
    function: cst.FunctionDef,
    declared: set[str],
    parents: Parents,
) -> bool:
    """The loop's variables live only in the loop, and the loop only appends to `name`."""
    inside = list(variable_names(loop))
    if sum(1 for n in inside if n == name) != 1:
        return False  # `name` is read in the loop (or appended to twice)
    if any(n in _SCOPE_SENSITIVE for n in inside):
        return False
    for node in all_nodes(loop):
        if isinstance(node, cst.Yield | cst.Await | cst.NamedExpr):
            return False
        if isinstance(node, cst.CompFor) and node.asynchronous is not None:
            return False
    targets: set[str] = set()
    for node in all_nodes(loop):
        if isinstance(node, cst.For):
            targets |= names_in(node.target)
    if targets & (declared | set(parameter_names(function))):
        return False
    # A comprehension does not leak its variables: nobody may read them after the loop.
    return not any(_read_outside(t, loop, function, parents) for t in targets)


def _read_outside(name: str, loop: cst.For, function: cst.FunctionDef, parents: Parents) -> bool:
    """`name` is used outside `loop` where it could still hold the loop's last value.

    Uses inside another for loop that binds `name` (its target and body, when it does not
    contain `loop`), inside a comprehension that binds it (all but the first iterable), or in
    the body of a nested function/lambda having it as a parameter see their own binding.
    Anything else (code after the loop, a closure, another loop's `else`) counts as a read.
    """
    holders = {id(loop)} | {id(a) for a in ancestors(loop, parents)}
    stack: list[tuple[cst.CSTNode, bool]] = [(function.body, False)]
    while stack:
        node, shielded = stack.pop()
        if node is loop:
            continue
        if isinstance(node, cst.Name):
            if node.value == name and not shielded:
                return True
            continue
        binds, first = False, None
        if isinstance(node, cst.Attribute | cst.Arg):
            stack.append((node.value, shielded))
            continue
        if isinstance(node, cst.For) and id(node) not in holders:
            binds = name in names_in(node.target)
            stack.append((node.iter, shielded))
            if node.orelse is not None:
                stack.append((node.orelse, shielded))
            stack += [(node.target, shielded or binds), (node.body, shielded or binds)]
            continue
        if isinstance(node, COMPREHENSIONS):
            first = node.for_in
            binds = name in names_in(first.target)
            for child in (*children(node), *children(first)):
                if child is not first:
                    stack.append((child, shielded or (binds and child is not first.iter)))
            continue
        if isinstance(node, cst.FunctionDef | cst.Lambda):
            binds = name in parameter_names(node)
            stack += [(c, shielded or (binds and c is node.body)) for c in children(node)]
            continue
        stack += [(c, shielded) for c in children(node)]
    return False


def _signature(parsed: Parsed, loop: _Loop) -> tuple[object, ...]:
    """What a loop or comprehension computes, as ASTs: insensitive to layout and parentheses."""
    clauses = tuple(
        (kind, _dump(parsed.code(first)), _dump(parsed.code(second)) if second else None)
        for kind, first, second in loop.clauses
    )
    return (loop.name, _dump(parsed.code(loop.element)), clauses)


def _comprehensions(parsed: Parsed) -> Counter[tuple[object, ...]]:
    """Signatures of every `name = [comprehension]` statement of the function."""
    found: Counter[tuple[object, ...]] = Counter()
    for node in body_nodes(parsed.function):
        if not (isinstance(node, cst.Assign) and isinstance(node.value, cst.ListComp)):
            continue
        target = node.targets[0].target
        if len(node.targets) != 1 or not isinstance(target, cst.Name):
            continue
        comp = node.value
        clauses: list[tuple[str, str, str | None]] = []
        level: cst.CompFor | None = comp.for_in
        while level is not None:
            iterable = _dump(parsed.code(level.iter))
            clauses.append(("for", _dump(parsed.code(level.target)), iterable))
            clauses += [("if", _dump(parsed.code(c.test)), None) for c in level.ifs]
            level = level.inner_for_in
        found[(target.value, _dump(parsed.code(comp.elt)), tuple(clauses))] += 1
    return found


def _dump(code: str) -> str:
    try:
        return ast.dump(ast.parse(f"(\n{code}\n)", mode="eval"))
    except SyntaxError:
        return code  # a mismatch shows up as a guard refusal, never as a crash


TRANSFORM = ListComprehension()
