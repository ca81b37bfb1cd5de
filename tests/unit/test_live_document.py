"""The live document: LSP edits on text, lines and positions, and an incremental parse that
indexes exactly like a from-scratch `index_source` of the same text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Node

from perfpilot.tools import source_walk
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.source_index import index_source

ENRICH = Path(__file__).resolve().parents[2] / "examples" / "loganalyzer" / "enrich.py"
PATH = str(ENRICH)

# -- an independent reference: lines, positions and edits on a plain string, char by char -------


def ref_lines(text: str) -> list[tuple[int, int]]:
    """(start, end of content) of each LSP line."""
    lines = []
    start = i = 0
    while i < len(text):
        if text[i] in "\r\n":
            end = i
            i += 2 if text[i : i + 2] == "\r\n" else 1
            lines.append((start, end))
            start = i
        else:
            i += 1
    lines.append((start, len(text)))
    return lines


def width(char: str, encoding: str) -> int:
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    if encoding == "utf-8":
        return len(char.encode("utf-8"))
    return 1


def ref_offset(text: str, line: int, character: int, encoding: str) -> int:
    """VS Code's clamping; a position inside a character goes before it."""
    lines = ref_lines(text)
    if line < 0:
        return 0
    if line >= len(lines):
        return len(text)
    i, end = lines[line]
    units = 0
    while i < end and units + width(text[i], encoding) <= character:
        units += width(text[i], encoding)
        i += 1
    return i


def ref_position(text: str, offset: int, encoding: str) -> tuple[int, int]:
    for line, (start, end) in enumerate(ref_lines(text)):
        if offset <= end:
            return line, sum(width(c, encoding) for c in text[start:offset])
    raise AssertionError("offset past the end")


def ref_apply(text: str, start: tuple[int, int], end: tuple[int, int], new: str, enc: str) -> str:
    a, b = sorted((ref_offset(text, *start, enc), ref_offset(text, *end, enc)))
    return text[:a] + new + text[b:]


def check_lines(doc: LiveDocument) -> None:
    lines = ref_lines(doc.text)
    assert doc.line_count() == len(lines)
    # The maintained tables against the text (private, but they are what every position uses).
    assert doc._starts == [start for start, _ in lines]
    assert doc._data == doc.text.encode("utf-8", "replace")
    assert doc._bstarts == [len(doc.text[:start].encode("utf-8")) for start, _ in lines]
    for line, (start, end) in enumerate(lines):
        assert doc.line_text(line) == doc.text[start:end]


def check_index(doc: LiveDocument) -> None:
    assert doc.module() == index_source(doc.text, doc.path)
    assert doc.module().functions == index_source(doc.text, doc.path).functions


# -- hand cases ----------------------------------------------------------------------------------


def test_insert_lines_above_a_function_shifts_it() -> None:
    doc = LiveDocument(PATH, ENRICH.read_text(), 1)
    before = {fn.qualname: fn for fn in doc.module().functions}
    target = before["edit_distance"]
    doc.apply_change((target.first_line - 1, 0), (target.first_line - 1, 0), "# pad\n" * 20)
    after = {fn.qualname: fn for fn in doc.module().functions}
    assert after["edit_distance"].first_line == target.first_line + 20
    assert after["edit_distance"].end_line == target.end_line + 20
    assert after["edit_distance"].body_hash == target.body_hash
    check_index(doc)
    check_lines(doc)


def test_rename_and_delete_a_function() -> None:
    text = "def alpha():\n    return 1\n\n\ndef beta(x):\n    return x\n"
    doc = LiveDocument("m.py", text, 1)
    assert [fn.name for fn in doc.module().functions] == ["alpha", "beta"]
    doc.apply_change((0, 4), (0, 9), "gamma")
    assert [fn.name for fn in doc.module().functions] == ["gamma", "beta"]
    doc.apply_change((0, 0), (4, 0), "")
    assert doc.text == "def beta(x):\n    return x\n"
    (beta,) = doc.module().functions
    assert (beta.name, beta.first_line, beta.end_line) == ("beta", 1, 2)
    check_index(doc)


