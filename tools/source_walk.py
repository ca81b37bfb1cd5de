"""Tree-sitter walk behind the source index: scopes, CPython qualnames, lines and body hashes."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from perfpilot.tools.body_hash import BodyHasher

# One query finds every node that can open a scope or matters to the hash; the matching runs in
# C, so Python only touches these nodes and never walks the whole tree (a 5,000-line file has
# ~50k nodes, of which ~2.5k are these).
_QUERY = """
(function_definition) @def
(class_definition) @class
(lambda) @lambda
(list_comprehension) @listcomp
(set_comprehension) @setcomp
(dictionary_comprehension) @dictcomp
(generator_expression) @genexpr
(global_statement) @global
(comment) @comment
(string) @string
"""
_COMPREHENSIONS = ("listcomp", "setcomp", "dictcomp", "genexpr")

_MODULE, _CLASS, _FUNCTION, _COMP = range(4)


@cache
def language() -> Language:
    """Return the tree-sitter Python language (built once)."""
    return Language(tree_sitter_python.language())


@cache
def _query() -> Query:
    return Query(language(), _QUERY)


def parse(source: bytes) -> Tree:
    """Parse UTF-8 Python source; never raises on bad syntax (the tree holds ERROR nodes)."""
    # A Parser is cheap and not thread-safe, so each parse gets its own.
    return Parser(language()).parse(source)


@dataclass(frozen=True, slots=True)
class SourceFunction:
    """One def or lambda of a source file; lines and columns are 1-based, columns in code points."""

    path: str  # absolute, normalized
    name: str  # co_name: "fib", "<lambda>"
    qualname: str  # co_qualname: "Cls.meth", "outer.<locals>.inner", "f.<locals>.<lambda>"
    def_line: int  # the `def` / `async def` keyword (a lambda: the `lambda` keyword)
    first_line: int  # co_firstlineno: the first decorator's line if decorated, else def_line
    name_line: int  # the name token (a lambda: its keyword), where a diagnostic goes
    name_column: int
    end_line: int  # the last line of code of the body (trailing comments excluded)
    body_hash: str  # 16 hex digits; blind to comments and to layout that does not change code
    is_async: bool
    is_lambda: bool


class _Scope:
    __slots__ = ("kind", "qualname", "end", "inner_start", "inner_end", "hole", "globals")

    def __init__(self, kind: int, qualname: str, end: int, inner: tuple[int, int]) -> None:
        self.kind = kind
        self.qualname = qualname
        self.end = end  # end of the whole node: the scope is popped once the walk passes it
        # The part of the node whose code runs in this scope (the body); the rest (defaults,
        # decorators, bases, a comprehension's first iterable) runs in the enclosing scope.
        self.inner_start, self.inner_end = inner
        self.hole = (0, 0)
        self.globals: set[str] = set()

    def prefix(self) -> str:
        # CPython's compiler_set_qualname: only function and lambda parents add ".<locals>".
        if self.kind == _MODULE:
            return ""
        if self.kind == _FUNCTION:
            return self.qualname + ".<locals>."
        return self.qualname + "."


def comprehensions_are_scopes(version: tuple[int, int]) -> tuple[str, ...]:
    """Return which comprehension kinds are their own code object (hence qualname level)."""
    # PEP 709 (3.12) inlines list, set and dict comprehensions; generator expressions remain.
    return _COMPREHENSIONS if version < (3, 12) else ("genexpr",)


def walk(
    tree: Tree,
    src: bytes,
    path: str,
    version: tuple[int, int] | None = None,
    classes: dict[int, set[str]] | None = None,
    span: tuple[int, int] | None = None,
    enclosing: Sequence[Node] = (),
) -> list[SourceFunction]:
    """Return every def and lambda of the tree, in source order, with CPython's qualnames.

    If `classes` is given, it is filled with co_firstlineno -> names of the class bodies (the
    profilers report a class body as a code object named after the class). `span` (bytes, from
    a line start to a line start, covering whole top-level statements) limits the walk to that
    part of the file: an editor re-indexes only what an edit touched. `enclosing` are the
    class_definition nodes (outermost first) whose bodies hold the span, which then may lie
    inside a class: the classes give the qualnames' prefix.
    """
    cursor = QueryCursor(_query())
    if span is not None:
        cursor.set_byte_range(*span)
    caps = cursor.captures(tree.root_node)
    if span is not None:
        low, high = span
        caps = {
            kind: [n for n in found if low <= n.start_byte and n.end_byte <= high]
            for kind, found in caps.items()
        }
    scoped = comprehensions_are_scopes(version or sys.version_info[:2])
    kinds = ["def", "class", "lambda", "global", *scoped]
    nodes = [(n.start_byte, -n.end_byte, kind, n) for kind in kinds for n in caps.get(kind, ())]
    nodes.sort(key=lambda item: (item[0], item[1]))
    make = _Maker(src, path, caps.get("string", []), caps.get("comment", []), span)

    stack = [_Scope(_MODULE, "", 1 << 62, (0, 1 << 62))]
    for outer in enclosing:
        body = outer.child_by_field_name("body")
        name_node = outer.child_by_field_name("name")
        if body is None or name_node is None:
            raise ValueError("an enclosing node must be a class with a name and a body")
        qualname = stack[-1].prefix() + _text(name_node)
        stack.append(_Scope(_CLASS, qualname, outer.end_byte, (body.start_byte, body.end_byte)))
    found: list[tuple[int, SourceFunction]] = []
    for start, neg_end, kind, node in nodes:
        end = -neg_end
        while stack[-1].end <= start:
            stack.pop()
        for owner in reversed(stack):
            if (
                owner.inner_start <= start
                and end <= owner.inner_end
                and not (owner.hole[0] <= start < owner.hole[1])
            ):
                break
        if kind == "global":
            owner.globals.update(_text(c) for c in node.named_children if c.type == "identifier")
            continue
        if kind in _COMPREHENSIONS:
            scope = _Scope(_COMP, owner.prefix() + f"<{kind}>", end, (start, end))
            scope.hole = _first_iterable(node)
            stack.append(scope)
            continue
        body = node.child_by_field_name("body")
        inner = (body.start_byte, body.end_byte) if body is not None else (end, end)
        if kind == "lambda":
            qualname = owner.prefix() + "<lambda>"
            stack.append(_Scope(_FUNCTION, qualname, end, inner))
            found.append(make.lambda_(node, qualname))
            continue
        name_node = node.child_by_field_name("name")
        name = _text(name_node) if name_node is not None and not name_node.is_missing else ""
        # A def or class whose name the parent declares `global` gets a bare qualname.
        is_global = owner.kind in (_FUNCTION, _CLASS) and name in owner.globals
        qualname = name if is_global else owner.prefix() + name
        stack.append(_Scope(_CLASS if kind == "class" else _FUNCTION, qualname, end, inner))
        if kind == "def" and name_node is not None and name:
            found.append(make.def_(node, name_node, name, qualname))
        elif kind == "class" and classes is not None and name:
            parent = node.parent
            decorated = parent is not None and parent.type == "decorated_definition"
            line = (_first_decorator_line(parent) if decorated else None) or start_row(node)
            classes.setdefault(line, set()).add(name)
    # Source order is where each function's text starts: its first decorator, or itself.
    found.sort(key=lambda item: item[0])
    return [fn for _, fn in found]


def start_row(node: Node) -> int:
    """Return the 1-based line a node starts on."""
    return node.start_point[0] + 1


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _first_iterable(comp: Node) -> tuple[int, int]:
    for child in comp.named_children:
        if child.type == "for_in_clause":
            right = child.children_by_field_name("right")
            if right:
                return right[0].start_byte, right[-1].end_byte
    return 0, 0


class _Maker:
    """Turn def and lambda nodes into SourceFunctions (lines, columns, end, hash)."""

    def __init__(
        self,
        src: bytes,
        path: str,
        strings: list[Node],
        comments: list[Node],
        span: tuple[int, int] | None = None,
    ) -> None:
        self.src = src
        self.path = path
        self.ascii = src.isascii()
        self.comment_ends = {n.end_byte for n in comments}
        self.hasher = BodyHasher(src, strings, comments)

    def column(self, byte: int, byte_column: int) -> int:
        """Return the 1-based column in code points of a position given in bytes."""
        if self.ascii or not byte_column:
            return byte_column + 1
        return len(self.src[byte - byte_column : byte].decode("utf-8", "replace")) + 1

    def end(self, node: Node) -> tuple[int, int]:
        """Return (row, byte) of the end of the last token of `node` that is not a comment."""
        if node.end_byte not in self.comment_ends:
            return node.end_point.row, node.end_byte
        return _code_end(node)

    def lambda_(self, node: Node, qualname: str) -> tuple[int, SourceFunction]:
        row, col = node.start_point
        end_row, end_byte = self.end(node)
        fn = SourceFunction(
            path=self.path,
            name="<lambda>",
            qualname=qualname,
            def_line=row + 1,
            first_line=row + 1,
            name_line=row + 1,
            name_column=self.column(node.start_byte, col),
            end_line=end_row + 1,
            body_hash=self.hasher.hash_expression(node.start_byte, end_byte),
            is_async=False,
            is_lambda=True,
        )
        return node.start_byte, fn

    def def_(
        self, node: Node, name_node: Node, name: str, qualname: str
    ) -> tuple[int, SourceFunction]:
        def_line = node.start_point.row + 1
        first_line = def_line
        outer = node
        parent = node.parent
        if parent is not None and parent.type == "decorated_definition":
            outer = parent
            first_line = _first_decorator_line(parent) or def_line
        end_row, _ = self.end(node)
        name_row, name_col = name_node.start_point
        first = node.child(0)
        fn = SourceFunction(
            path=self.path,
            name=name,
            qualname=qualname,
            def_line=def_line,
            first_line=first_line,
            name_line=name_row + 1,
            name_column=self.column(name_node.start_byte, name_col),
            end_line=end_row + 1,
            body_hash=self.hasher.hash_rows(outer.start_point.row, end_row),
            is_async=first is not None and first.type == "async",
            is_lambda=False,
        )
        return outer.start_byte, fn


def _first_decorator_line(decorated: Node) -> int | None:
    # co_firstlineno is the line of the first decorator's *expression*, parentheses removed:
    # "@(\n    deco\n)" starts at deco's line (checked on CPython 3.11-3.13).
    for deco in decorated.named_children:
        if deco.type != "decorator":
            continue
        expr = _first_code_child(deco)
        while expr is not None and expr.type == "parenthesized_expression":
            expr = _first_code_child(expr)
        return (expr or deco).start_point.row + 1
    return None


def _first_code_child(node: Node) -> Node | None:
    for child in node.named_children:
        if child.type not in ("comment", "ERROR"):
            return child
    return None


def _code_end(node: Node) -> tuple[int, int]:
    # Tree-sitter keeps comments that trail a body inside the body's block; they are not code.
    while node.child_count:
        index = node.child_count - 1
        child = node.child(index)
        while child is not None and child.type == "comment" and index > 0:
            index -= 1
            child = node.child(index)
        if child is None or child.type == "comment":
            break
        node = child
    return node.end_point.row, node.end_byte
