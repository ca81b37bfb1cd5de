"""Verify one change to one function: replay its recorded calls, time both versions, judge."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from perfpilot.tools.source_index import index_source
from perfpilot.tools.verify import store
from perfpilot.tools.verify.capture import function_hash, uncapturable
from perfpilot.tools.verify.covering import Span, TestsError, check_tests, project_python
from perfpilot.tools.verify.live import LiveRun, verify_live
from perfpilot.tools.verify.model import Verdict, VerdictKind
from perfpilot.tools.verify.replay import DEFAULT_MEMORY_MB, ReplayError, ReplayJob, run_worker
from perfpilot.tools.verify.verdict import decide, unverified, with_tests

DEFAULT_BUDGET = 10.0
DEFAULT_TEST_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class VerifySettings:
    """How much verification may cost, and whether the covering tests run too."""

    budget: float = DEFAULT_BUDGET  # seconds of replay and timing per fix
    memory_mb: int = DEFAULT_MEMORY_MB
    tests: bool = False  # also run the project's tests that call the function
    test_timeout: float = DEFAULT_TEST_TIMEOUT
    # The program to run when the calls cannot be pickled (verify in-process on its live
    # calls); None: such a function stays unverified.
    live: LiveRun | None = None


def verify_change(
    root: str | Path,
    path: str,
    qualname: str,
    original: str,
    fixed: str,
    settings: VerifySettings | None = None,
    cancel: threading.Event | None = None,
) -> Verdict:
    """The verdict on replacing `original` by `fixed` (whole module texts) for one function.

    Runs the user's code (in subprocesses with limits): call it only on the user's request.
    Setting `cancel` kills the running subprocess; Stopped is raised then.
    """
    settings = settings or VerifySettings()
    started = time.perf_counter()
    verdict, python = _replayed(root, path, qualname, original, fixed, settings, cancel)
    if settings.tests and verdict.kind is not VerdictKind.DIFFERS:
        verdict = _tested(root, path, qualname, original, fixed, settings, verdict, python, cancel)
    return replace(verdict, seconds=time.perf_counter() - started)


def _replayed(
    root: str | Path,
    path: str,
    qualname: str,
    original: str,
    fixed: str,
    settings: VerifySettings,
    cancel: threading.Event | None,
) -> tuple[Verdict, str | None]:
    """The verdict of replay and timing, and the interpreter the program ran with."""
    try:
        loaded = store.load(root, path, qualname)
    except store.CaptureError as exc:
        return unverified(str(exc)), None
    display = os.path.relpath(path, root) if os.path.isabs(path) else path
    if loaded is None:
        reason = uncapturable(path, qualname, original)
        if reason is not None:
            return unverified(f"`{qualname}` cannot be replayed: {reason}"), None
        if settings.live is not None:
            why = "there were no recorded calls"
            return _in_process(path, qualname, original, fixed, settings, why, cancel), None
        return unverified(
            f"no recorded calls of `{qualname}`: run `perfpilot capture --functions"
            f" {display}::{qualname} -- CMD` (or `perfpilot profile --capture -- CMD`) first"
        ), None
    header, records = loaded
    notes = []
    if header.sampled_until:
        notes.append(
            f"the calls were sampled from the first {header.sampled_until} of"
            f" {header.calls_seen} calls only: pickling them cost more than the capture allows"
        )
    if header.source_hash and header.source_hash != function_hash(path, qualname, original):
        notes.append("the capture was made with an older version of the function")
    if not records and settings.live is not None and header.skipped_unpicklable:
        why = "the recorded calls' arguments could not be pickled"
        return _in_process(path, qualname, original, fixed, settings, why, cancel), header.python
    if not records:
        return unverified(
            f"{header.calls_seen} call{'s' if header.calls_seen != 1 else ''} seen, none recorded"
            f" ({header.skipped_unpicklable} with arguments or results that cannot be pickled,"
            f" {header.skipped_too_large} too large)"
            + (f"; first: {header.unpicklable_reason}" if header.unpicklable_reason else ""),
            notes,
        ), header.python
    job = ReplayJob(original, fixed, settings.budget, memory_mb=settings.memory_mb)
    try:
        result = run_worker(header, records, job, cancel)
    except ReplayError as exc:
        if exc.timed_out and settings.live is not None:
            # Recorded calls too heavy to replay in time (each one unpickled and compared
            # several times): the program's live calls, copied in-process, may still fit.
            why = f"the recorded calls' replay did not finish within the budget ({exc})"
            verdict = _in_process(path, qualname, original, fixed, settings, why, cancel)
            return replace(verdict, notes=(*notes, *verdict.notes)), header.python
        return unverified(str(exc), notes), header.python
    return decide(result, header, notes), header.python


def _in_process(
    path: str,
    qualname: str,
    original: str,
    fixed: str,
    settings: VerifySettings,
    why: str,
    cancel: threading.Event | None,
) -> Verdict:
    """The verdict from the live calls of the user's program (settings.live), in-process."""
    assert settings.live is not None
    live = settings.live
    return verify_live(
        path, qualname, original, fixed, live, settings.budget, settings.memory_mb, why, cancel
    )


def _tested(
    root: str | Path,
    path: str,
    qualname: str,
    original: str,
    fixed: str,
    settings: VerifySettings,
    verdict: Verdict,
    python: str | None,
    cancel: threading.Event | None,
) -> Verdict:
    found = index_source(original, path).by_qualname(qualname)
    if not found:
        return replace(verdict, notes=(*verdict.notes, f"no `{qualname}` in {path}"))
    function = found[-1]
    span = Span(path, qualname, function.first_line, function.end_line, function.body_hash)
    try:
        run = check_tests(
            root, span, fixed, project_python(root, python), settings.test_timeout, cancel
        )
    except TestsError as exc:
        return replace(verdict, notes=(*verdict.notes, f"covering tests not run: {exc}"))
    return with_tests(verdict, run)
