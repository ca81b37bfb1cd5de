"""PP104: `s = ""` then `s += part` in a loop → parts appended to a list, joined once."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import (
    Edit,
    apply_edits,
    insert_after,
    single_assign,
    statement_index,
)
from perfpilot.skills.cst_helpers import (
    CATCHING,
    LOOPS,
    SCOPES,
    Parents,
    all_nodes,
    ancestors,
    body_nodes,
    children,
    declared_names,
    has_ancestor,
    names_in,
    nested_scope_names,
    parent_map,
)
from perfpilot.skills.naming import local_name
from perfpilot.tools.model import Applicability

# Calls that can read the local variables by name.
_INTROSPECTION = frozenset({"locals", "vars", "eval", "exec", "dir"})


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
            found.append(
                parsed.opportunity(
                    concat.appends[0],
                    key=f"concat#{index}",
                    title=f"Build `{concat.name}` with str.join in `{parsed.source.name}`",
                    evidence=(
                        f"`{concat.name} += ...` in a loop{often} may copy the whole string"
                        " built so far on each pass (always on PyPy, and on CPython whenever"
                        " the string cannot be resized in place); appending the parts to a"
                        " list and joining once copies each part once"
                    ),
                    applicability=Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """`parts = [...]`, `parts.append(x)` for each `+=`, `name = "".join(parts)` after."""
        concats = _concats(parsed.function)
        concat = opportunity.numbered(concats)
        if concat is None:
            return Rewrite.failed("the string concatenation is no longer in the function")
        parts = local_name(f"{concat.name}_parts", parsed.function, parsed.source.module)
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
        edits[concat.loop] = insert_after(join)
        module = apply_edits(parsed.module, edits)
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


def _concats(function: cst.FunctionDef) -> list[_Concat]:
    """The qualifying (init, loop) pairs of the function, in source order."""
    own = list(body_nodes(function))
    if any(isinstance(n, cst.Yield) for n in own):
        return []  # a generator: left alone (a paused loop is observable from outside)
    parents = parent_map(function)
    declared = declared_names(function.body)
    nested = nested_scope_names(function)
    found = []
    for block in (n for n in [function.body, *own] if isinstance(n, cst.IndentedBlock)):
        statements = list(block.body)
        for position, statement in enumerate(statements):
            name = _string_init(statement)
            if name is None or name in declared or name in nested:
                continue
            later = [s for s in statements[position + 1 :] if name in names_in(s)]
            loop = later[0] if later else None
            if not isinstance(loop, LOOPS) or _caught(loop, parents, function):
                continue
            appends = _appends(loop, name, parents)
            if appends and _read_elsewhere(function, name, (statement, loop)):
                assert isinstance(statement, cst.SimpleStatementLine)
                found.append(_Concat(name, statement, loop, tuple(appends)))
    return found


def _string_init(statement: cst.BaseStatement) -> str | None:
    """`name` when the statement is exactly `name = <str literal>`."""
    assigned = single_assign(statement)
    return assigned[0] if assigned and _is_str_literal(assigned[1]) else None


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


def _appends(loop: cst.For | cst.While, name: str, parents: Parents) -> list[cst.AugAssign]:
    """The loop's `name += x` statements, or [] when the loop uses `name` any other way."""
    if isinstance(loop.orelse, cst.Else) and name in names_in(loop.orelse):
        return []
    if names_in(loop) & _INTROSPECTION:
        return []
    appends = []
    uses = 0
    for node in all_nodes(loop):
        if isinstance(node, cst.Name) and node.value == name:
            uses += 1
        if (
            isinstance(node, cst.AugAssign)
            and isinstance(node.target, cst.Name)
            and node.target.value == name
            and isinstance(node.operator, cst.AddAssign)
        ):
            if _caught(node, parents, loop) or has_ancestor(node, parents, SCOPES, loop):
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


def _caught(node: cst.CSTNode, parents: Parents, stop: cst.CSTNode) -> bool:
    """A try/with between `node` and `stop` could catch what the `+=` or the loop raises: code
    of this function would run on with the string half built (or, rewritten, unbound)."""
    return has_ancestor(node, parents, CATCHING, stop)


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
    parents = parent_map(function)
    assigned, loops, joins = 0, set(), []
    for use in all_nodes(function.body):
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


def _enclosing_loop(node: cst.CSTNode, parents: Parents) -> cst.CSTNode | None:
    """The outermost loop holding `node` below the function."""
    outermost = None
    for ancestor in ancestors(node, parents):
        if isinstance(ancestor, SCOPES):
            break
        if isinstance(ancestor, LOOPS):
            outermost = ancestor
    return outermost


def _follows(call: cst.Call, loop: cst.CSTNode, parents: Parents) -> bool:
    """The join is `name = "".join(parts)`, the statement right after `loop` in its block."""
    assign = parents.get(call)
    line = parents.get(assign) if assign is not None else None
    block = parents.get(line) if line is not None else None
    if not isinstance(assign, cst.Assign) or not isinstance(block, cst.IndentedBlock):
        return False
    position = statement_index(block, line)  # type: ignore[arg-type]
    return position > 0 and block.body[position - 1] is loop


TRANSFORM = JoinStringConcat()
