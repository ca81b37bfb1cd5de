"""PP106: `result = []` then `for x in xs: result.append(f(x))` → a list comprehension."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_helpers import body_nodes, children, names_in, parameter_names
from perfpilot.tools.model import Applicability

_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
# Statements that can catch or swallow an exception raised by the loop: after one, code of
# this function could read the list half built (after the rewrite: its previous binding).
_CATCHING = (cst.Try, cst.TryStar, cst.With)
# Names that behave differently inside a comprehension's own scope: zero-argument super()
# and __class__ need the method's frame; locals()/vars()/dir()/eval()/exec() see the
# comprehension's variables, not the function's (Python < 3.12).
_SCOPE_SENSITIVE = frozenset({"super", "__class__", "locals", "vars", "dir", "eval", "exec"})
# What cannot stand unparenthesized as a comprehension's iterable or condition.
_NEEDS_PARENS = (cst.IfExp, cst.Lambda, cst.NamedExpr, cst.Yield)
LINE_LENGTH = 88  # ruff's and black's default; a longer result is laid out one clause a line

# ("for", target, iterable) or ("if", condition, None)
Clause = tuple[str, cst.BaseExpression, cst.BaseExpression | None]


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
            line, column, end_line, end_column = parsed.location(loop.loop)
            caveat = (
                "; inside a try/with, where an exception caught mid-loop would no longer"
                " leave a partial list behind"
                if loop.caught
                else ""
            )
            found.append(
                Opportunity(
                    key=f"append#{index}",
                    title=(
                        f"Build `{loop.name}` with a list comprehension in `{parsed.source.name}`"
                    ),
                    evidence=(
                        f"`{loop.name}.append(...)` in a for loop{often} looks up and calls"
                        " the method on every pass; a list comprehension appends with a single"
                        f" bytecode instruction{caveat}"
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=Applicability.UNSAFE if loop.caught else Applicability.SAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Put the comprehension in the `name = []` line and delete the loop."""
        loops = _loops(parsed.function)
        _, _, number = opportunity.key.partition("#")
        index = int(number) if number.isdigit() else -1
        if not 0 <= index < len(loops):
            return Rewrite.failed("the append loop is no longer in the function")
        loop = loops[index]
        assign = loop.init.body[0]
        assert isinstance(assign, cst.Assign)
        indent = _indentation(parsed, loop.init)
        comment = loop.init.trailing_whitespace.comment
        used = len(indent) + len(f"{loop.name} = ") + (len(comment.value) + 2 if comment else 0)
        try:
            text = _comprehension(parsed, loop, LINE_LENGTH - used)
            value = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return Rewrite.failed("the comprehension does not parse")
        module = parsed.module.visit(_Replace(assign, value, loop.loop))
        assert isinstance(module, cst.Module)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One loop fewer, and one more comprehension computing exactly what that loop did."""
        old = _loops(before.function)
        if len(_loops(after.function)) != len(old) - 1:
            return "the rewritten function still has the append loop"
        _, _, number = opportunity.key.partition("#")
        index = int(number) if number.isdigit() else -1
        if not 0 <= index < len(old):
            return "the append loop is not in the original function"
        wanted = _signature(before, old[index])
        added = _comprehensions(after) - _comprehensions(before)
        if added != Counter([wanted]):
            return "the new comprehension does not compute what the loop appended"
        return None


class _Replace(cst.CSTTransformer):
    """Swap the initial `[]` for the comprehension and remove the loop."""

    def __init__(self, assign: cst.Assign, value: cst.BaseExpression, loop: cst.For) -> None:
        super().__init__()
        self.assign, self.value, self.loop = assign, value, loop

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel:
        if original_node is self.loop:
            return cst.RemovalSentinel.REMOVE
        if original_node is self.assign:
            return updated_node.with_changes(value=self.value)  # type: ignore[attr-defined]
        return updated_node


def _loops(function: cst.FunctionDef) -> list[_Loop]:
    """The qualifying `name = []` + loop pairs of the function, in source order."""
    own = list(body_nodes(function))
    parents = _parent_map(function)
    declared = _declared(function)
    nested = set().union(*(names_in(n) for n in own if isinstance(n, _SCOPES)))
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
            caught = _caught(loop, parents, function)
            found.append(_Loop(name, init, loop, element, clauses, caught))
    return found


def _empty_list_init(statement: cst.BaseStatement) -> str | None:
    """`name` when the statement is exactly `name = []` (no comment inside the brackets)."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    target, value = assign.targets[0].target, assign.value
    if not isinstance(target, cst.Name) or not isinstance(value, cst.List) or value.elements:
        return None
    if any(isinstance(n, cst.Comment) for n in _all_nodes(value)):
        return None
    return target.value


