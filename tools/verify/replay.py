"""Run the replay/timing worker in a separate interpreter with a time and a memory limit."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfpilot.tools.verify.model import FunctionCapture
from perfpilot.tools.verify.process import Stopped, run_process

WORKER = Path(__file__).with_name("_worker.py")
DEFAULT_MEMORY_MB = 4096
# Beyond the budget: interpreter start, importing the module, writing the result.
STARTUP_ALLOWANCE = 15.0


class ReplayError(Exception):
    """The worker could not run or did not finish; the message says why, for the user."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out  # killed at its time limit (not a crash, not memory)


@dataclass(frozen=True, slots=True)
class ReplayJob:
    """Everything the worker needs besides the records."""

    original: str  # the module's source the fix was made from
    fixed: str  # the same module with the fix applied
    budget: float  # seconds for replay and timing together
    time: bool = True  # False: behaviour only
    memory_mb: int = DEFAULT_MEMORY_MB


def run_worker(
    header: FunctionCapture,
    records: list[tuple[bytes, bytes]],
    job: ReplayJob,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """The worker's JSON result; ReplayError when it fails, times out or runs out of memory."""
    workdir = tempfile.mkdtemp(prefix="perfpilot-verify-")
    try:
        result_path = os.path.join(workdir, "result.json")
        copy = os.path.join(workdir, os.path.basename(header.path))
        Path(copy).write_text(job.fixed, encoding="utf-8")  # the fixed module's temporary copy
        spec = {
            "module": header.module,
            "qualname": header.qualname,
            "sys_path": list(header.sys_path),
            "cwd": header.cwd,
            "filename": copy,
            "original": job.original,
            "fixed": job.fixed,
            "budget": job.budget,
            "time": job.time,
            "result": result_path,
            "sizes": [[len(i), len(o)] for i, o in records],
        }
        payload = json.dumps(spec).encode() + b"\n" + b"".join(i + o for i, o in records)
        python = header.python if os.path.exists(header.python) else sys.executable
        limit = job.budget + STARTUP_ALLOWANCE
        try:
            done = run_process(
                [python, str(WORKER)],
                input=payload,
                timeout=limit,
                cancel=cancel,
                preexec_fn=resource_limits(job.memory_mb, limit),
            )
        except Stopped as exc:
            if not exc.timed_out:
                raise
            message = f"replay did not finish within {limit:g} s; stopped"
            raise ReplayError(message, timed_out=True) from None
        except OSError as exc:
            raise ReplayError(f"cannot run {python}: {exc.strerror or exc}") from None
        if done.returncode != 0 or not os.path.exists(result_path):
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            memory = " (memory limit?)" if "MemoryError" in tail[0] else ""
            raise ReplayError(f"replay failed{memory}: {tail[0][:300]}")
        with open(result_path, encoding="utf-8") as handle:
            return json.load(handle)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def resource_limits(memory_mb: int, seconds: float) -> Any:
    """A preexec function: address-space and CPU-time limits for the worker (POSIX)."""

    def apply() -> None:
        import resource

        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    return apply if os.name == "posix" else None
