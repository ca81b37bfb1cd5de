"""PP1xx findings off the publish path: computed in a worker thread, carried across edits.

PP001 (a hot function) needs only the profile and the document's function index, so it is
published at once. The skills (libcst parses of every hot function) take far longer; they run
in one worker thread and their findings follow in a second publish. Until then the previous
PP1xx stay on screen, moved with the text, so an edit never makes them blink off and on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from lsprotocol import types

T = TypeVar("T")


class SkillWorker:
    """One thread for skill work; the lock also guards the shared find cache."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="perfpilot-skills")
        self.lock = threading.Lock()
        # uri -> the PP1xx last published, moved with every edit since.
        self.shown: dict[str, list[types.Diagnostic]] = {}
        # uri -> (version, generation) being computed, so a burst of publishes starts it once.
        self.running: dict[str, tuple[int, int]] = {}

    def locked(self, work: Callable[[], T]) -> Callable[[], T]:
        """`work` run under the lock (for the executor or the event loop's own thread)."""

        def run() -> T:
            with self.lock:
                return work()

        return run

    def forget(self, uri: str) -> None:
        """A closed document keeps nothing."""
        self.shown.pop(uri, None)
        self.running.pop(uri, None)

    def move(self, uri: str, change: types.TextDocumentContentChangeEvent, encoding: str) -> None:
        """Move the shown PP1xx of `uri` as one edit moves the text under them."""
        shown = self.shown.get(uri)
        if not shown:
            return
        if not isinstance(change, types.TextDocumentContentChangePartial):
            self.shown[uri] = []  # the whole text replaced: nothing to follow
            return
        self.shown[uri] = moved(shown, change.range, change.text, encoding)


def moved(
    diagnostics: list[types.Diagnostic], replaced: types.Range, text: str, encoding: str
) -> list[types.Diagnostic]:
    """The diagnostics after `replaced` became `text`; those wholly inside it are dropped."""
    lines = text.split("\n")
    units = _unit_counter(encoding)
    start = (replaced.start.line, replaced.start.character)
    end = (replaced.end.line, replaced.end.character)
    new_end_line = start[0] + len(lines) - 1
    new_end_char = (start[1] if len(lines) == 1 else 0) + units(lines[-1])

    def shift(position: types.Position) -> tuple[int, int]:
        at = (position.line, position.character)
        if at < start:
            return at
        if at < end:
            return start  # inside the replaced text: collapses to where it began
        if at[0] == end[0]:
            return new_end_line, new_end_char + at[1] - end[1]
        return at[0] + new_end_line - end[0], at[1]

    result = []
    for diagnostic in diagnostics:
        first, last = shift(diagnostic.range.start), shift(diagnostic.range.end)
        original = diagnostic.range
        empty_before = (original.start.line, original.start.character) == (
            original.end.line,
            original.end.character,
        )
        if first == last and not empty_before:
            continue  # the code it pointed at is gone
        result.append(
            types.Diagnostic(
                range=types.Range(types.Position(*first), types.Position(*last)),
                message=diagnostic.message,
                severity=diagnostic.severity,
                code=diagnostic.code,
                code_description=diagnostic.code_description,
                source=diagnostic.source,
                tags=diagnostic.tags,
                related_information=diagnostic.related_information,
                data=diagnostic.data,
            )
        )
    return result


def _unit_counter(encoding: str) -> Callable[[str], int]:
    """Length of a string in the position encoding's code units."""
    if encoding == "utf-8":
        return lambda s: len(s.encode("utf-8"))
    if encoding == "utf-32":
        return len
    return lambda s: len(s) + sum(1 for c in s if ord(c) > 0xFFFF)
