"""Record real calls of chosen functions by running the user's program under the bootstrap."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from perfpilot.tools.profiling import ProfilingError, bootstrap_command
from perfpilot.tools.source_index import index_source
from perfpilot.tools.verify import store
from perfpilot.tools.verify.model import CaptureRun, FunctionCapture

BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
DEFAULT_CALLS = 256
MAX_CALL_BYTES = 16 * 1024 * 1024
MAX_FUNCTION_BYTES = 64 * 1024 * 1024
# Seconds of pickling per function after which sampling stops (the sample so far is kept):
# a method whose `self` holds a whole document model would otherwise slow the run many times.
PICKLING_BUDGET = 2.0


@dataclass(frozen=True, slots=True)
class CaptureTarget:
    """A function to capture: its file (absolute) and qualified name."""

    path: str
    qualname: str


def function_hash(path: str, qualname: str, text: str | None = None) -> str:
    """The body hash of a function as the source index computes it ("" when not found)."""
    try:
        source = text if text is not None else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    found = index_source(source, path).by_qualname(qualname)
    return found[-1].body_hash if found else ""


def uncapturable(path: str, qualname: str, text: str) -> str | None:
    """Why calls of this function cannot be recorded (async), or None.

    The same rule the capture bootstrap applies at run time, read from the source, so that
    `verify` does not advise a capture that would record nothing. Generators are captured
    (their consumed items are recorded); coroutines and async generators are not.
    """
    found = index_source(text, path).by_qualname(qualname)
    if found and found[-1].is_async:
        return "it is an async function"
    return None


def run_capture(
    root: str | Path,
    command: Sequence[str],
    targets: Sequence[CaptureTarget],
    cwd: str | Path,
    *,
    calls: int = DEFAULT_CALLS,
    stdout: TextIO | None = None,
    max_call_bytes: int = MAX_CALL_BYTES,
    max_function_bytes: int = MAX_FUNCTION_BYTES,
    timeout: float | None = None,
    pickling_budget: float = PICKLING_BUDGET,
) -> CaptureRun:
    """Run `command` once, recording up to `calls` calls of each target; store the captures."""
    if not targets:
        raise ProfilingError("nothing to capture: no function was chosen")
    workdir = tempfile.mkdtemp(prefix="perfpilot-capture-")
    try:
        spec_path = os.path.join(workdir, "spec.json")
        output = os.path.join(workdir, "capture.bin")
        Path(output).touch(mode=0o600)
        spec = {
            "output": output,
            "calls": max(1, calls),
            "max_call_bytes": max_call_bytes,
            "max_function_bytes": max_function_bytes,
            "pickling_budget": pickling_budget,
            "targets": [
                {"path": os.path.realpath(t.path), "qualname": t.qualname} for t in targets
            ],
        }
        Path(spec_path).write_text(json.dumps(spec), encoding="utf-8")
        argv = bootstrap_command(list(command), [str(BOOTSTRAP), spec_path])
        started = time.perf_counter()
        try:
            done = subprocess.run(argv, cwd=cwd, check=False, stdout=stdout, timeout=timeout)
        except OSError as exc:
            raise ProfilingError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
        except subprocess.TimeoutExpired:
            raise ProfilingError(f"the program ran longer than {timeout:g} s; stopped") from None
        seconds = time.perf_counter() - started
        data = Path(output).read_bytes()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not data:
        raise ProfilingError(
            f"the program exited with status {done.returncode} before anything was captured"
        )
    return _store(root, data, done.returncode, seconds)


def _store(root: str | Path, data: bytes, returncode: int, seconds: float) -> CaptureRun:
    """Split the bootstrap's output into one authenticated capture file per function."""
    line, _, blobs = data.partition(b"\n")
    meta = json.loads(line)
    offset = 0
    captures, missing, stored = [], [], []
    for entry in meta["functions"]:
        records = []
        for inputs, outcome in entry["sizes"]:
            records.append(
                (
                    blobs[offset : offset + inputs],
                    blobs[offset + inputs : offset + inputs + outcome],
                )
            )
            offset += inputs + outcome
        name = f"{entry['path']}::{entry['qualname']}"
        if entry["module"] is None or entry["seen"] == 0:
            missing.append(f"{name} ({entry['problem'] or 'never called'})")
            continue
        header = FunctionCapture(
            path=entry["path"],
            qualname=entry["qualname"],
            module=entry["module"],
            sys_path=tuple(meta["sys_path"]),
            python=meta["python"],
            cwd=meta["cwd"],
            source_hash=function_hash(entry["path"], entry["qualname"]),
            calls_seen=entry["seen"],
            recorded=len(records),
            skipped_unpicklable=entry["unpicklable"],
            skipped_too_large=entry["too_large"],
            created=time.time(),
            unpicklable_reason=entry.get("unpicklable_reason") or "",
            sampled_until=entry.get("sampled_until") or 0,
        )
        stored.append(str(store.save(root, header, records)))
        captures.append(header)
    return CaptureRun(returncode, seconds, tuple(captures), tuple(missing), tuple(stored))
