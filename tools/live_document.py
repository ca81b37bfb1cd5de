"""An open editor buffer: its text, LSP positions, and an incrementally re-parsed syntax tree."""

from __future__ import annotations

import re
from bisect import bisect_right

from tree_sitter import Parser, Point, Tree

from perfpilot.tools import source_walk
from perfpilot.tools.module_index import ModuleIndex
from perfpilot.tools.source_reindex import index_tree, row_change

__all__ = ["POSITION_ENCODINGS", "LiveDocument"]

# LSP PositionEncodingKind values: what an LSP `character` counts.
POSITION_ENCODINGS = ("utf-16", "utf-8", "utf-32")

# LSP line breaks are \n, \r\n and a lone \r; the pattern takes \r\n as one break.
_EOL = re.compile(r"\r\n?|\n")
_EOL_BYTES = re.compile(rb"\r\n?|\n")
# Characters outside the BMP: two UTF-16 code units each.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# Bytes compared per step when a full replacement is diffed against the old text.
_BLOCK = 4096


def _encode(text: str) -> bytes:
    # The same bytes as `index_source(text)` parses: a lone surrogate (JSON allows one) is "?".
    return text.encode("utf-8", "replace")


class LiveDocument:
    """An open editor buffer: its text, version and incrementally maintained tree-sitter tree.

    Positions are LSP (line, character) pairs, lines split at \\n, \\r\\n and \\r, characters
    counted in the negotiated position encoding. Not thread-safe: one document, one thread.
    """

    def __init__(
        self,
        path: str,
        text: str,
        version: int,
        position_encoding: str = "utf-16",
        *,
        python_version: tuple[int, int] | None = None,
        module: ModuleIndex | None = None,
    ) -> None:
        """`module`, if given, must be the index of exactly `text` (e.g. the workspace's)."""
        if position_encoding not in POSITION_ENCODINGS:
            raise ValueError(f"unknown position encoding {position_encoding!r}")
        self.path = path
        self.version = version
        self.position_encoding = position_encoding
        self.python_version = python_version
        self._parser = Parser(source_walk.language())
        self._tree: Tree | None = None  # edited in step with the text, re-parsed lazily
        self._parsed = False  # does _tree describe the current text?
        self._module: ModuleIndex | None = None
        # The rows of the text last indexed and its index: the base of the next re-index.
        self._indexed: tuple[list[bytes], ModuleIndex] | None = None
        self._syntax_rows: list[tuple[int, int]] = []
        # Is the index given at open (no tree of ours yet) one of exactly the current text?
        self._given_index_current = False
        self._set_text(text)
        if module is not None:
            # The tree is parsed on the first edit; until then the given index answers.
            self.adopt_module(module)

    @property
    def indexed(self) -> bool:
        """Has this document a function index or a syntax tree of its own yet?"""
        return self._indexed is not None or self._tree is not None

    def adopt_module(self, module: ModuleIndex) -> None:
        """Take `module`, the index of exactly the current text, if none was built yet."""
        if not self.indexed:
            self._module = module
            self._indexed = (self._data.split(b"\n"), module)
            self._given_index_current = True

    @property
    def text(self) -> str:
        """The current text of the buffer."""
        return self._text

    def set_version(self, version: int) -> None:
        """Record the editor's version number for the current text."""
        self.version = version

    def line_count(self) -> int:
        """Return the number of LSP lines (a text ending in a line break has an empty last one)."""
        return len(self._starts)

    def line_text(self, line: int) -> str:
        """Return the text of a 0-based line without its line break ("" outside the document)."""
        if not 0 <= line < len(self._starts):
            return ""
        start, end, _ = self._line_span(line)
        return self._text[start:end]

    def offset_at(self, line: int, character: int) -> int:
        """Return the index into `text` of an LSP position, clamped as `apply_change` does."""
        return self._resolve(line, character)[1]

    def position_at(self, offset: int) -> tuple[int, int]:
        """Return the LSP position of an index into `text` (clamped to the document)."""
        offset = min(max(offset, 0), len(self._text))
        line = bisect_right(self._starts, offset) - 1
        start, end, _ = self._line_span(line)
        segment = self._text[start:end]
        return line, self._units(segment, min(offset - start, len(segment)))

    def position_of_column(self, line: int, column_codepoints: int) -> int:
        """Return the LSP character of a 1-based code-point column (SourceFunction.name_column)."""
        segment = self.line_text(line)
        return self._units(segment, min(max(column_codepoints - 1, 0), len(segment)))

    def line_of_row(self, row: int) -> int:
        """Return the LSP line of a 0-based tree-sitter row (SourceFunction lines are rows + 1).

        They differ only after a lone \\r, which LSP counts as a line break and tree-sitter not.
        """
        data = self._data
        if row <= 0 or data.count(b"\r") == data.count(b"\r\n"):
            return max(row, 0)
        pos = -1
        for _ in range(row):
            pos = data.find(b"\n", pos + 1)
            if pos < 0:
                return len(self._starts) - 1
        return bisect_right(self._bstarts, pos + 1) - 1

    def apply_change(
        self, start: tuple[int, int] | None, end: tuple[int, int] | None, new_text: str
    ) -> None:
        """Apply one LSP content change: replace start..end, or everything if a bound is None."""
        if start is None or end is None:
            self._tree_before_first_edit()
            self._replace_all(new_text)
            return
        first = self._resolve(*start)
        last = self._resolve(*end)
        if first[1] > last[1]:  # an inverted range is read backwards, as VS Code does
            first, last = last, first
        if first[1] == last[1] and not new_text:
            return
        self._tree_before_first_edit()
        self._splice(first, last, new_text)

    def _tree_before_first_edit(self) -> None:
        # Parsing the text the given index describes, before it changes, lets the re-index
        # after the edit walk only what the edit touched (else it walks the whole file once).
        if self._tree is None and self._given_index_current:
            self.tree()

    def tree(self) -> Tree:
        """Return the syntax tree of the current text; the next change edits it in place."""
        if not self._parsed:
            if self._tree is None:
                self._tree = self._parser.parse(self._data)
                if self._indexed is not None and not self._given_index_current:
                    # An index given at open but no tree to compare with: nothing tells which
                    # parses changed, so the next re-index walks everything once.
                    self._syntax_rows.append((0, self._tree.root_node.end_point.row))
            else:  # given the old, edited tree, tree-sitter re-parses only around the edits
                edited = self._tree
                self._tree = self._parser.parse(self._data, edited)
                if self._tree.root_node.has_error:
                    # Error recovery depends on the path that led to a text: re-parsed
                    # incrementally, broken code can come out unlike a fresh parse of it. Only
                    # a fresh parse guarantees the annotations a reopened file would get.
                    self._tree = self._parser.parse(self._data)
                # Where the parse itself changed, maybe beyond the edited text (a bracket
                # opened or closed): the re-index must cover it.
                self._syntax_rows += [
                    (r.start_point.row, r.end_point.row) for r in edited.changed_ranges(self._tree)
                ]
            self._parsed = True
        assert self._tree is not None
        return self._tree

    def module(self) -> ModuleIndex:
        """Return the functions of the current text, parsed and indexed at most once per change.

        After the first index, only the top-level statements an edit touched are walked again.
        """
        if self._module is None:
            tree = self.tree()
            rows = self._data.split(b"\n")
            change = None
            if self._indexed is not None:
                change = row_change(self._indexed[0], rows, self._syntax_rows)
            self._module = index_tree(
                tree,
                self._data,
                self.path,
                python_version=self.python_version,
                previous=self._indexed[1] if self._indexed else None,
                change=change,
            )
            self._indexed = (rows, self._module)
            self._syntax_rows = []
        return self._module

    # -- text and line tables -------------------------------------------------------------------

    def _set_text(self, text: str) -> None:
        self._text = text
        self._data = _encode(text)
        # Where each line starts, as an index into the text and into its UTF-8 bytes.
        self._starts = [0, *(m.end() for m in _EOL.finditer(text))]
        self._bstarts = self._byte_starts()
        self._changed()

    def _byte_starts(self) -> list[int]:
        # One byte per character (ASCII, the usual case): both tables are one list, so an edit
        # shifts one list, not two (the shift is most of an edit's cost on a long file).
        if len(self._data) == len(self._text):
            return self._starts
        return [0, *(m.end() for m in _EOL_BYTES.finditer(self._data))]

    def _changed(self) -> None:
        self._parsed = False
        self._module = None
        self._given_index_current = False

    def _line_span(self, line: int) -> tuple[int, int, int]:
        """Return (start, end of content, start of next line) of a valid line, in the text."""
        starts = self._starts
        if line + 1 == len(starts):
            return starts[line], len(self._text), len(self._text)
        following = starts[line + 1]
        end = following - 1
        if end > starts[line] and self._text[end - 1] == "\r" and self._text[end] == "\n":
            end -= 1
        return starts[line], end, following

    def _resolve(self, line: int, character: int) -> tuple[int, int, int]:
        """Clamp an LSP position like VS Code; return (line, index in text, index in bytes)."""
        last = len(self._starts) - 1
        if line < 0:
            return 0, 0, 0
        if line > last:
            return last, len(self._text), len(self._data)
        start, end, _ = self._line_span(line)
        bstart = self._bstarts[line]
        if character <= 0:
            return line, start, bstart
        segment = self._text[start:end]
        if segment.isascii():
            column = min(character, len(segment))
            return line, start + column, bstart + column
        if self.position_encoding == "utf-8":
            data = self._data
            bend = bstart + len(_encode(segment))
            byte = min(bstart + character, bend)
            while byte < bend and data[byte] & 0xC0 == 0x80:  # inside a character: go before it
                byte -= 1
            return line, start + len(data[bstart:byte].decode("utf-8")), byte
        column = min(character, len(segment))
        if self.position_encoding == "utf-16":
            column = _utf16_to_index(segment, character)
        return line, start + column, bstart + len(_encode(segment[:column]))

    def _units(self, segment: str, index: int) -> int:
        """Return the length of segment[:index] in the position encoding."""
        if self.position_encoding == "utf-32" or segment.isascii():
            return index
        if self.position_encoding == "utf-8":
            return len(_encode(segment[:index]))
        return index + len(_ASTRAL.findall(segment, 0, index))

    # -- edits ----------------------------------------------------------------------------------

    def _splice(
        self, first: tuple[int, int, int], last: tuple[int, int, int], new_text: str
    ) -> None:
        start_line, start, bstart = first
        end_line, end, bend = last
        inserted = _encode(new_text)
        if self._tree is not None:
            start_point = self._point(start_line, bstart)
            self._tree.edit(
                bstart,
                bend,
                bstart + len(inserted),
                start_point,
                self._point(end_line, bend),
                _advance(start_point, inserted),
            )
        # Slices and one join: the bytes are spliced, never re-encoded (that costs ~20x more
        # on a non-ASCII file).
        self._text = "".join((self._text[:start], new_text, self._text[end:]))
        view = memoryview(self._data)
        self._data = b"".join((view[:bstart], inserted, view[bend:]))
        view.release()
        self._update_lines(
            start_line, end_line, len(new_text) - (end - start), len(inserted) - (bend - bstart)
        )
        self._changed()

    def _update_lines(self, start_line: int, end_line: int, delta: int, bdelta: int) -> None:
        """Re-split the lines an edit touched and shift the line starts after them."""
        # Rescan from the line before: its lone \r may now meet an inserted \n.
        first = max(start_line - 1, 0)
        tables = [(self._starts, _EOL, self._text, delta)]
        if self._bstarts is not self._starts:
            tables.append((self._bstarts, _EOL_BYTES, self._data, bdelta))
        for starts, pattern, source, shift in tables:
            has_tail = end_line + 1 < len(starts)
            stop = starts[end_line + 1] + shift if has_tail else len(source)
            scan = pattern.finditer(source, starts[first], stop)
            fresh = [starts[first], *(m.end() for m in scan)]
            if has_tail:
                # The scan ends with end_line's own line break; the old next line (shifted) follows.
                fresh.pop()
            starts[first : end_line + 1] = fresh
            if shift:
                after = first + len(fresh)
                starts[after:] = [s + shift for s in starts[after:]]
        if (self._bstarts is self._starts) != (len(self._data) == len(self._text)):
            self._bstarts = self._byte_starts()  # the text became, or stopped being, ASCII

    def _replace_all(self, text: str) -> None:
        """Replace the whole text; tell the tree only what differs, so parsing stays incremental."""
        if self._tree is not None:
            old, new = self._data, _encode(text)
            head = _common_prefix(old, new)
            tail = min(_common_prefix(old[::-1], new[::-1]), min(len(old), len(new)) - head)
            self._tree.edit(
                head,
                len(old) - tail,
                len(new) - tail,
                _point_in(old, head),
                _point_in(old, len(old) - tail),
                _point_in(new, len(new) - tail),
            )
        self._set_text(text)

    def _point(self, line: int, byte: int) -> Point:
        """Return the tree-sitter point of a byte: rows count \\n only, columns count bytes."""
        if b"\r" not in self._data:
            return Point(line, byte - self._bstarts[line])
        return _point_in(self._data, byte)


