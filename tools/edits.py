"""Line edits: compute them from two texts, apply them, show them, and write files safely."""

from __future__ import annotations

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
    matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=False)
    return tuple(
        TextEdit(head + i1, head + i2, "".join(new_middle[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    )


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
