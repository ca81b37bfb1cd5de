"""In-process verification (stdlib only): run the program, keep live calls, judge a fix on them.

For functions whose calls cannot be pickled (a method whose `self` holds lambdas, loaders,
caches). Run by the program's interpreter as `python _live.py SPEC MODE TARGET ARGS...`; it
must not import perfpilot. An import hook wraps the function right after its module runs; the
wrapper keeps copies of the arguments of up to N outermost calls, taken at entry and sampled
over the whole run (reservoir), and otherwise leaves the program's work unchanged. When the
program has finished, the original and the fixed function are compiled from source into the
live module's globals (so its classes and sentinels are the program's own), run on
independent copies of each kept call's arguments and compared (result or exception type,
arguments afterwards, output), then timed interleaved like the pickled replay. The result is
written as JSON to the file the spec names.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import runpy
import sys
import textwrap
import time
import types
from collections.abc import Callable
from typing import Any


def _load_hook() -> types.ModuleType:
    """The sibling _hook module, loaded by path so no user module can shadow it."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_hook.py")
    spec = importlib.util.spec_from_file_location("_perfpilot_hook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_hook = _load_hook()
_copying = _hook.load_sibling("_copying")
_worker = _hook.load_sibling("_worker")
_sampling = _hook.load_sibling("_sampling")
COPY_BUDGET = 2.0  # seconds of copying arguments during the run before sampling stops


class LiveRecorder(_sampling.Reservoir):
    """Keeps copies of the arguments of up to `limit` outermost calls (reservoir sampling)."""

    def __init__(self, limit: int, copier: Any) -> None:
        super().__init__(limit, seed=0, budget=COPY_BUDGET)
        self.copier = copier
        self.uncopyable = 0
        self.reason = ""
        self.kept: dict[int, tuple[int, Any]] = {}  # slot -> (call index, (args, kwargs))
        self.module: types.ModuleType | None = None
        self.owner: Any = None
        self.problem = ""
        self.generator = False
        self.original: Callable[..., Any] | None = None  # the program's own function, unwrapped

    def keep_and_call(
        self,
        function: Callable[..., Any],
        slot: int,
        index: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Copy the arguments at entry into `slot`, then make the call unchanged."""
        self.keep(slot, index, args, kwargs)
        return function(*args, **kwargs)

    def keep(self, slot: int, index: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Copy the arguments at entry into `slot`; count a call that cannot be copied."""
        started = time.perf_counter()
        try:
            snapshot, _ = self.copier.copy((args, kwargs))
        except _copying.CopyError as exc:
            self.uncopyable += 1
            self.reason = self.reason or str(exc)
            return
        finally:
            self.spent += time.perf_counter() - started
        self.kept[slot] = (index, snapshot)

    def install(self, qualname: str, module: types.ModuleType) -> None:
        """Replace the function named `qualname` in `module` with the recording wrapper."""
        target = _sampling.Target(module, qualname, "verified")
        function = target.function
        if target.problem:
            self.problem = target.problem
            return
        if not isinstance(function, types.FunctionType):
            self.problem = "not a plain function"
            return
        if function.__code__.co_flags & 0x380:  # coroutine, async generator, iterable coroutine
            self.problem = "async functions cannot be verified"
            return
        self.generator = bool(function.__code__.co_flags & 0x20)
        self.original = function
        target.replace(self.outermost(function, self.keep_and_call))
        self.module, self.owner = module, target.owner


def compile_function(definition: str, qualname: str) -> types.CodeType:
    """The code that defines the function (its def, decorators included) inside class
    statements named like its owners, so `__private` names mangle as in the real class and
    the function's name does not rebind a global."""
    parts = qualname.split(".")
    text = textwrap.dedent(definition)
    for owner in reversed(parts[:-1]):
        text = f"class {owner}:\n" + textwrap.indent(text, "    ")
    return compile(text, f"<perfpilot verify {qualname}>", "exec")


def define(code: types.CodeType, recorder: LiveRecorder, qualname: str) -> Callable[..., Any]:
    """A new function from `code`, with the live module's globals (its classes, its
    sentinels); `super()` without arguments refers to the real class."""
    assert recorder.module is not None
    scope: dict[str, Any] = {}
    exec(code, recorder.module.__dict__, scope)
    parts = qualname.split(".")
    holder: Any = scope[parts[0]]
    for part in parts[1:-1]:
        holder = holder.__dict__[part]
    name = parts[-1]
    if len(parts) > 1:
        raw = holder.__dict__[_sampling.mangled(holder, name)]
    else:
        raw = holder
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__  # recorded arguments hold the class (or nothing) already
    if isinstance(raw, types.FunctionType) and "__class__" in raw.__code__.co_freevars:
        cells = list(raw.__closure__ or ())
        cells[raw.__code__.co_freevars.index("__class__")] = types.CellType(recorder.owner)
        rebound = types.FunctionType(
            raw.__code__, raw.__globals__, raw.__name__, raw.__defaults__, tuple(cells)
        )
        rebound.__kwdefaults__ = raw.__kwdefaults__
        return rebound
    return raw


def add_missing_globals(recorder: LiveRecorder, fixed_module: str, filename: str) -> None:
    """Names the fixed module defines at module level that the live one lacks (a sentinel,
    an import the fix added), from a scratch run of the fixed module's source."""
    module = recorder.module
    assert module is not None
    scratch = types.ModuleType(module.__name__)
    for name in ("__file__", "__package__", "__spec__", "__loader__", "__path__"):
        if hasattr(module, name):
            setattr(scratch, name, getattr(module, name))
    exec(compile(fixed_module, filename, "exec"), scratch.__dict__)
    for name, value in scratch.__dict__.items():
        if name not in module.__dict__:
            module.__dict__[name] = value


def run_call(function: Callable[..., Any], arguments: Any, generator: bool) -> Any:
    """One call on its own arguments: its _worker.Outcome (a generator call is consumed)."""
    args, kwargs = arguments
    return _worker.run_call(function, args, kwargs, _worker.ALL_ITEMS if generator else None)


def judge(
    recorder: LiveRecorder, spec: dict[str, Any], calls: list[Any], deadline: float
) -> dict[str, Any]:
    """Compare original (twice) and fixed on independent copies of every kept call, then time."""
    copier = recorder.copier
    qualname = spec["qualname"]
    if spec["fixed_module"] is not None:
        add_missing_globals(recorder, spec["fixed_module"], spec["filename"])
    codes = {
        "A": compile_function(spec["original"], qualname),
        "B": compile_function(spec["fixed"], qualname),
    }
    codes["A2"] = compile_function(spec["original"], qualname)  # its own code: own warm-up
    make = lambda name: define(codes[name], recorder, qualname)  # noqa: E731
    first, again, fixed = make("A"), make("A2"), make("B")
    result: dict[str, Any] = {
        "calls": 0,
        "unstable": 0,
        "irreproducible": 0,
        "difference": None,
        "unstable_example": None,
        "shared_changed": None,
        "recompiled_differs": None,  # the original compiled again did not behave as its own
    }
    kept = []
    replay_started = time.perf_counter()
    for i, snapshot in enumerate(calls):
        outcomes = []
        for function in (first, again, fixed, recorder.original):
            arguments, shared = copier.copy(snapshot)
            before = _copying.fingerprint(shared)
            outcomes.append(run_call(function, arguments, recorder.generator))
            if _copying.fingerprint(shared) != before:
                result["shared_changed"] = _shared_text(shared, i)
                return result
        kept.append(snapshot)
        result["calls"] = len(kept)
        a, a2, b, own = outcomes
        if not _worker.compare(a, a2) and _worker.compare(own, a):
            aspect, detail = _worker.compare(own, a)
            result["recompiled_differs"] = _example(i, snapshot, own, a, aspect, detail)
            return result
        unstable = _worker.compare(a, a2)
        if unstable:
            result["unstable"] += 1
            if result["unstable_example"] is None:
                result["unstable_example"] = _example(i, snapshot, a, a2, *unstable)
            continue
        found = _worker.compare(a, b)
        if found:
            result["difference"] = _example(i, snapshot, a, b, *found)
            return result
        if time.perf_counter() > spec["replay_deadline"] and len(kept) >= 8:
            break  # a slow function: judge the calls that fit in the budget
    if spec["time"] and kept:
        estimate = (time.perf_counter() - replay_started) * len(kept) / max(1, i + 1)
        result["timing"] = timing(recorder, codes, qualname, kept, deadline, estimate)
    return result


def _shared_text(shared: list[Any], call: int) -> str:
    kinds = sorted({f"{type(s).__module__}.{type(s).__qualname__}" for s in shared})
    return (
        f"call {call + 1} changed an object its arguments share with the program (module-level"
        f" or not deep-copyable: {', '.join(kinds[:4])}); original and fix cannot be run on"
        " independent copies"
    )


def _example(
    i: int, snapshot: Any, first: Any, second: Any, aspect: str, detail: str
) -> dict[str, Any]:
    args, kwargs = snapshot
    short = _worker._compare.short_repr
    shown = ", ".join(
        [short(a, 80) for a in args] + [f"{k}={short(v, 80)}" for k, v in kwargs.items()]
    )
    return {
        "call": i,
        "aspect": aspect,
        "detail": detail,
        "input": short(shown, 240) if len(shown) > 240 else shown,
        "original": _worker.shown(first, aspect, detail),
        "fixed": _worker.shown(second, aspect, detail),
    }


def timing(
    recorder: LiveRecorder,
    codes: dict[str, types.CodeType],
    qualname: str,
    calls: list[Any],
    deadline: float,
    estimate: float,
) -> dict[str, Any] | None:
    """Per-call minimum times of A, B and A2 over interleaved rounds (_worker.time_rounds);
    each round defines the functions again (decorator caches start empty) and runs each on
    its own copies of the arguments. The comparison ran every kept call on these code
    objects: it was the warm-up round."""

    def prepare(indices: list[int]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        functions = {name: define(code, recorder, qualname) for name, code in codes.items()}
        arguments = {name: [recorder.copier.copy(calls[i])[0] for i in indices] for name in codes}
        return functions, arguments

    limit = _worker.ALL_ITEMS if recorder.generator else None
    return _worker.time_rounds(prepare, [limit] * len(calls), deadline, estimate, warmed=True)


def main() -> None:
    """Install the hook, run the program as __main__, then judge the fix on its live calls."""
    spec_path, mode, target = sys.argv[1:4]
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    sys.argv = [target, *sys.argv[4:]]
    sys.path[0] = os.path.dirname(os.path.abspath(target)) if mode == "script" else os.getcwd()
    recorder = LiveRecorder(spec["calls"], _copying.Copier())
    install = functools.partial(recorder.install, spec["qualname"])
    sys.meta_path.insert(0, _hook.Finder({os.path.realpath(spec["path"]): [install]}))
    status = 0
    try:
        if mode == "script":
            runpy.run_path(target, run_name="__main__")
        else:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # the program failed: judge the calls it made before that
        status = 1
        sys.stderr.write(f"perfpilot: the program raised {type(exc).__name__}: {exc}\n")
    finally:
        sys.stdout.flush()
    sys.stdout = sys.stderr = _worker._Sink()
    recorder.limit = 0  # calls made while judging (recursion through the wrapper) are not kept
    started = time.perf_counter()
    spec["replay_deadline"] = started + spec["budget"] * 0.15
    calls = [snapshot for _, snapshot in sorted(recorder.kept.values(), key=lambda k: k[0])]
    report: dict[str, Any] = {
        "status": status,
        "seen": recorder.seen,
        "kept": len(calls),
        "uncopyable": recorder.uncopyable,
        "uncopyable_reason": recorder.reason,
        "shared": recorder.copier.first_failure,
        "sampled_until": recorder.stopped_at,
        "problem": recorder.problem if recorder.module is None else "",
        "imported": recorder.module is not None or bool(recorder.problem),
    }
    if recorder.module is not None and calls:
        gc.collect()
        try:
            report.update(judge(recorder, spec, calls, started + spec["budget"]))
        except _copying.CopyError as exc:
            report["uncopyable"] += 1
            report["uncopyable_reason"] = str(exc)
        except Exception as exc:  # stderr is silenced here: say what failed in the result
            report["error"] = f"{type(exc).__name__}: {exc}"[:300]
    report["seconds"] = time.perf_counter() - started
    with open(spec["result"], "w", encoding="utf-8") as handle:
        json.dump(report, handle)


if __name__ == "__main__":
    main()
