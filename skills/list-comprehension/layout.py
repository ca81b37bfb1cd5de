"""The text of the comprehension: one line when it fits, else a clause a line, parenthesized."""

from __future__ import annotations

import libcst as cst

from perfpilot.skills.api import Parsed
from perfpilot.skills.cst_helpers import all_nodes

# What cannot stand unparenthesized as a comprehension's iterable or condition.
_NEEDS_PARENS = (cst.IfExp, cst.Lambda, cst.NamedExpr, cst.Yield)
# ("for", target, iterable) or ("if", condition, None)
Clause = tuple[str, cst.BaseExpression, cst.BaseExpression | None]


def indentation(parsed: Parsed, statement: cst.CSTNode) -> str:
    """The whitespace before the statement on its first line."""
    start = parsed.position(statement).start
    line = parsed.module.code.split("\n")[start.line - 1]
    return line[: len(line) - len(line.lstrip())]


def comprehension(
    parsed: Parsed, element: cst.BaseExpression, clauses: tuple[Clause, ...], room: int
) -> str:
    """The comprehension's text: on one line when it fits in `room`, else a clause a line
    (libcst indents the lines inside the brackets by the statement's own indentation)."""
    indent = parsed.module.default_indent
    pieces: list[str] = []
    for kind, first, second in (("", element, None), *clauses):
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
    for inner in all_nodes(node):
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
