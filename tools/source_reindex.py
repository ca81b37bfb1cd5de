"""Index an already parsed tree, walking again only the statements an edit touched."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from tree_sitter import Node, Tree

from perfpilot.tools import source_walk
from perfpilot.tools.module_index import ModuleIndex
from perfpilot.tools.source_walk import SourceFunction

__all__ = ["RowChange", "index_tree", "row_change"]


@dataclass(frozen=True, slots=True)
class RowChange:
    """How a text changed since it was last indexed, in 0-based tree-sitter rows.

    Rows first..old_stop-1 of the old text became rows first..new_stop-1 of the new one; the
    rest is the same text. `syntax_rows` are new-text row spans whose parse changed (tree-sitter's
    changed ranges), which can lie outside the edited text (an unclosed bracket, say).
    """

    first: int
    old_stop: int
    new_stop: int
    syntax_rows: tuple[tuple[int, int], ...] = ()


def row_change(old: list[bytes], new: list[bytes], syntax_rows: list[tuple[int, int]]) -> RowChange:
    """The rows that differ between two versions of a text (common head and tail removed)."""
    limit = min(len(old), len(new))
    first = 0
    while first < limit and old[first] == new[first]:
        first += 1
    tail = 0
    while tail < limit - first and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return RowChange(first, len(old) - tail, len(new) - tail, tuple(syntax_rows))


def index_tree(
    tree: Tree,
    src: bytes,
    path: str,
    *,
    python_version: tuple[int, int] | None = None,
    previous: ModuleIndex | None = None,
    change: RowChange | None = None,
) -> ModuleIndex:
    """Index the functions of an already parsed tree of `src` (UTF-8); see `index_source`.

    Given the `previous` index and the `change` since, only the top-level statements the change
    touched are walked again; the others are kept, shifted by the number of lines added.
    """
    norm_path = os.path.normpath(os.path.abspath(path))
    classes: dict[int, set[str]] = {}
    if previous is None or change is None or previous.path != norm_path:
        functions = source_walk.walk(tree, src, norm_path, python_version, classes)
        return ModuleIndex(norm_path, functions, tree.root_node.has_error, classes)
    low, high, enclosing = _touched_rows(tree, src, change, previous)
    delta = change.new_stop - change.old_stop
    start = _row_start(src, low)
    stop = _row_start(src, high + 1)
    walked = source_walk.walk(
        tree, src, norm_path, python_version, classes, (start, stop), enclosing
    )
    before = [f for f in previous.functions if f.end_line - 1 < low]
    after = [
        _shifted(f, delta)
        for f in previous.functions
        if f.first_line - 1 >= change.old_stop and f.first_line - 1 + delta > high
    ]
    for line, names in previous.class_lines.items():
        if line - 1 < low:
            classes.setdefault(line, set()).update(names)
        elif line - 1 >= change.old_stop and line - 1 + delta > high:
            classes.setdefault(line + delta, set()).update(names)
    return ModuleIndex(norm_path, before + walked + after, tree.root_node.has_error, classes)


def _touched_rows(
    tree: Tree, src: bytes, change: RowChange, previous: ModuleIndex
) -> tuple[int, int, list[Node]]:
    """New-text rows to walk again, and the classes whose body holds them (outermost first).

    The change is widened to whole statements of the innermost class body holding it (an edit
    in one method of a 3,000-line class walks that method, not the class), or of the module,
    and to every previously indexed function it cut into (which must be found again, or
    dropped).
    """
    delta = change.new_stop - change.old_stop
    changed_high = max(change.first, change.new_stop - 1)

    def to_new(row: int) -> int:
        if row < change.first:
            return row
        if row >= change.old_stop:
            return row + delta
        return min(max(row, change.first), changed_high)

    edited = [(change.first, changed_high), *change.syntax_rows]
    low, high = min(a for a, _ in edited), max(b for _, b in edited)
    old = [(to_new(f.first_line - 1), to_new(f.end_line - 1)) for f in previous.functions]
    enclosing = _enclosing_classes(tree, src, low, high)
    while True:
        container = enclosing[-1].child_by_field_name("body") if enclosing else tree.root_node
        assert container is not None
        widened = _widen(low, high, _rows_of(container.children), old)
        first, last = container.start_point.row, container.end_point.row
        # Still strictly inside the class body (off its header line), or at the top level.
        inside = first <= widened[0] and widened[1] <= last
        if not enclosing or (inside and enclosing[-1].start_point.row < widened[0]):
            return widened[0], widened[1], enclosing
        enclosing = enclosing[:-1]


def _rows_of(nodes: list[Node]) -> list[tuple[int, int]]:
    return [(n.start_point.row, n.end_point.row) for n in nodes]


def _widen(
    low: int, high: int, children: list[tuple[int, int]], old: list[tuple[int, int]]
) -> tuple[int, int]:
    # Statements and old functions can straddle the edges (error recovery, `x = 1; y = 2`, a
    # def whose end was deleted): widen until nothing does.
    changed = True
    while changed:
        changed = False
        for start, end in (*children, *old):
            if end >= low and start <= high and (start < low or end > high):
                low, high = min(low, start), max(high, end)
                changed = True
    return low, high


def _enclosing_classes(tree: Tree, src: bytes, low: int, high: int) -> list[Node]:
    """The chain of classes, from the top level down, whose body wholly holds rows low..high."""
    chain: list[Node] = []
    block = tree.root_node
    while True:
        holders = [
            c for c in block.named_children if c.start_point.row <= low and high <= c.end_point.row
        ]
        if len(holders) != 1:
            return chain
        node = holders[0]
        if node.type == "decorated_definition":
            node = node.child_by_field_name("definition") or node
        body = node.child_by_field_name("body")
        if (
            node.type != "class_definition"
            or body is None
            or body.type != "block"
            or node.child_by_field_name("name") is None
            or low <= node.start_point.row  # on the header: the class itself changes
            or low < body.start_point.row
            # `global` in a class body renames defs under it; the top-level walk sees it.
            or b"global" in src[node.start_byte : node.end_byte]
        ):
            return chain
        chain.append(node)
        block = body


def _row_start(src: bytes, row: int) -> int:
    """Byte offset where a 0-based row starts (len(src) past the end)."""
    position = 0
    for _ in range(row):
        position = src.find(b"\n", position) + 1
        if position == 0:
            return len(src)
    return position


def _shifted(function: SourceFunction, delta: int) -> SourceFunction:
    if not delta:
        return function
    return replace(
        function,
        def_line=function.def_line + delta,
        first_line=function.first_line + delta,
        name_line=function.name_line + delta,
        end_line=function.end_line + delta,
    )
