"""Capture bootstrap: run a program and record calls of chosen functions (stdlib only).

Run by the program's own interpreter as `python _bootstrap.py SPEC MODE TARGET ARGS...`; it
must not import perfpilot (the program's interpreter may not have it). An import hook wraps the
chosen functions right after their module runs, so every caller sees the wrapper. A wrapper
records an outermost call only when reservoir sampling keeps it (spread over the whole run), so
the program's work is unchanged: same calls, same results, same exceptions, same output.
A generator function's wrapper is a generator that re-yields every item unchanged and records
the items the program consumed (and whether it ran to the end, raised, or was closed early).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import pickle
import runpy
import sys
import time
import types
from collections.abc import Callable
from typing import Any

PROTOCOL = pickle.HIGHEST_PROTOCOL
PICKLING_BUDGET = 2.0  # seconds of pickling per function before the reservoir stops sampling


def _load_hook() -> types.ModuleType:
    """The sibling _hook module, loaded by path so no user module can shadow it."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_hook.py")
    spec = importlib.util.spec_from_file_location("_perfpilot_hook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_hook = _load_hook()
_recording = _hook.load_sibling("_recording")
_pickling = _recording._pickling  # the one copy: Tapped must be the class _recording makes
Tee, Tapped, dumps = _recording.Tee, _pickling.Tapped, _pickling.dumps
_sampling = _hook.load_sibling("_sampling")


class Recorder(_recording.GeneratorRecording, _sampling.Reservoir):
    """Reservoir of up to `limit` calls of one function, with sizes capped."""

    def __init__(
        self, target: dict[str, str], limit: int, per_call: int, per_function: int, seed: int
    ) -> None:
        # `spent`: seconds of pickling this function's calls; past the budget (a big `self`
        # costs the program too much) the sample so far is kept (reported).
        _sampling.Reservoir.__init__(self, limit, seed, PICKLING_BUDGET)
        self.path = target["path"]
        self.qualname = target["qualname"]
        self.module = None
        self.per_call = per_call
        self.per_function = per_function
        self.unpicklable = 0
        self.unpicklable_reason = None  # the first pickling error, for the user
        self.too_large = 0
        self.kept = {}  # slot -> (call index, inputs bytes, outcome bytes)
        self.bytes = 0
        self.problem = None

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """A wrapper that records outermost calls chosen by the reservoir."""
        return self.outermost(function, self.record)

    def record(
        self,
        function: Callable[..., Any],
        slot: int,
        index: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Run one call, keeping its inputs, outcome and output."""
        entry = self.entry(args, kwargs)
        if entry is None:
            return function(*args, **kwargs)
        inputs, args, kwargs = entry
        out, err = Tee(sys.stdout, self.per_call), Tee(sys.stderr, self.per_call)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            result = function(*args, **kwargs)
        except BaseException as exc:
            sys.stdout, sys.stderr = saved
            kind = type(exc)
            self.keep(
                slot,
                index,
                inputs,
                "raise",
                (kind.__module__, kind.__qualname__, str(exc)),
                args,
                kwargs,
                out,
                err,
            )
            raise
        sys.stdout, sys.stderr = saved
        self.keep(slot, index, inputs, "return", result, args, kwargs, out, err)
        return result

    def keep(
        self,
        slot: int,
        index: int,
        inputs: bytes | Tapped,
        kind: str,
        value: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        out: Tee,
        err: Tee,
        items: list[Any] | None = None,
    ) -> None:
        """Store a call in its slot unless it cannot be pickled or is too large.

        `items`: what a generator call yielded and the program consumed (None: not a generator).
        """
        record = {
            "kind": kind,
            "value": value,
            "after": (args, kwargs),
            "stdout": out.text(),
            "stderr": err.text(),
        }
        if items is not None:
            record["items"] = items
            record["consumed"] = len(items)
        if isinstance(inputs, Tapped):
            if any(tap.overflow for tap in inputs.taps):
                self.too_large += 1
                return
            try:
                inputs = inputs.final()
            except Exception as exc:
                self.unpickled(exc, "items of an iterator argument")
                return
        try:
            started = time.perf_counter()
            outcome = dumps(record)
            self.spent += time.perf_counter() - started
        except Exception as exc:
            self.unpickled(exc, "result or arguments after the call")
            return
        size = len(inputs) + len(outcome)
        replaced = self.kept.get(slot)
        freed = len(replaced[1]) + len(replaced[2]) if replaced else 0
        if size > self.per_call or self.bytes - freed + size > self.per_function:
            self.too_large += 1
            return
        self.kept[slot] = (index, inputs, outcome)
        self.bytes += size - freed

    def unpickled(self, error: Exception, what: str) -> None:
        """Count a call that cannot be pickled; keep the first reason."""
        self.unpicklable += 1
        if self.unpicklable_reason is None:
            self.unpicklable_reason = f"{what}: {type(error).__name__}: {error}"[:200]


def install(recorder: Recorder, module: types.ModuleType) -> None:
    """Replace the function named by the recorder's qualname in `module` with a wrapper."""
    target = _sampling.Target(module, recorder.qualname, "captured")
    function = target.function
    if target.problem:
        recorder.problem = target.problem
        return
    if not callable(function) or isinstance(function, property):
        recorder.problem = "not a plain function"
        return
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        recorder.problem = "async functions cannot be captured"
        return
    if inspect.isgeneratorfunction(function):
        wrapped = recorder.wrap_generator(function)
    else:
        wrapped = recorder.wrap(function)
    target.replace(wrapped)
    recorder.module = module.__name__
    _pickling.HOMES.add(module.__name__)
    _pickling._SCANNED[0] = -1  # sentinels are looked up again with this home preferred


def write(output: str, recorders: list[Recorder]) -> None:
    """The capture: one JSON line (counts and sizes), then the pickled records' bytes."""
    entries, blobs = [], []
    for recorder in recorders:
        records = sorted(recorder.kept.values())  # back into the order of the run
        entries.append(
            {
                "path": recorder.path,
                "qualname": recorder.qualname,
                "module": recorder.module,
                "seen": recorder.seen,
                "unpicklable": recorder.unpicklable,
                "unpicklable_reason": recorder.unpicklable_reason,
                "too_large": recorder.too_large,
                "sampled_until": recorder.stopped_at,
                "problem": recorder.problem,
                "sizes": [[len(i), len(o)] for _, i, o in records],
            }
        )
        blobs.extend(i + o for _, i, o in records)
    meta = {
        "functions": entries,
        "sys_path": [p for p in sys.path if p],
        "python": sys.executable,
        "cwd": os.getcwd(),
    }
    fd = os.open(output, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
    with os.fdopen(fd, "wb") as handle:
        handle.write(json.dumps(meta).encode() + b"\n")
        for blob in blobs:
            handle.write(blob)


def main() -> None:
    """Install the hook, run the program as __main__, write the capture whatever happens."""
    spec_path, mode, target = sys.argv[1:4]
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.argv = [target, *sys.argv[4:]]
    sys.path[0] = os.path.dirname(os.path.abspath(target)) if mode == "script" else os.getcwd()
    recorders = [
        Recorder(t, spec["calls"], spec["max_call_bytes"], spec["max_function_bytes"], index)
        for index, t in enumerate(spec["targets"])
    ]
    for recorder in recorders:
        recorder.budget = spec.get("pickling_budget", PICKLING_BUDGET)
    by_file = {}
    for recorder in recorders:
        by_file.setdefault(os.path.realpath(recorder.path), []).append(recorder)
    installers = {
        path: [functools.partial(install, recorder) for recorder in group]
        for path, group in by_file.items()
    }
    sys.meta_path.insert(0, _hook.Finder(installers))
    if mode == "script" and not os.path.isfile(target):
        # What the interpreter itself says and does for a missing script.
        sys.stderr.write(
            f"{sys.executable}: can't open file {os.path.abspath(target)!r}:"
            " [Errno 2] No such file or directory\n"
        )
        write(spec["output"], recorders)
        sys.exit(2)
    if mode == "script":
        for recorder in by_file.get(os.path.realpath(target), []):
            recorder.problem = (
                "defined in the script that was run (__main__): only functions of imported"
                " modules can be captured"
            )
    try:
        if mode == "script":
            runpy.run_path(target, run_name="__main__")
        else:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
    finally:
        write(spec["output"], recorders)


if __name__ == "__main__":
    main()
