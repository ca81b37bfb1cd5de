"""Replay and timing subprocess (stdlib only): original vs fixed on recorded inputs.

Run by the program's interpreter as `python _worker.py`; reads a JSON job line and the
capture's records (raw pickles, already authenticated by perfpilot) on stdin and writes a JSON
result to the file the job names. Both versions are built the same way, from source, in fresh
copies of the module under its own name; timing re-creates them every round so caches start
empty, and runs them interleaved on the recorded sequence, in recorded order.
A recorded generator call is replayed by consuming as many items as the program consumed
(one more when it ran to the end, so an extra item shows), and timed the same way.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import os
import pickle
import sys
import time
import types
from collections.abc import Callable
from typing import Any


def _load_sibling(name: str) -> types.ModuleType:
    """A sibling module (`_compare`...), loaded by path so no user module can shadow it."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_perfpilot{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_compare() -> types.ModuleType:
    """The sibling _compare module."""
    return _load_sibling("_compare")


_compare = _load_compare()
_timing = _load_sibling("_timing")
_fingerprint = _load_sibling("_fingerprint")
time_rounds, _Sink = _timing.time_rounds, _timing.Sink

ALL_ITEMS = 100_000  # a live generator call is consumed to its end, up to this many items
TAPPED = "perfpilot-tapped-inputs-1"  # the same marker as _bootstrap.TAPPED


class Outcome:
    """What one call did: returned or raised, the arguments afterwards, what it printed.

    `items` is what a generator call yielded (None when the call returned no generator).
    """

    __slots__ = ("kind", "value", "after", "stdout", "stderr", "items")

    def __init__(
        self,
        kind: str,
        value: Any,
        after: Any,
        stdout: str,
        stderr: str,
        items: list[Any] | None = None,
    ) -> None:
        self.kind, self.value, self.after = kind, value, after
        self.stdout, self.stderr, self.items = stdout, stderr, items


class _Namespace:
    """A module's globals as attributes (a fresh copy's, for singletons recorded by path)."""

    def __init__(self, globals_: dict[str, Any]) -> None:
        self._globals = globals_

    def __getattr__(self, name: str) -> Any:
        try:
            return self._globals[name]
        except KeyError:
            raise AttributeError(name) from None


class _Unpickler(pickle.Unpickler):
    """Resolves a recorded module (`import_module(name)`, see CapturePickler in _bootstrap.py)
    to the fresh copy the version under test runs in, so its singletons are that copy's own;
    and a tapped iterator argument's persistent id to an iterator over the items it gave."""

    def __init__(self, data: bytes, home: dict[str, Any] | None, streams: list[Any]) -> None:
        super().__init__(io.BytesIO(data))
        self._home = home
        self._streams = streams
        self._made: dict[int, Any] = {}
        self.homed = False  # whether the inputs refer to the module under test (its copy)

    def find_class(self, module: str, name: str) -> Any:
        found = super().find_class(module, name)
        if found is importlib.import_module and self._home is not None:
            home = self._home

            def resolve(target: str) -> Any:
                if target == home.get("__name__"):
                    self.homed = True
                    return _Namespace(home)
                return found(target)

            return resolve
        return found

    def persistent_load(self, pid: Any) -> Any:
        if pid not in self._made:
            self._made[pid] = iter(self._streams[pid])
        return self._made[pid]


