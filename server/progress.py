"""A one-line progress bar on stderr for long CLI runs (a terminal only)."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

BAR_WIDTH = 24
MIN_INTERVAL = 0.05  # seconds between redraws: a fast run must not spend its time drawing


class ProgressBar:
    """`bar(done, total, path)` redraws `[#####-----] done/total path`; `finish()` clears it."""

    def __init__(self, stream: TextIO, label: str = "checking") -> None:
        self.stream = stream
        self.label = label
        self.drawn = False
        self.last = 0.0

    def __call__(self, done: int, total: int, path: str) -> None:
        """Redraw (at most every MIN_INTERVAL s, and always for the last file)."""
        now = time.monotonic()
        if now - self.last < MIN_INTERVAL and done < total:
            return
        self.last = now
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"{self.label} [{bar}] {done}/{total} {path}"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        self.stream.write("\r" + line[:width].ljust(width))
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        """Erase the bar so the report starts on a clean line."""
        if self.drawn:
            width = shutil.get_terminal_size((80, 24)).columns - 1
            self.stream.write("\r" + " " * width + "\r")
            self.stream.flush()
            self.drawn = False


def progress_bar(output_format: str, stream: TextIO | None = None) -> ProgressBar | None:
    """A bar when `stream` (stderr) is a terminal and the output is for people (not json/sarif)."""
    stream = sys.stderr if stream is None else stream  # as it is now, not at import time
    if output_format in ("json", "sarif") or stream.closed or not stream.isatty():
        return None
    return ProgressBar(stream)