def _shape(loop: cst.For, name: str) -> tuple[cst.BaseExpression, tuple[Clause, ...]] | None:
    """(element, clauses) when the loop nest only appends one value to `name`, else None."""
    if any(isinstance(n, cst.Comment) for n in _all_nodes(loop)):
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
    parents: dict[cst.CSTNode, cst.CSTNode],
) -> bool:
    """The loop's variables live only in the loop, and the loop only appends to `name`."""
    inside = list(_variables(loop))
    if sum(1 for n in inside if n == name) != 1:
        return False  # `name` is read in the loop (or appended to twice)
    if any(n in _SCOPE_SENSITIVE for n in inside):
        return False
    for node in _all_nodes(loop):
        if isinstance(node, cst.Yield | cst.Await | cst.NamedExpr):
            return False
        if isinstance(node, cst.CompFor) and node.asynchronous is not None:
            return False
    targets: set[str] = set()
    for node in _all_nodes(loop):
        if isinstance(node, cst.For):
            targets |= names_in(node.target)
    if targets & (declared | set(parameter_names(function))):
        return False
    # A comprehension does not leak its variables: nobody may read them after the loop.
    return not any(_read_outside(t, loop, function, parents) for t in targets)


def _read_outside(
    name: str, loop: cst.For, function: cst.FunctionDef, parents: dict[cst.CSTNode, cst.CSTNode]
) -> bool:
    """`name` is used outside `loop` where it could still hold the loop's last value.

    Uses inside another for loop that binds `name` (its target and body, when it does not
    contain `loop`), inside a comprehension that binds it (all but the first iterable), or in
    the body of a nested function/lambda having it as a parameter see their own binding.
    Anything else (code after the loop, a closure, another loop's `else`) counts as a read.
    """
    holders: set[int] = set()
    current: cst.CSTNode | None = loop
    while current is not None:
        holders.add(id(current))
        current = parents.get(current)
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
        if isinstance(node, cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp):
            first = node.for_in
            binds = name in names_in(first.target)
            for child in (*children(node), *children(first)):
                if child is not first:
                    stack.append((child, shielded or (binds and child is not first.iter)))
            continue
        if isinstance(node, cst.FunctionDef | cst.Lambda):
            binds = name in _parameters(node.params)
            stack += [(c, shielded or (binds and c is node.body)) for c in children(node)]
            continue
        stack += [(c, shielded) for c in children(node)]
    return False


def _parameters(params: cst.Parameters) -> set[str]:
    names = {p.name.value for p in (*params.posonly_params, *params.params)}
    names |= {p.name.value for p in params.kwonly_params}
    for extra in (params.star_arg, params.star_kwarg):
        if isinstance(extra, cst.Param):
            names.add(extra.name.value)
    return names


def _indentation(parsed: Parsed, statement: cst.CSTNode) -> str:
    """The whitespace before the statement on its first line."""
    start = parsed.position(statement).start
    line = parsed.module.code.split("\n")[start.line - 1]
    return line[: len(line) - len(line.lstrip())]