def load_inputs(
    inputs: bytes, function: Callable[..., Any] | None = None
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Fresh (args, kwargs) of a recorded call, for `function` (its module's singletons).

    A tapped iterator argument becomes an iterator over the items the call pulled from it.
    """
    return _load(inputs, function)[0]


def _load(
    inputs: bytes, function: Callable[..., Any] | None
) -> tuple[tuple[tuple[Any, ...], dict[str, Any]], bool]:
    """load_inputs, and whether the inputs refer to the module under test."""
    home = getattr(function, "__globals__", None)
    unpickler = _Unpickler(inputs, home, [])
    value = unpickler.load()
    if not (isinstance(value, tuple) and len(value) == 3 and value[0] == TAPPED):
        return value, unpickler.homed
    _, body, streams = value
    unpickler = _Unpickler(body, home, streams)
    return unpickler.load(), True  # a tapped iterator is consumed by the call: never reused


def plan(saved: dict[str, Any] | None) -> int | None:
    """How many items to consume of a recorded generator call (None: not a generator call)."""
    consumed = saved.get("consumed") if isinstance(saved, dict) else None
    if consumed is None:
        return None
    return consumed if saved["kind"] == "closed" else consumed + 1


def _recorded(outcome: bytes) -> dict[str, Any] | None:
    """The recorded outcome of a call, unpickled (None when it cannot be)."""
    try:
        saved = pickle.loads(outcome)
    except Exception:
        return None
    return saved if isinstance(saved, dict) else None


def build(
    module: types.ModuleType, source: str | types.CodeType, filename: str, qualname: str
) -> Any:
    """A fresh copy of `module` run from `source` (or its compiled code); returns the function
    named `qualname`."""
    fresh = types.ModuleType(module.__name__)
    for name in ("__file__", "__package__", "__spec__", "__loader__", "__path__"):
        if hasattr(module, name):
            setattr(fresh, name, getattr(module, name))
    code = source if isinstance(source, types.CodeType) else compile(source, filename, "exec")
    exec(code, fresh.__dict__)
    owner = fresh
    parts = qualname.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part)
    name = parts[-1]
    if isinstance(owner, type) and name.startswith("__") and not name.endswith("__"):
        name = f"_{owner.__name__.lstrip('_')}{name}"  # a `__private` method, as stored
    raw = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__  # recorded arguments hold the class (or nothing) already
    return raw


def call(function: Callable[..., Any], inputs: bytes, limit: int | None = None) -> Outcome:
    """Run one recorded call on fresh copies of its arguments (`limit`: a generator call's)."""
    args, kwargs = load_inputs(inputs, function)
    return run_call(function, args, kwargs, limit)


def run_call(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    limit: int | None = None,
) -> Outcome:
    """Run one call: what it returned or raised, its arguments afterwards, what it printed.

    `limit`: consume up to that many items of the generator the call returns.
    """
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    items = None
    try:
        value = function(*args, **kwargs)
        if limit is not None and inspect.isgenerator(value):
            generator, value, items = value, None, []
            while len(items) < limit:  # item by item: a raise still shows what came before
                try:
                    items.append(next(generator))
                except StopIteration as stop:
                    value = stop.value
                    break
            else:
                generator.close()
        kind = "return"
    except Exception as exc:
        kind = "raise"
        value = (type(exc).__module__, type(exc).__qualname__, str(exc))
    finally:
        sys.stdout, sys.stderr = saved
    return Outcome(kind, value, (args, kwargs), out.getvalue(), err.getvalue(), items)


def compare(first: Outcome, second: Outcome) -> tuple[str, str] | None:
    """(aspect, detail) of the first way two outcomes differ, or None."""
    if (first.items is None) != (second.items is None):
        return ("yielded items", "a generator vs not a generator")
    if first.items is not None:
        where = _compare.difference(first.items, second.items)
        if where:
            return ("yielded items", where)
    if first.kind != second.kind:
        return ("exception", f"{first.kind} vs {second.kind}")
    if first.kind == "raise":
        if first.value[:2] != second.value[:2]:
            return ("exception", "exception type")
    else:
        where = _compare.difference(first.value, second.value)
        if where:
            return ("return value", where)
    where = state_difference(first.after, second.after)
    if where:
        return ("argument mutation", _argument(where))
    if first.stdout != second.stdout:
        return ("output", "stdout")
    if first.stderr != second.stderr:
        return ("output", "stderr")
    return None


def state_difference(first: Any, second: Any) -> str | None:
    """_compare.difference, settled at C speed when both pickle to the same bytes (a call's
    arguments afterwards: a processor holding its whole document, see _fingerprint.py)."""
    if _fingerprint.certainly_equal(first, second):
        return None
    return _compare.difference(first, second)


def _argument(where: str) -> str:
    """'[0][1]...' in ((args), {kwargs}) -> 'argument 2...'."""
    if where.startswith("[0]["):
        index, _, rest = where[4:].partition("]")
        return f"argument {int(index) + 1}{rest}" if index.isdigit() else where
    return where.replace("[1]", "keyword argument ", 1) if where.startswith("[1]") else where


def shown(outcome: Outcome, aspect: str = "return value", detail: str = "") -> str:
    """What a person needs to see of one side of a difference."""
    if aspect == "output":
        return "printed " + _compare.short_repr(
            outcome.stderr if detail == "stderr" else outcome.stdout
        )
    if aspect == "yielded items":
        return "yielded " + _compare.short_repr(outcome.items)
    if aspect == "argument mutation":
        args, kwargs = outcome.after
        return "arguments after the call: " + _compare.short_repr(
            list(args) + ([kwargs] if kwargs else [])
        )
    if outcome.kind == "raise":
        module, name, message = outcome.value
        return _compare.short_repr(f"raised {name}: {message}")
    return _compare.short_repr(outcome.value)


REPLAY_SHARE = 0.4  # of the budget for replay and comparison; timing gets the rest
MIN_REPLAYED = 8  # calls replayed even past the replay's share of the budget


def replay(
    module: types.ModuleType,
    job: dict[str, Any],
    records: list[tuple[bytes, bytes]],
    deadline: float,
    codes: dict[str, types.CodeType] | None = None,
) -> tuple[dict[str, Any], list[tuple[bytes, bytes]], list[int | None], list[bool], float]:
    """Original twice and fixed on each record in turn, compared as they go; stops past
    `deadline` once MIN_REPLAYED calls were judged. The first difference is the one reported.

    Returns the result, the records judged, their generator limits, which of them leave
    their arguments unchanged (timing may reuse those) and what one timing round should cost
    (loading the arguments that cannot be reused, and the calls; no comparing). The versions
    run from `codes` (see versions), the code objects timing runs: this pass is its warm-up.
    Call by call, so that a function whose every call carries a large state graph (a parser
    holding its whole document) is judged on the calls that fit, in the time it has: loading
    and comparing that graph costs far more than the call, and the old pass-by-pass replay
    ran all three passes over every call it started, past any deadline.
    """
    codes = codes or versions(job)
    make = lambda name: build(module, codes[name], job["filename"], job["qualname"])  # noqa: E731
    first_fn, second_fn, fixed_fn = make("A"), make("A2"), make("B")
    result: dict[str, Any] = {
        "calls": 0,
        "unstable": 0,
        "irreproducible": 0,
        "difference": None,
        "unstable_example": None,
    }
    limits: list[int | None] = []
    reusable: list[bool] = []
    cost = 0.0
    for i, (inputs, recorded) in enumerate(records):
        saved = _recorded(recorded)
        limit = plan(saved)
        limits.append(limit)
        began = time.perf_counter()
        first = call(first_fn, inputs, limit)
        second = call(second_fn, inputs, limit)
        fixed = call(fixed_fn, inputs, limit)
        spent = time.perf_counter() - began
        result["calls"] = i + 1
        unstable = compare(first, second)
        if unstable:
            result["unstable"] += 1
            if result["unstable_example"] is None:
                result["unstable_example"] = _example(i, records, first, second, *unstable)
        if saved is None or compare(first, _outcome(saved)):
            result["irreproducible"] += 1
        if not unstable and result["difference"] is None:
            found = compare(first, fixed)
            if found:  # the verdict; the calls still in the budget count as replayed
                result["difference"] = _example(i, records, first, fixed, *found)
        began = time.perf_counter()
        fresh, homed = _load(inputs, first_fn)
        loading = time.perf_counter() - began
        # Timing may load this call's arguments once and reuse them in every round: the
        # original left them equal to a fresh copy (by the comparison that judges behaviour,
        # so no change the verdict could see), the fix behaved the same (arguments afterwards
        # included), and they do not refer to the module's copy (made anew every round).
        reuse = not (unstable or homed or result["difference"])
        reuse = reuse and state_difference(first.after, fresh) is None
        reusable.append(reuse)
        cost += spent - 3 * loading if reuse else spent
        if time.perf_counter() > deadline and i + 1 >= MIN_REPLAYED:
            break  # a slow function: judge the calls that fit in the budget
    judged = result["calls"]
    result["reused"] = sum(reusable)
    return result, records[:judged], limits, reusable, max(cost, 0.0)


def _outcome(saved: dict[str, Any]) -> Outcome:
    """A recorded outcome as the Outcome a replayed call gives."""
    return Outcome(
        "return" if saved["kind"] == "closed" else saved["kind"],  # consumed, then closed
        saved["value"],
        saved["after"],
        saved["stdout"],
        saved["stderr"],
        saved.get("items"),
    )


def _example(
    i: int,
    records: list[tuple[bytes, bytes]],
    original: Outcome,
    fixed: Outcome,
    aspect: str,
    detail: str,
) -> dict[str, Any]:
    """The input and both outcomes of call `i`, as reprs a person can read."""
    args, kwargs = load_inputs(records[i][0])
    shown_args = ", ".join(
        [_compare.short_repr(a, 80) for a in args]
        + [f"{k}={_compare.short_repr(v, 80)}" for k, v in kwargs.items()]
    )
    return {
        "call": i,
        "aspect": aspect,
        "detail": detail,
        "input": _compare.short_repr(shown_args, 240) if len(shown_args) > 240 else shown_args,
        "original": shown(original, aspect, detail),
        "fixed": shown(fixed, aspect, detail),
    }


def versions(job: dict[str, Any]) -> dict[str, types.CodeType]:
    """The module's code for original (A), fixed (B) and original again (A2), compiled once
    each: their own code objects, so each version's specialisation warms up on its own."""
    sources = {"A": job["original"], "B": job["fixed"], "A2": job["original"]}
    return {name: compile(text, job["filename"], "exec") for name, text in sources.items()}


def timing(
    module: types.ModuleType,
    job: dict[str, Any],
    records: list[tuple[bytes, bytes]],
    deadline: float,
    estimate: float,
    limits: list[int | None],
    reusable: list[bool],
    codes: dict[str, types.CodeType],
) -> dict[str, Any] | None:
    """Per-call minimum times of original (A), fixed (B) and original again (A2), interleaved.

    Each version runs from its code object of `codes` (warmed up by replay, which ran every
    one of these calls on them: no warm-up round is needed) and its module runs again every
    round (so module-level caches start empty and a memoization cannot win on the repeated
    inputs).
    Arguments are fresh copies every round, except a call's that `reusable` marks (it left
    them unchanged, see replay): each version's copy of those is loaded once. Loading a large
    state graph costs far more than the call; without this, rounds of a parser's methods did
    not fit in the budget.
    """
    kept: dict[tuple[str, int], Any] = {}

    def arguments_of(name: str, i: int, function: Callable[..., Any]) -> Any:
        if not reusable[i]:
            return load_inputs(records[i][0], function)
        if (name, i) not in kept:
            kept[name, i] = load_inputs(records[i][0], function)
        return kept[name, i]

    def prepare(indices: list[int]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        functions = {
            name: build(module, codes[name], job["filename"], job["qualname"]) for name in codes
        }
        arguments = {
            name: [arguments_of(name, i, functions[name]) for i in indices] for name in codes
        }
        return functions, arguments

    return time_rounds(prepare, limits[: len(records)], deadline, estimate, warmed=True)


def main() -> None:
    """Read the job and records from stdin, replay, time, write the JSON result."""
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        sys.path.pop(0)  # this folder: nothing here may shadow the user's modules
    stdin = sys.stdin.buffer
    job = json.loads(stdin.readline())
    records = []
    for size_in, size_out in job["sizes"]:
        records.append((stdin.read(size_in), stdin.read(size_out)))
    started = time.perf_counter()
    budget = job["budget"]
    sys.path[:0] = [p for p in job["sys_path"] if p not in sys.path]
    if os.path.isdir(job["cwd"]):
        os.chdir(job["cwd"])
    module = importlib.import_module(job["module"])
    deadline = started + budget * REPLAY_SHARE
    codes = versions(job)
    result, records, limits, reusable, cost = replay(module, job, records, deadline, codes)
    if result["difference"] is None and job["time"]:
        end = started + budget
        result["timing"] = timing(module, job, records, end, cost, limits, reusable, codes)
    result["seconds"] = time.perf_counter() - started
    with open(job["result"], "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
