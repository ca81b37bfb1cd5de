"""Line edits, suppression comments and atomic, stale-safe writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfpilot.tools.edits import (
    StaleFileError,
    apply_edits,
    line_count,
    line_edits,
    read_for_update,
    split_lines,
    write_if_unchanged,
)
from perfpilot.tools.suppression import is_suppressed, with_suppression

LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\r\n", "\n", "x = 1\n", "d"]), max_size=12)


@given(LINES, LINES)
def test_line_edits_turn_one_text_into_the_other(before: list[str], after: list[str]) -> None:
    old, new = "".join(before), "".join(after)
    assert apply_edits(old, line_edits(old, new)) == new


# Long texts (past the size where line_edits cuts the diff at unique lines): a few unique
# lines among many repeated ones, as in a file of similar functions.
LONG = st.lists(
    st.one_of(
        st.sampled_from(["\n", "    return x\n", "pass\r\n"]),
        st.integers(0, 400).map(lambda n: f"def f{n}():\n"),
    ),
    min_size=200,
    max_size=400,
)


@given(LONG, LONG)
def test_line_edits_on_long_texts(before: list[str], after: list[str]) -> None:
    old, new = "".join(before), "".join(after)
    assert apply_edits(old, line_edits(old, new)) == new


def test_line_edits_of_scattered_fixes_are_local() -> None:
    before = [f"def f{n}():\n    x = g(re.compile('a'))\n    return x\n\n" for n in range(300)]
    after = list(before)
    for n in range(0, 300, 7):
        after[n] = after[n].replace("re.compile('a')", "PATTERN")
    old, new = "".join(before), "".join(after)
    edits = line_edits(old, new)
    assert apply_edits(old, edits) == new
    assert [e.start_line for e in edits] == [4 * n + 1 for n in range(0, 300, 7)]
    assert all(e.end_line == e.start_line + 1 for e in edits)


@given(st.text(alphabet="ab\r\n\f", max_size=30))
def test_line_count_counts_like_split_lines(text: str) -> None:
    assert line_count(text) == len(split_lines(text))


def test_split_lines_splits_like_python() -> None:
    assert split_lines("a\fb\nc\r\nd\re") == ["a\fb\n", "c\r\n", "d\r", "e"]


def test_overlapping_edits_are_refused() -> None:
    from perfpilot.tools.model import TextEdit

    with pytest.raises(ValueError, match="overlapping"):
        apply_edits("a\nb\nc\n", [TextEdit(0, 2, "x\n"), TextEdit(1, 3, "y\n")])


def test_write_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    os.chmod(path, 0o640)
    text, stamp = read_for_update(path)
    write_if_unchanged(path, text, stamp, "x = 2\n")
    assert path.read_text() == "x = 2\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]


def test_a_file_changed_since_reading_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    text, stamp = read_for_update(path)
    path.write_text("x = 1  # the user typed\n")
    with pytest.raises(StaleFileError, match="changed on disk"):
        write_if_unchanged(path, text, stamp, "x = 2\n")
    assert path.read_text() == "x = 1  # the user typed\n"


@pytest.mark.parametrize(
    ("line", "code", "expected"),
    [
        ("x = f()  # perfpilot: ignore[PP101]", "PP101", True),
        ("x = f()  # perfpilot: ignore[PP101, PP104]", "PP104", True),
        ("x = f()  # perfpilot: ignore[PP101]", "PP104", False),
        ("x = f()  # perfpilot: ignore", "PP104", True),
        ("x = f()  # noqa", "PP101", False),
    ],
)
def test_is_suppressed(line: str, code: str, expected: bool) -> None:
    assert is_suppressed(line, code) is expected


def test_with_suppression_adds_or_extends() -> None:
    assert with_suppression("x = f()", "PP101") == "x = f()  # perfpilot: ignore[PP101]"
    assert (
        with_suppression("x = f()  # perfpilot: ignore[PP101]", "PP104")
        == "x = f()  # perfpilot: ignore[PP101, PP104]"
    )
    assert with_suppression("x = f()  # perfpilot: ignore", "PP104") == (
        "x = f()  # perfpilot: ignore"
    )
    assert with_suppression("x = 1 + \\", "PP101") is None
