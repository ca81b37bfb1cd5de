"""The verify subprocesses stop on their deadline and on cancel, with what they started."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from perfpilot.tools.verify.process import Stopped, run_process

SLEEPER = (
    "import subprocess, sys, time;"
    " subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
)


def test_cancel_kills_the_process_group_promptly() -> None:
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped) as stopped:
        run_process([sys.executable, "-c", SLEEPER], timeout=30, cancel=cancel)
    assert not stopped.value.timed_out and time.monotonic() - started < 5


def test_deadline_stops_a_process_and_output_is_kept_otherwise() -> None:
    with pytest.raises(Stopped) as stopped:
        run_process([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.3)
    assert stopped.value.timed_out
    done = run_process(
        [sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"],
        timeout=20,
        input=b"abc",
    )
    assert done.returncode == 0 and done.stdout.strip() == b"cba"