@pytest.mark.parametrize(("encoding", "y_column"), [("utf-16", 10), ("utf-8", 12), ("utf-32", 9)])
def test_emoji_before_the_edit(encoding: str, y_column: int) -> None:
    doc = LiveDocument("m.py", 'x = "😀"; y = 1\nf = lambda: y\n', 1, encoding)
    doc.apply_change((0, y_column), (0, y_column + 1), "zz")
    assert doc.text == 'x = "😀"; zz = 1\nf = lambda: y\n'
    assert doc.offset_at(0, y_column) == doc.text.index("zz")
    assert doc.position_at(doc.text.index("zz")) == (0, y_column)
    check_lines(doc)
    check_index(doc)


@pytest.mark.parametrize(("encoding", "inside"), [("utf-16", [6]), ("utf-8", [6, 7, 8])])
def test_position_inside_a_character_goes_before_it(encoding: str, inside: list[int]) -> None:
    for character in inside:
        doc = LiveDocument("m.py", 'x = "😀"\n', 1, encoding)
        doc.apply_change((0, character), (0, character), "!")
        assert doc.text == 'x = "!😀"\n'


@pytest.mark.parametrize(("encoding", "extra"), [("utf-16", 1), ("utf-8", 3 + 1), ("utf-32", 0)])
def test_position_of_column_converts_code_points(encoding: str, extra: int) -> None:
    text = 's = "😀é"; f = lambda: 0\n'
    doc = LiveDocument("m.py", text, 1, encoding)
    (fn,) = doc.module().functions
    assert fn.name_column == text.index("lambda") + 1
    assert doc.position_of_column(fn.name_line - 1, fn.name_column) == text.index("lambda") + extra


def test_text_becoming_non_ascii_and_back() -> None:
    doc = LiveDocument("m.py", "a = 1\nb = 2\nc = 3\n", 1, "utf-8")
    doc.apply_change((1, 4), (1, 4), "'é' + ")
    assert doc.line_text(1) == "b = 'é' + 2"
    check_lines(doc)
    doc.apply_change((2, 0), (2, 0), "d = '😀'\n")
    check_lines(doc)
    doc.apply_change((2, 0), (3, 0), "")
    check_lines(doc)
    doc.apply_change((1, 4), (1, 11), "")  # 'é' is two bytes
    assert doc.text == "a = 1\nb = 2\nc = 3\n"
    assert doc._bstarts is doc._starts  # ASCII again: one shared table
    check_lines(doc)
    check_index(doc)


def test_lone_surrogate_counts_as_one_unit() -> None:
    # JSON may carry a lone surrogate; it is kept in the text and parsed as "?", like index_source.
    doc = LiveDocument("m.py", 'x = "\ud800"\ndef f():\n    pass\n', 1)
    doc.apply_change((0, 6), (0, 6), "!")
    assert doc.text.startswith('x = "\ud800!"')
    check_index(doc)


def test_crlf_lines() -> None:
    text = "def a():\r\n    return 1\r\n\r\ndef b():\r\n    return 2\r\n"
    doc = LiveDocument("m.py", text, 1)
    assert doc.line_count() == 6
    assert doc.line_text(1) == "    return 1"
    doc.apply_change((3, 0), (3, 0), "@d\r\n")
    b = doc.module().functions[1]
    assert (b.first_line, b.def_line) == (4, 5)
    # A character past the end of a line stops before its \r\n.
    doc.apply_change((1, 99), (1, 99), "  # one")
    assert doc.line_text(1) == "    return 1  # one"
    # Joining two lines across a \r\n.
    doc.apply_change((0, 8), (1, 4), " ")
    assert doc.text.startswith("def a(): return 1  # one\r\n")
    check_lines(doc)
    check_index(doc)


def test_lone_cr_lines_and_tree_sitter_rows() -> None:
    doc = LiveDocument("m.py", "x = 1\r\ny = 2\rz = 3\ndef f():\n    pass\n", 1)
    assert [doc.line_text(n) for n in range(doc.line_count())] == [
        "x = 1",
        "y = 2",
        "z = 3",
        "def f():",
        "    pass",
        "",
    ]
    (fn,) = doc.module().functions
    assert fn.def_line == 3  # tree-sitter does not count the lone \r
    assert doc.line_of_row(fn.def_line - 1) == 3
    # Inserting \n after a lone \r makes one \r\n break: a line disappears.
    doc.apply_change((2, 0), (2, 0), "\n")
    assert doc.line_count() == 6
    assert doc.line_text(2) == "z = 3"
    check_lines(doc)
    check_index(doc)


