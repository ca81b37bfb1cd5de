"""Line edits: compute them from two texts, apply them, show them, and write files safely."""

from __future__ import annotations

import bisect
import difflib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from perfpilot.tools.model import TextEdit

# Python (and LSP) end lines at \n, \r\n and \r only; str.splitlines also splits at form
# feeds and Unicode separators, which would shift every line number after one.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its line ending, split as Python splits source."""
    return _LINE.findall(text)


def line_count(text: str) -> int:
    """len(split_lines(text)), without building the list."""
    ends = text.count("\n") + text.count("\r") - text.count("\r\n")
    return ends + (1 if text and not text.endswith(("\n", "\r")) else 0)


class StaleFileError(Exception):
    """The file changed on disk since it was read; nothing was written."""


def line_edits(before: str, after: str) -> tuple[TextEdit, ...]:
    """The minimal whole-line edits that turn `before` into `after`."""
    old = split_lines(before)
    new = split_lines(after)
    # A fix changes a region: diff only between the common head and tail. difflib on a whole
    # file of similar lines costs ~0.2 s; this costs the size of the change.
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_middle = old[head : len(old) - tail]
    new_middle = new[head : len(new) - tail]
    edits: list[TextEdit] = []
    old_at = new_at = 0
    # Fixes spread over a file (fix-all) leave a middle as long as the file: cut it at lines
    # found once on each side, in the same order, and diff the pieces between them.
    for old_anchor, new_anchor in (*_anchors(old_middle, new_middle), (None, None)):
        old_piece = old_middle[old_at:old_anchor]
        new_piece = new_middle[new_at:new_anchor]
        matcher = difflib.SequenceMatcher(None, old_piece, new_piece, autojunk=False)
        edits.extend(
            TextEdit(head + old_at + i1, head + old_at + i2, "".join(new_piece[j1:j2]))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
        )
        if old_anchor is not None and new_anchor is not None:
            old_at, new_at = old_anchor + 1, new_anchor + 1
    return tuple(edits)


# Under this many lines difflib alone is fast enough, and its edits are left as they were.
_ANCHOR_ABOVE = 200


def _anchors(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """(old, new) indexes of lines unique on both sides, longest run in the same order."""
    if len(old) < _ANCHOR_ABOVE and len(new) < _ANCHOR_ABOVE:
        return []
    counts: dict[str, int] = {}
    for line in old:
        counts[line] = counts.get(line, 0) + 1
    in_new: dict[str, int] = {}
    for index, line in enumerate(new):
        if counts.get(line) == 1:
            in_new[line] = -1 if line in in_new else index
    pairs = [
        (index, in_new[line])
        for index, line in enumerate(old)
        if in_new.get(line, -1) >= 0 and counts[line] == 1
    ]
    return _increasing(pairs)


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of `pairs` (increasing first items) whose second items increase."""
    tails: list[int] = []  # tails[k]: index in pairs of the smallest end of a run of k + 1
    previous: list[int] = [-1] * len(pairs)
    ends: list[int] = []
    for at, (_, second) in enumerate(pairs):
        k = bisect.bisect_left(ends, second)
        if k:
            previous[at] = tails[k - 1]
        if k == len(ends):
            ends.append(second)
            tails.append(at)
        else:
            ends[k], tails[k] = second, at
    run: list[tuple[int, int]] = []
    at = tails[-1] if tails else -1
    while at >= 0:
        run.append(pairs[at])
        at = previous[at]
    return run[::-1]


def apply_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """`text` with non-overlapping line edits applied (edits are against the original lines)."""
    lines = split_lines(text)
    ordered = sorted(edits, key=lambda e: (e.start_line, e.end_line))
    for first, second in zip(ordered, ordered[1:]):
        if second.start_line < first.end_line:
            raise ValueError(f"overlapping edits at line {second.start_line + 1}")
    for edit in reversed(ordered):
        if not 0 <= edit.start_line <= edit.end_line <= len(lines):
            raise ValueError(f"edit outside the file: lines {edit.start_line + 1}-{edit.end_line}")
        lines[edit.start_line : edit.end_line] = [edit.new_text] if edit.new_text else []
    return "".join(lines)


def unified_diff(before: str, after: str, path: str) -> str:
    """A unified diff (a/ b/ prefixes) of one file, empty when nothing changed."""
    return "".join(
        difflib.unified_diff(
            split_lines(before),
            split_lines(after),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def read_for_update(path: Path) -> tuple[str, int]:
    """The file's text and a stamp (mtime in ns) to hand back to `write_if_unchanged`."""
    stamp = path.stat().st_mtime_ns
    return path.read_bytes().decode("utf-8"), stamp


def write_if_unchanged(path: Path, expected: str, stamp: int, text: str) -> None:
    """Atomically replace `path` with `text`, unless it changed since it was read.

    The new content goes to a temporary file in the same folder (same file system, same
    permissions) and is renamed over the original, so a crash never leaves half a file.
    """
    if path.stat().st_mtime_ns != stamp or path.read_bytes().decode("utf-8") != expected:
        raise StaleFileError(f"{path}: changed on disk since it was read; not written")
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
