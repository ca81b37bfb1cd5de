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
import json
import os
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


_timing = _load_sibling("_timing")
time_rounds, _Sink = _timing.time_rounds, _timing.Sink

# What one call did, and how two are compared (used here and by _live.py, through here).
_outcome = _load_sibling("_outcome")
_compare = _outcome._compare
ALL_ITEMS, TAPPED, Outcome = _outcome.ALL_ITEMS, _outcome.TAPPED, _outcome.Outcome
load_inputs, _load, plan, _recorded = (
    _outcome.load_inputs,
    _outcome._load,
    _outcome.plan,
    _outcome._recorded,
)
build, call, run_call, shown = _outcome.build, _outcome.call, _outcome.run_call, _outcome.shown
compare, state_difference = _outcome.compare, _outcome.state_difference


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