def test_clamping_like_vs_code() -> None:
    doc = LiveDocument("m.py", "a = 1\nb = 2", 1)
    doc.apply_change((99, 0), (99, 5), "\nc = 3")  # a line past the end: end of document
    assert doc.text == "a = 1\nb = 2\nc = 3"
    doc.apply_change((-3, 7), (-3, 7), "# top\n")  # a negative line: start of document
    assert doc.text.startswith("# top\na = 1")
    doc.apply_change((1, 50), (1, -4), "")  # inverted: from the start of the line to its end
    assert doc.line_text(1) == ""
    doc.apply_change((1, 0), (1, 0), "")  # nothing at all
    check_lines(doc)
    check_index(doc)


def test_end_of_file_delete_everything_and_empty_document() -> None:
    doc = LiveDocument("m.py", "", 1)
    assert (doc.line_count(), doc.module().functions) == (1, [])
    doc.apply_change((0, 0), (0, 0), "def f():\n    return 1\n")
    last = doc.line_count() - 1
    doc.apply_change((last, 0), (last, 0), "def g():\n    return 2")
    assert [fn.name for fn in doc.module().functions] == ["f", "g"]
    end = doc.line_count() - 1
    doc.apply_change((end, 99), (end, 99), "\n")  # insertion at the very end
    assert doc.text.endswith("return 2\n")
    check_lines(doc)
    doc.apply_change((0, 0), (end + 1, 0), "")
    assert (doc.text, doc.line_count(), doc.module().functions) == ("", 1, [])
    check_lines(doc)


def test_full_replacement() -> None:
    doc = LiveDocument(PATH, ENRICH.read_text(), 1)
    doc.module()
    new = doc.text.replace("def edit_distance", "def distance", 1)
    doc.apply_change(None, None, new)
    assert doc.text == new
    assert "distance" in {fn.name for fn in doc.module().functions}
    check_lines(doc)
    check_index(doc)


def test_module_is_cached_until_the_text_changes() -> None:
    doc = LiveDocument("m.py", "def f():\n    pass\n", 1)
    first = doc.module()
    doc.set_version(2)
    assert doc.version == 2
    doc.apply_change((0, 0), (0, 0), "")
    assert doc.module() is first
    doc.apply_change((0, 4), (0, 5), "g")
    assert doc.module() is not first
    assert doc.module() is doc.module()


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="utf-7"):
        LiveDocument("m.py", "", 1, "utf-7")


def node_ids(node: Node) -> dict[int, Node]:
    found = {}
    stack = [node]
    while stack:
        node = stack.pop()
        found[node.id] = node
        stack.extend(node.children)
    return found


@pytest.mark.parametrize("full", [False, True])
def test_the_parse_reuses_the_old_tree(full: bool) -> None:
    doc = LiveDocument(PATH, ENRICH.read_text(), 1)
    old = doc.tree()
    old_ids = node_ids(old.root_node)
    if full:
        doc.apply_change(None, None, "# a comment\n" + doc.text)
    else:
        doc.apply_change((0, 0), (0, 0), "# a comment\n")
    new = doc.tree()
    # Tree-sitter gives a node it reused the same id in both trees (a fresh parse: none).
    below = [n for n in node_ids(new.root_node).values() if n.start_point.row > 0]
    reused = [n for n in below if n.id in old_ids]
    assert len(reused) > 0.8 * len(below)
    fresh = LiveDocument(PATH, doc.text, 1).tree()
    assert not node_ids(fresh.root_node).keys() & old_ids.keys()
    # Only the new comment's region changed structure.
    assert all(r.end_byte <= 40 for r in old.changed_ranges(new))
    check_index(doc)


# -- random edit sequences -----------------------------------------------------------------------

