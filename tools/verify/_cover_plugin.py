"""pytest plugin (copied to a private folder, loaded with -p): which tests call a function.

Environment: PERFPILOT_COVER_FILE and PERFPILOT_COVER_LINES ("first-last") name the function's
file and line span (its code objects start inside it); PERFPILOT_COVER_OUTPUT is where the JSON
result goes: the node ids that called into the span, and every test's outcome.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

_WATCHED = os.environ.get("PERFPILOT_COVER_FILE", "")
_FILE = os.path.realpath(_WATCHED) if _WATCHED else None
_FIRST, _, _LAST = os.environ.get("PERFPILOT_COVER_LINES", "0-0").partition("-")
_FIRST, _LAST = int(_FIRST), int(_LAST)
_OUTPUT = os.environ.get("PERFPILOT_COVER_OUTPUT", "")
_state = {"current": None}
_hits = set()
_outcomes = {}
_files = {}


def _profile(frame: Any, event: str, arg: Any) -> None:
    if event != "call" or _state["current"] is None:
        return
    code = frame.f_code
    if not _FIRST <= code.co_firstlineno <= _LAST:
        return
    name = code.co_filename
    real = _files.get(name)
    if real is None:
        real = _files[name] = os.path.realpath(name)
    if real == _FILE:
        _hits.add(_state["current"])


def pytest_sessionstart(session: Any) -> None:
    """Start watching calls (only when a function to watch was named)."""
    if _FILE:
        sys.setprofile(_profile)
        threading.setprofile(_profile)


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    """Remember which test is running (called before its setup)."""
    _state["current"] = nodeid


def pytest_runtest_logreport(report: Any) -> None:
    """Keep each test's outcome (a failure in any phase wins)."""
    if report.when == "call" or report.outcome == "failed" or report.outcome == "skipped":
        previous = _outcomes.get(report.nodeid)
        if previous != "failed":
            _outcomes[report.nodeid] = report.outcome


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Stop watching and write the result."""
    sys.setprofile(None)
    threading.setprofile(None)
    if not _OUTPUT:
        return
    with open(_OUTPUT, "w", encoding="utf-8") as handle:
        json.dump({"hits": sorted(_hits), "outcomes": _outcomes}, handle)