def _comprehension(parsed: Parsed, loop: _Loop, room: int) -> str:
    """The comprehension's text: on one line when it fits in `room`, else a clause a line
    (libcst indents the lines inside the brackets by the statement's own indentation)."""
    indent = parsed.module.default_indent
    pieces: list[str] = []
    for kind, first, second in (("", loop.element, None), *loop.clauses):
        if kind == "for":
            assert second is not None
            head = f"for {parsed.code(first)} in "
            pieces.append(head + _placed(parsed, second, len(indent) + len(head)))
        elif kind == "if":
            pieces.append("if " + _placed(parsed, first, len(indent) + 3))
        else:
            pieces.append(_placed(parsed, first, len(indent)))
    line = f"[{' '.join(pieces)}]"
    if "\n" not in line and len(line) <= room:
        return line
    inner = "\n".join(f"{indent}{piece}" for piece in pieces)
    return f"[\n{inner}\n]"


def _placed(parsed: Parsed, node: cst.BaseExpression, at: int) -> str:
    """The code of an element, iterable or condition, parenthesized where a comprehension
    needs it; a multi-line one keeps its shape, its first line now at column `at` past the
    statement's indentation."""
    code = parsed.code(node)
    wrap = isinstance(node, (*_NEEDS_PARENS, cst.GeneratorExp, cst.Tuple)) and not node.lpar
    if "\n" in code:
        code = _reflowed(parsed, node, at + (1 if wrap else 0))
    # `append(x for x in y)` borrowed the call's parentheses; `for x in a, b` needs some.
    return f"({code})" if wrap else code


def _reflowed(parsed: Parsed, node: cst.BaseExpression, at: int) -> str:
    """The node's source lines, re-indented so that they keep their offsets from its first
    line. Inside the comprehension's brackets no backslash is needed: they are dropped, so
    every line break is one that libcst indents with the statement. A multi-line string
    would change: then the code is returned as libcst renders it."""
    code = parsed.code(node)
    for inner in _all_nodes(node):
        if isinstance(inner, cst.SimpleString | cst.FormattedString) and "\n" in parsed.code(inner):
            return code
    where = parsed.position(node)
    lines = parsed.module.code.split("\n")[where.start.line - 1 : where.end.line]
    lines[-1] = lines[-1][: where.end.column]
    lines[0] = lines[0][where.start.column :]
    if " ".join("\n".join(lines).split()) != " ".join(code.split()) or "\t" in "".join(lines):
        return code  # positions and rendering disagree, or tabs: keep libcst's rendering
    first = where.start.column
    out = []
    for number, line in enumerate(lines):
        line = line.rstrip()
        if line.endswith("\\"):
            line = line[:-1].rstrip()
        if number and line:
            spaces = len(line) - len(line.lstrip(" "))
            line = " " * max(0, spaces - first + at) + line.lstrip(" ")
        out.append(line)
    return "\n".join(out)


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


def _caught(node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode], stop: cst.CSTNode) -> bool:
    """A try/with between `node` and `stop` could catch what the loop raises."""
    current = parents.get(node)
    while current is not None and current is not stop:
        if isinstance(current, _CATCHING):
            return True
        current = parents.get(current)
    return False


def _variables(root: cst.CSTNode) -> Iterator[str]:
    """Every variable name used under `root`: Names that are not attribute or keyword names."""
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            yield node.value
        elif isinstance(node, cst.Attribute):
            stack.append(node.value)
        elif isinstance(node, cst.Arg):
            stack.append(node.value)
        else:
            stack.extend(children(node))


def _all_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def _parent_map(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    for node in _all_nodes(root):
        for child in children(node):
            parents[child] = node
    return parents


def _declared(function: cst.FunctionDef) -> set[str]:
    """Names declared global/nonlocal anywhere in the function, nested functions included."""
    names: set[str] = set()
    for node in _all_nodes(function.body):
        if isinstance(node, cst.Global | cst.Nonlocal):
            names |= {item.name.value for item in node.names}
    return names


TRANSFORM = ListComprehension()
