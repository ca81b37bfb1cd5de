"""A speed verdict comes from warm, rotated rounds, never from one cold round (real captures)."""

from __future__ import annotations

import sys
from pathlib import Path

from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

SLOW = '''"""A slow function whose first call in a process pays a one-time cost."""

import time

import slowpkg.state as state


def settle(delay: float) -> float:
    """Wait `delay` seconds (the first call ever waits longer: a lazy set-up)."""
    if not state.ready:
        time.sleep(0.1)
        state.ready = True
    time.sleep(delay)
    return delay
'''
MAIN = """from slowpkg.slow import settle

print(sum(settle(0.02) for _ in range(8)))
"""


def test_slow_function_is_not_judged_on_one_cold_round(tmp_path: Path) -> None:
    (tmp_path / "slowpkg").mkdir()
    (tmp_path / "slowpkg" / "__init__.py").write_text("")
    (tmp_path / "slowpkg" / "state.py").write_text("ready = False\n")
    (tmp_path / "slowpkg" / "slow.py").write_text(SLOW)
    (tmp_path / "main.py").write_text(MAIN)
    path = str(tmp_path / "slowpkg" / "slow.py")
    run_capture(tmp_path, [sys.executable, "main.py"], [CaptureTarget(path, "settle")], tmp_path)

    # The original against itself, with a budget that holds about one round of the 8 calls.
    verdict = verify_change(tmp_path, path, "settle", SLOW, SLOW, VerifySettings(budget=0.5))

    assert verdict.kind is not VerdictKind.FASTER, verdict.summary
    if verdict.speed is None:
        assert "timing round" in verdict.summary or "did not fit" in verdict.summary
    else:  # before: one round, in which the first runner paid the one-time cost
        assert verdict.speed.rounds >= 3, verdict.summary
