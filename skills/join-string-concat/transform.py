"""PP104: `s = ""` then `s += part` in a loop → parts appended to a list, joined once."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_helpers import body_nodes, children, names_in
from perfpilot.tools.model import Applicability

_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
_LOOPS = (cst.For, cst.While)
# Statements that can catch or swallow an exception raised in the loop, so that code of this
# function runs on with the string half built (or, after the rewrite, unbound).
_CATCHING = (cst.Try, cst.TryStar, cst.With)
# Calls that can read the local variables by name.
_INTROSPECTION = frozenset({"locals", "vars", "eval", "exec", "dir"})

Edit = Callable[[cst.CSTNode], cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]]


@dataclass(frozen=True)
class _Concat:
    """One opportunity: `name = "<literal>"`, then a loop whose only use of `name` is `+=`."""

    name: str
    init: cst.SimpleStatementLine  # the `name = "..."` line
    loop: cst.For | cst.While
    appends: tuple[cst.AugAssign, ...]


@dataclass
class JoinStringConcat(Transform):
    """Find strings built by `+=` in a loop; collect the parts in a list and join once."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per (initialised string, loop) pair."""
        calls = parsed.source.calls
        often = f" ({calls:,} call{'s' if calls != 1 else ''} in the profile)" if calls else ""
        found = []
        for index, concat in enumerate(_concats(parsed.function)):
            line, column, end_line, end_column = parsed.location(concat.appends[0])
            found.append(
                Opportunity(
                    key=f"concat#{index}",
                    title=f"Build `{concat.name}` with str.join in `{parsed.source.name}`",
                    evidence=(
                        f"`{concat.name} += ...` in a loop{often} may copy the whole string"
                        " built so far on each pass (always on PyPy, and on CPython whenever"
                        " the string cannot be resized in place); appending the parts to a"
                        " list and joining once copies each part once"
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """`parts = [...]`, `parts.append(x)` for each `+=`, `name = "".join(parts)` after."""
        concats = _concats(parsed.function)
        _, _, number = opportunity.key.partition("#")
        index = int(number) if number.isdigit() else -1
        if not 0 <= index < len(concats):
            return Rewrite.failed("the string concatenation is no longer in the function")
        concat = concats[index]
        parts = parsed.source.module.fresh_name(f"{concat.name}_parts", names_in(parsed.function))
        assign = concat.init.body[0]
        assert isinstance(assign, cst.Assign)
        edits: dict[cst.CSTNode, Edit] = {}
        first = [] if _is_empty(assign.value) else [cst.Element(assign.value)]
        edits[assign] = lambda node: node.with_changes(  # type: ignore[attr-defined]
            targets=[assign.targets[0].with_changes(target=cst.Name(parts))],
            value=cst.List(elements=first),
        )
        for augmented in concat.appends:
            edits[augmented] = lambda node, n=parts: _append(n, node)  # type: ignore[misc]
        quote = _quote_of(assign.value)
        join = cst.parse_statement(f"{concat.name} = {quote}{quote}.join({parts})\n")
        edits[concat.loop] = lambda node: cst.FlattenSentinel([node, join])  # type: ignore[list-item]
        module = parsed.module.visit(_Edits(edits))
        assert isinstance(module, cst.Module)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One opportunity fewer; the new list is only appended to in the loop, then joined."""
        if len(_concats(after.function)) != len(_concats(before.function)) - 1:
            return "the rewritten function still builds the string with +="
        # `append` and `join` appear as attribute names; the one new variable is the list.
        new = names_in(after.function) - names_in(before.function) - {"append", "join"}
        if len(new) != 1:
            return "the rewrite must introduce exactly one name, the list of parts"
        (parts,) = new
        return _check_parts(after.function, parts)


class _Edits(cst.CSTTransformer):
    """Apply edits keyed by original node to the updated node (inner edits are kept)."""

    def __init__(self, edits: dict[cst.CSTNode, Edit]) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        edit = self.edits.get(original_node)
        return edit(updated_node) if edit is not None else updated_node


def _concats(function: cst.FunctionDef) -> list[_Concat]:
    """The qualifying (init, loop) pairs of the function, in source order."""
    own = list(body_nodes(function))
    if any(isinstance(n, cst.Yield) for n in own):
        return []  # a generator: left alone (a paused loop is observable from outside)
    parents = _parent_map(function)
    declared = _declared(function)
    nested = _names_in_nested_scopes(function)
    found = []
    for block in (n for n in [function.body, *own] if isinstance(n, cst.IndentedBlock)):
        statements = list(block.body)
        for position, statement in enumerate(statements):
            name = _string_init(statement)
            if name is None or name in declared or name in nested:
                continue
            later = [s for s in statements[position + 1 :] if name in names_in(s)]
            loop = later[0] if later else None
            if not isinstance(loop, _LOOPS) or _caught(loop, parents, function):
                continue
            appends = _appends(loop, name, parents)
            if appends and _read_elsewhere(function, name, (statement, loop)):
                assert isinstance(statement, cst.SimpleStatementLine)
                found.append(_Concat(name, statement, loop, tuple(appends)))
    return found


def _string_init(statement: cst.BaseStatement) -> str | None:
    """`name` when the statement is exactly `name = <str literal>`."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    target = assign.targets[0].target
    if not isinstance(target, cst.Name) or not _is_str_literal(assign.value):
        return None
    return target.value


def _is_str_literal(node: cst.BaseExpression) -> bool:
    """A str literal (f-strings included, bytes excluded: those would need b"".join)."""
    if isinstance(node, cst.SimpleString):
        return "b" not in node.prefix.lower()
    if isinstance(node, cst.FormattedString):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return _is_str_literal(node.left) and _is_str_literal(node.right)
    return False


def _is_empty(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.FormattedString):
        return not node.parts
    if isinstance(node, cst.ConcatenatedString):
        return _is_empty(node.left) and _is_empty(node.right)
    try:
        return ast.literal_eval(cst.Module([]).code_for_node(node)) == ""
    except (ValueError, SyntaxError):
        return False


def _quote_of(node: cst.BaseExpression) -> str:
    """The quote character the initial literal used, so the join looks like the file."""
    if isinstance(node, cst.SimpleString) and node.quote[:1] in ("'", '"'):
        return node.quote[0]
    return '"'


def _appends(
    loop: cst.For | cst.While, name: str, parents: dict[cst.CSTNode, cst.CSTNode]
) -> list[cst.AugAssign]:
    """The loop's `name += x` statements, or [] when the loop uses `name` any other way."""
    if isinstance(loop.orelse, cst.Else) and name in names_in(loop.orelse):
        return []
    if names_in(loop) & _INTROSPECTION:
        return []
    appends = []
    uses = 0
    for node in _all_nodes(loop):
        if isinstance(node, cst.Name) and node.value == name:
            uses += 1
        if (
            isinstance(node, cst.AugAssign)
            and isinstance(node.target, cst.Name)
            and node.target.value == name
            and isinstance(node.operator, cst.AddAssign)
        ):
            if _caught(node, parents, loop) or _in_scope(node, parents, loop):
                return []
            if isinstance(node.value, cst.Tuple) and not node.value.lpar:
                return []  # `s += a, b` (a TypeError anyway) would become two arguments
            appends.append(node)
    return appends if uses == len(appends) else []


def _append(parts: str, node: cst.CSTNode) -> cst.Expr:
    """`parts.append(value)` for `name += value`, moving the value's outer parentheses."""
    assert isinstance(node, cst.AugAssign)
    value = node.value
    before: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace("")
    after: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace("")
    if value.lpar and value.rpar:
        before, after = value.lpar[0].whitespace_after, value.rpar[-1].whitespace_before
        value = value.with_changes(lpar=value.lpar[1:], rpar=value.rpar[:-1])
    call = cst.Call(
        func=cst.Attribute(cst.Name(parts), cst.Name("append")),
        args=[cst.Arg(value, whitespace_after_arg=after)],
        whitespace_before_args=before,
    )
    return cst.Expr(call, semicolon=node.semicolon)


def _caught(node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode], stop: cst.CSTNode) -> bool:
    """A try/with between `node` and `stop` could catch what the `+=` or the loop raises."""
    current = parents.get(node)
    while current is not None and current is not stop:
        if isinstance(current, _CATCHING):
            return True
        current = parents.get(current)
    return False


def _in_scope(
    node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode], stop: cst.CSTNode
) -> bool:
    """`node` is inside a nested def/lambda/class below `stop`."""
    current = parents.get(node)
    while current is not None and current is not stop:
        if isinstance(current, _SCOPES):
            return True
        current = parents.get(current)
    return False


def _read_elsewhere(function: cst.FunctionDef, name: str, skip: tuple[cst.CSTNode, ...]) -> bool:
    """`name` is used outside the init and the loop: a string nobody reads is not worth it
    (and `name = "".join(...)` would then be an unused assignment)."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if any(node is s for s in skip):
            continue
        if isinstance(node, cst.Name) and node.value == name:
            return True
        stack.extend(children(node))
    return False


def _check_parts(function: cst.FunctionDef, parts: str) -> str | None:
    """`parts = [...]` once, `parts.append(x)` statements in one loop, then one join right
    after that loop: the parts are collected exactly where the `+=` were, and read once."""
    parents = _parent_map(function)
    assigned, loops, joins = 0, set(), []
    for use in _all_nodes(function.body):
        if not (isinstance(use, cst.Name) and use.value == parts):
            continue
        parent = parents.get(use)
        grand = parents.get(parent) if parent is not None else None
        if isinstance(parent, cst.AssignTarget) and isinstance(grand, cst.Assign):
            assigned += 1
            if not isinstance(grand.value, cst.List) or len(grand.value.elements) > 1:
                return f"`{parts}` must start as a list of at most the initial literal"
        elif isinstance(parent, cst.Attribute) and parent.attr.value == "append":
            if not isinstance(grand, cst.Call) or not isinstance(parents.get(grand), cst.Expr):
                return f"`{parts}.append` is used other than as a statement"
            loops.add(_enclosing_loop(use, parents))
        elif isinstance(parent, cst.Arg) and isinstance(grand, cst.Call) and _is_join(grand):
            joins.append(grand)
        else:
            return f"`{parts}` is used other than by append and str.join"
    if assigned != 1 or len(joins) != 1 or len(loops) != 1 or None in loops:
        return f"`{parts}` must be built once, appended to in one loop and joined once"
    (loop,) = loops
    if loop is None or not _follows(joins[0], loop, parents):
        return f"`{parts}` must be joined by the statement right after its loop"
    return None


def _is_join(call: cst.Call) -> bool:
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "join"
        and isinstance(func.value, cst.SimpleString)
        and len(call.args) == 1
    )


def _enclosing_loop(
    node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]
) -> cst.CSTNode | None:
    """The outermost loop holding `node` below the function."""
    outermost = None
    current = parents.get(node)
    while current is not None and not isinstance(current, _SCOPES):
        if isinstance(current, _LOOPS):
            outermost = current
        current = parents.get(current)
    return outermost


def _follows(call: cst.Call, loop: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]) -> bool:
    """The join is `name = "".join(parts)`, the statement right after `loop` in its block."""
    assign = parents.get(call)
    line = parents.get(assign) if assign is not None else None
    block = parents.get(line) if line is not None else None
    if not isinstance(assign, cst.Assign) or not isinstance(block, cst.IndentedBlock):
        return False
    body = list(block.body)
    position = next(i for i, s in enumerate(body) if s is line)
    return position > 0 and body[position - 1] is loop


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


def _names_in_nested_scopes(function: cst.FunctionDef) -> set[str]:
    """Names used inside nested defs/lambdas/classes: closures could read the string."""
    names: set[str] = set()
    for node in body_nodes(function):
        if isinstance(node, _SCOPES):
            names |= names_in(node)
    return names


TRANSFORM = JoinStringConcat()
