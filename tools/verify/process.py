"""Run a child process with a deadline and a cancel flag; both kill its whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


class Stopped(Exception):
    """The process was killed: it ran past its deadline (`timed_out`) or was cancelled."""

    def __init__(self, timed_out: bool) -> None:
        super().__init__("timed out" if timed_out else "cancelled")
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class Finished:
    """A finished process: status and its output."""

    returncode: int
    stdout: bytes
    stderr: bytes


def run_process(
    argv: list[str],
    *,
    timeout: float,
    cancel: threading.Event | None = None,
    input: bytes | None = None,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Finished:
    """Run `argv` to completion; Stopped when `timeout` passes or `cancel` is set."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        preexec_fn=preexec_fn,
        start_new_session=True,  # so a kill reaches what the program started too
    )
    deadline = time.monotonic() + timeout
    pending = input
    while True:
        try:
            out, err = process.communicate(pending, timeout=0.1)
            return Finished(process.returncode, out, err)
        except subprocess.TimeoutExpired:
            pending = None  # communicate keeps feeding what it was given first
        timed_out = time.monotonic() > deadline
        if timed_out or (cancel is not None and cancel.is_set()):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()
            process.communicate()
            raise Stopped(timed_out)