def _point_in(data: bytes, byte: int) -> Point:
    return Point(data.count(b"\n", 0, byte), byte - data.rfind(b"\n", 0, byte) - 1)


def _advance(point: Point, inserted: bytes) -> Point:
    """Return the point after `inserted` when it is written at `point`."""
    newlines = inserted.count(b"\n")
    if not newlines:
        return Point(point.row, point.column + len(inserted))
    return Point(point.row + newlines, len(inserted) - inserted.rfind(b"\n") - 1)


def _utf16_to_index(segment: str, units: int) -> int:
    """Return the index in `segment` of a UTF-16 offset; inside a surrogate pair, before it."""
    index = units
    for match in _ASTRAL.finditer(segment):
        position = match.start()
        if position >= index:
            break
        index -= 1  # this character takes two units
        if position == index:  # the offset falls between its two units
            break
    return min(index, len(segment))


def _common_prefix(a: bytes, b: bytes) -> int:
    """Return the length of the longest common prefix of two byte strings."""
    size = min(len(a), len(b))
    low = 0
    while low < size:  # compare in blocks (C speed), then bisect the block that differs
        high = min(low + _BLOCK, size)
        if a[low:high] != b[low:high]:
            break
        low = high
    else:
        return size
    while high - low > 1:  # a[:low] == b[:low] and a[low:high] != b[low:high]
        middle = (low + high) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle
    return low