FRAGMENTS = [
    "def ",
    "de",
    "f",
    "async def g(x):\n",
    "class K:\n",
    "    ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "😀",
    "é",
    "中",
    "lambda y: y",
    "[i for i in x]",
    "(",
    ")",
    ":",
    "#",
    '"',
    '"""',
    "return 1\n",
    "@deco\n",
    "global n\n",
]
INSERTED = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=4).map("".join)


def variants(text: str) -> list[str]:
    lines = text.split("\n")
    mixed = "".join(line + ("\n", "\r\n", "\r")[n % 3] for n, line in enumerate(lines))
    return [text, text.replace("\n", "\r\n"), mixed, "# 😀 é 中\n" + text]


# Classes in classes, decorated, with methods and lambdas: an edit inside a method re-walks
# only that method (the enclosing classes give the qualnames), which must index as a fresh parse.
CLASSES = """\
import functools


@functools.total_ordering
class Outer:
    \"\"\"Doc.\"\"\"

    size = 3

    def first(self, x):
        return [y for y in x if y]

    @property
    def second(self):
        key = lambda v: -v
        return sorted(self.items, key=key)

    class Inner:
        def deep(self):
            def local():
                return 1
            return local

        async def other(self):
            pass

    def last(self):
        return (
            1,
            2,
        )


def tail():
    return Outer.Inner().deep()()
"""

BASES = variants(ENRICH.read_text()) + variants(CLASSES)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_edits_match_a_fresh_index(data: st.DataObject) -> None:
    encoding = data.draw(st.sampled_from(["utf-16", "utf-8", "utf-32"]))
    text = data.draw(st.sampled_from(BASES))
    # As the server opens a file the profile mapping already indexed: no tree until an edit.
    given = index_source(text, PATH) if data.draw(st.booleans()) else None
    doc = LiveDocument(PATH, text, 0, encoding, module=given)
    every = data.draw(st.integers(1, 4))
    if data.draw(st.booleans()):
        doc.module()  # else the first parse comes after some edits
    for step in range(data.draw(st.integers(1, 12))):
        count = len(ref_lines(text))
        lines = st.integers(-1, count) | st.integers(max(count - 3, 0), count - 1)
        characters = st.integers(-1, 90) | st.integers(0, 8)
        start = (data.draw(lines), data.draw(characters))
        end = data.draw(st.just(start) | st.tuples(lines, characters))
        new = data.draw(INSERTED)
        text = ref_apply(text, start, end, new, encoding)
        if data.draw(st.integers(0, 9)) == 0:
            doc.apply_change(None, None, text)  # a full replacement that differs in one range
        else:
            doc.apply_change(start, end, new)
        doc.set_version(step + 1)
        assert doc.text == text
        check_lines(doc)
        line, character = data.draw(lines), data.draw(characters)
        offset = doc.offset_at(line, character)
        assert offset == ref_offset(text, line, character, encoding)
        assert doc.position_at(offset) == ref_position(text, offset, encoding)
        if step % every == 0:
            check_index(doc)
    check_index(doc)


def test_an_edit_in_a_method_walks_only_that_method(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[list[str]] = []
    real_walk = source_walk.walk

    def counting_walk(*args: object, **kwargs: object) -> list[source_walk.SourceFunction]:
        found = real_walk(*args, **kwargs)  # type: ignore[arg-type]
        if len(args) > 5 and args[5] is not None:  # a re-index of part of the file
            walked.append([f.qualname for f in found])
        return found

    monkeypatch.setattr(source_walk, "walk", counting_walk)
    # As the server opens a file the profile mapping indexed: the index given, no tree yet.
    doc = LiveDocument(PATH, CLASSES, 0, module=index_source(CLASSES, PATH))
    line = CLASSES.splitlines().index("        return [y for y in x if y]")
    doc.apply_change((line, 8), (line, 8), "x = 1; ")  # valid code
    assert [f.qualname for f in doc.module().functions] == [
        f.qualname for f in index_source(doc.text, PATH).functions
    ]
    check_index(doc)
    doc.apply_change((line, 8), (line, 8), "x = 1 +")  # broken code
    check_index(doc)
    # One method walked each time (the first edit did not walk the whole file either).
    assert walked == [["Outer.first"], ["Outer.first"]]
