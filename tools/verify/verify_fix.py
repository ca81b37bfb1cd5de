"""Verify one change to one function: replay its recorded calls, time both versions, judge."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from perfpilot.tools.verify import store
from perfpilot.tools.verify.capture import function_hash
from perfpilot.tools.verify.model import Verdict
from perfpilot.tools.verify.replay import DEFAULT_MEMORY_MB, ReplayError, ReplayJob, run_worker
from perfpilot.tools.verify.verdict import decide, unverified

DEFAULT_BUDGET = 10.0


@dataclass(frozen=True, slots=True)
class VerifySettings:
    """How much verification may cost: seconds per fix, and the worker's memory limit."""

    budget: float = DEFAULT_BUDGET
    memory_mb: int = DEFAULT_MEMORY_MB


def verify_change(
    root: str | Path,
    path: str,
    qualname: str,
    original: str,
    fixed: str,
    settings: VerifySettings | None = None,
) -> Verdict:
    """The verdict on replacing `original` by `fixed` (whole module texts) for one function.

    Runs the user's code (in a subprocess with limits): call it only on the user's request.
    """
    settings = settings or VerifySettings()
    started = time.perf_counter()
    try:
        loaded = store.load(root, path, qualname)
    except store.CaptureError as exc:
        return unverified(str(exc))
    display = os.path.relpath(path, root) if os.path.isabs(path) else path
    if loaded is None:
        return unverified(
            f"no recorded calls of `{qualname}`: run `perfpilot capture --functions"
            f" {display}::{qualname} -- CMD` (or `perfpilot profile --capture -- CMD`) first"
        )
    header, records = loaded
    notes = []
    if header.source_hash and header.source_hash != function_hash(path, qualname, original):
        notes.append("the capture was made with an older version of the function")
    if not records:
        return unverified(
            f"{header.calls_seen} call{'s' if header.calls_seen != 1 else ''} seen, none recorded"
            f" ({header.skipped_unpicklable} with arguments or results that cannot be pickled,"
            f" {header.skipped_too_large} too large)",
            notes,
        )
    job = ReplayJob(original, fixed, settings.budget, memory_mb=settings.memory_mb)
    try:
        result = run_worker(header, records, job)
    except ReplayError as exc:
        return unverified(str(exc), notes)
    verdict = decide(result, header, notes)
    return replace(verdict, seconds=time.perf_counter() - started)
