"""Apply the chosen fixes to a library's sources, keep its tests green, time it, restore it.

Used by run.py. The pristine text of every touched file is kept in memory and written back in
`Patched.restore()` (run.py calls it in a `finally`), so an interrupted run leaves no fix behind;
`fetch.py --reset` is the fallback. Writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TextIO

from corpus_config import Library
from suite import TestResult, run_tests
from verify_step import FixResult

from perfpilot.tools.edits import apply_edits


class Patched:
    """A library's files, switchable between pristine and fixed."""

    def __init__(self, library: Library, texts: dict[str, str]) -> None:
        self.library = library
        self.fixed = dict(texts)
        self.pristine = {
            path: (library.root / path).read_text(encoding="utf-8") for path in self.fixed
        }

    def use(self, fixed: bool) -> None:
        """Write the fixed (or pristine) text of every file."""
        for path, text in (self.fixed if fixed else self.pristine).items():
            _write(self.library.root / path, text)

    def restore(self) -> None:
        """Pristine sources again."""
        self.use(False)

    def drop(self, fixes: list[FixResult], note: str) -> None:
        """Remove `fixes` from the fixed texts (their files are rebuilt from the others)."""
        for fix in fixes:
            fix.applied = False
            fix.note = note
        for path in {fix.path for fix in fixes}:
            self.fixed[path] = self.pristine[path]

    def rebuild(self, applied: list[FixResult]) -> None:
        """Fixed texts from the fixes still applied."""
        for path in self.fixed:
            edits = [e for f in applied if f.path == path and f.applied for e in f.edits]
            self.fixed[path] = apply_edits(self.pristine[path], edits)


def _write(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".perfpilot-corpus-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def keep_tests_green(
    patched: Patched, applied: list[FixResult], before: TestResult, log: TextIO
) -> TestResult:
    """Run the suite with the fixes; revert fixes that break it; return the final result.

    A fix that fails the suite on its own (only it applied; only the failing tests when pytest
    named them) is reverted and noted. If the suite still fails with the rest together, every
    fix of the library is reverted.
    """
    library = patched.library
    patched.use(True)
    result = run_tests(library)
    if result.failed <= before.failed:
        return result
    failing = result.failing or None
    print(f"  {result.failed} test(s) fail with the fixes: trying each fix alone", file=log)
    for fix in [f for f in applied if f.applied]:
        patched.restore()
        _write(library.root / fix.path, apply_edits(patched.pristine[fix.path], list(fix.edits)))
        alone = run_tests(library, failing)
        if alone.failed > (0 if failing else before.failed):
            fix.applied = False
            fix.note = f"reverted: breaks {alone.failed} test(s) of the library"
    patched.restore()
    patched.rebuild(applied)
    patched.use(True)
    result = run_tests(library)
    if result.failed > before.failed:
        patched.drop(
            [f for f in applied if f.applied], "reverted: the suite fails with the fixes together"
        )
        patched.use(True)
        result = run_tests(library)
    return result


def time_interleaved(
    library: Library, patched: Patched | None, runs: int
) -> tuple[list[float], list[float]]:
    """Workload seconds, pristine and fixed, taking turns (who goes first alternates).

    Without fixes only the pristine workload is timed.
    """
    before: list[float] = []
    after: list[float] = []
    try:
        for index in range(runs):
            order = (False, True) if index % 2 == 0 else (True, False)
            for fixed in order if patched else (False,):
                if patched:
                    patched.use(fixed)
                (after if fixed else before).append(_run_workload(library))
    finally:
        if patched:
            patched.restore()
    return before, after


def _run_workload(library: Library) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(library.python), str(library.workload)],
        cwd=library.root,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def spread(times: list[float]) -> str:
    """Median ± half the min-max range, in seconds."""
    if not times:
        return "-"
    return f"{statistics.median(times):.2f} ±{(max(times) - min(times)) / 2:.2f}"
