"""Replay stops at its share of the budget counting everything it does, comparisons included.

A method whose every call carries a large state graph (markdown's processors hold the whole
Markdown instance and document, ~600 kB pickled) costs far more to load and compare than to
call. The replay used to watch the clock only while running the first pass, then ran a second
pass, the fix and three comparisons over every call it had started: markdown's replays ran past
budget + 15 s and were killed ("replay did not finish"), so none of its hot functions had a
verdict. Here each comparison costs one second of a fake clock (it stands for a large graph).
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from pathlib import Path

import pytest

from perfpilot.tools.verify import _worker, replay, store
from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from perfpilot.tools.verify.live import LiveRun
from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

MODULE = '''"""Functions whose calls are cheap."""

import sys
import time



class Tally:
    """A count the module holds one of."""

    def __init__(self) -> None:
        self.count = 3


TALLY = Tally()


def total(values: list[int]) -> int:
    """The sum of the values."""
    return sum(values)


def grow(values: list[int]) -> int:
    """Append to the values (the call changes its argument)."""
    values.append(len(values))
    return len(values)


def settle(values: list[int]) -> int:
    """The sum, slow only where the recorded calls are replayed (perfpilot's worker)."""
    if sys.argv[0].endswith("_worker.py"):
        time.sleep(1.0)
    return sum(values)


def note(tally: Tally) -> int:
    """One more than the module's count (recorded by reference: a module singleton)."""
    return tally.count + 1
'''
MAIN = """from bigpkg.work import TALLY, grow, note, settle, total

print(sum(total(list(range(n))) for n in range(32)))
print(sum(grow(list(range(n))) for n in range(12)))
print(sum(note(TALLY) for n in range(12)))
print(sum(settle(list(range(n))) for n in range(12)))
"""


def _capture(root: Path) -> None:
    """Write the package and its program, and capture the three functions."""
    (root / "bigpkg").mkdir()
    (root / "bigpkg" / "__init__.py").write_text("")
    (root / "bigpkg" / "work.py").write_text(MODULE)
    (root / "main.py").write_text(MAIN)
    path = str(root / "bigpkg" / "work.py")
    targets = [CaptureTarget(path, name) for name in ("total", "grow", "note", "settle")]
    run_capture(root, [sys.executable, "main.py"], targets, root)


class FakeClock:
    """The worker's `time` module: a perf_counter that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def test_replay_counts_comparisons_against_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "bigpkg" / "work.py")
    _capture(tmp_path)
    loaded = store.load(tmp_path, str(tmp_path / "bigpkg" / "work.py"), "total")
    assert loaded is not None
    header, records = loaded
    assert len(records) == 32

    clock = FakeClock()
    compare = _worker.compare

    def slow_compare(first: _worker.Outcome, second: _worker.Outcome) -> object:
        clock.now += 1.0  # comparing a large state graph
        return compare(first, second)

    result_path = tmp_path / "result.json"
    job = {
        "module": header.module,
        "qualname": "total",
        "sys_path": [str(tmp_path)],
        "cwd": str(tmp_path),
        "filename": path,
        "original": MODULE,
        "fixed": MODULE,
        "budget": 10.0,
        "time": False,
        "result": str(result_path),
        "sizes": [[len(i), len(o)] for i, o in records],
    }
    payload = json.dumps(job).encode() + b"\n" + b"".join(i + o for i, o in records)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload)))
    monkeypatch.setattr(_worker, "compare", slow_compare)
    monkeypatch.setattr(_worker, "time", clock)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    _worker.main()

    result = json.loads(result_path.read_text())
    assert result["difference"] is None and not result["unstable"]
    # Each call costs three comparisons (3 s): the replay's share of the 10 s budget is spent
    # after two calls, and it goes on to the minimum number of calls judged, no further.
    assert result["calls"] == 8  # before: all 32, then 96 s of comparing
    assert clock.now <= 3 * 8


def test_timing_reuses_only_arguments_a_call_leaves_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loading a large state graph for every call of every round costs far more than the call:
    # arguments a call provably leaves as it found them are loaded once for timing.
    _capture(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = str(tmp_path / "bigpkg" / "work.py")
    module = importlib.import_module("bigpkg.work")
    reused = {}
    for name in ("total", "grow", "note"):
        loaded = store.load(tmp_path, path, name)
        assert loaded is not None
        _, records = loaded
        job = {"filename": path, "qualname": name, "original": MODULE, "fixed": MODULE}
        result, judged, _, reusable, _ = _worker.replay(module, job, records, float("inf"))
        assert result["difference"] is None and len(reusable) == len(judged) == len(records)
        reused[name] = set(reusable)
    assert reused["total"] == {True}  # left its list as it was
    assert reused["grow"] == {False}  # appended to it: fresh copies every round
    assert reused["note"] == {False}  # its argument is the module's own (made anew each round)


def test_replay_past_its_time_limit_falls_back_to_live_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When the recorded calls cannot be replayed in time and the user gave the program
    # (`verify --run`), its live calls are used in-process, and the verdict says why.
    _capture(tmp_path)
    path = str(tmp_path / "bigpkg" / "work.py")
    monkeypatch.setattr(replay, "STARTUP_ALLOWANCE", 1.0)  # less than one replayed call
    live = LiveRun((sys.executable, "main.py"), str(tmp_path), calls=8)
    settings = VerifySettings(budget=0.05, live=live)

    verdict = verify_change(tmp_path, path, "settle", MODULE, MODULE, settings)

    assert "in-process" in verdict.summary, verdict.summary
    assert any("replay did not finish" in note for note in verdict.notes), verdict.notes
    assert verdict.calls == 8 and verdict.kind is not VerdictKind.DIFFERS
