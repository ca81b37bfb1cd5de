"""Run a child process with a deadline and a cancel flag; both kill its whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
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
    """Run `argv` to completion; Stopped when `timeout` passes or `cancel` is set.

    Output goes to private temporary files and input is fed by a thread, so polling for the
    deadline never stalls on a full pipe (Popen.communicate with a timeout cannot resume
    writing input after its first timeout).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            env=env,
            preexec_fn=preexec_fn,
            start_new_session=True,  # so a kill reaches what the program started too
        )
        if input is not None:
            threading.Thread(target=_feed, args=(process, input), daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                process.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
            timed_out = time.monotonic() > deadline
            if timed_out or (cancel is not None and cancel.is_set()):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except OSError:
                    process.kill()
                process.wait()
                raise Stopped(timed_out)
        out.seek(0)
        err.seek(0)
        return Finished(process.returncode, out.read(), err.read())


def _feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    """Write `data` to the child's stdin and close it (the child may exit before reading)."""
    assert process.stdin is not None
    try:
        process.stdin.write(data)
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass
