"""Interleaved timing rounds for the verification subprocesses (stdlib only; loaded by path).

Used by _worker.py (recorded calls) and _live.py (live calls): the same rounds, warm-up and
statistic for both, so their verdicts mean the same.
"""

from __future__ import annotations

import gc
import sys
import time
from collections import deque
from collections.abc import Callable
from itertools import islice
from typing import Any

MAX_ROUNDS = 60
MIN_ROUNDS = 3  # timed rounds wanted: each version once in each position of the rotation
OVERRUN = 5.0  # seconds past the deadline allowed to reach MIN_ROUNDS (the worker has 15)
MIN_CALLS = 8  # ... but never fewer timed calls than this for them: one call has no interval
TIMER_PAIRS = 64  # back-to-back clock reads per round that measure the timer's own cost


class Sink:
    """A stream that drops what is written (output of timed calls)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def time_rounds(
    prepare: Callable[[list[int]], tuple[dict[str, Any], dict[str, list[Any]]]],
    limits: list[int | None],
    deadline: float,
    estimate: float,
    warmed: bool = False,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, Any] | None:
    """Interleaved rounds of A, B and A2 on the calls; per-call minimum times (ns).

    `prepare(indices)` gives each version's function and its own arguments for those calls,
    fresh for every round. Who runs first rotates from call to call and from round to round
    (the first of the three to run a call pays for cold caches). Round 0 is a warm-up, never
    timed: first calls pay for imports, caches, regexes compiled on first use and the
    interpreter's specialisation, and a single timed round made A and its copy A2 disagree
    by 2x to 150x on the corpus. Then at least MIN_ROUNDS timed rounds, so that the per-call
    minimum is over warm runs and each version ran each call in every position: when the
    warm-up and those rounds do not fit before `deadline`, an evenly spread subset of the
    calls (in recorded order, at least MIN_CALLS) is timed instead. Past `deadline` no round
    starts once MIN_ROUNDS were timed; the caller refuses a timing of fewer rounds.
    `estimate` is what one round over all the calls should cost. `warmed`: the caller already
    ran every call on these versions' code objects (its replay was the warm-up round), so
    every round is timed.

    Every timed call also pays for reading the clock: the least time between two back-to-back
    reads (learnt in every round, `timer_ns` in the result) is taken off each per-call minimum,
    as BenchmarkTools.jl takes off its estimated overhead. The least, so never more than the
    timer really added; for a 0.2 us function it was a fifth of the time, which pulled every
    ratio towards 1. Calls without keyword arguments are made without `**` (a dict unpacked
    per call is the harness's cost, not the caller's).
    """
    names = ("A", "B", "A2")
    orders = [names[i:] + names[:i] for i in range(3)]
    indices = list(range(len(limits)))
    round_cost = max(estimate, 1e-6)
    fit = (deadline - time.perf_counter()) / round_cost
    needed = MIN_ROUNDS if warmed else MIN_ROUNDS + 1
    if fit < needed and len(indices) > MIN_CALLS:
        keep = max(MIN_CALLS, int(len(indices) * fit / needed))
        indices = [indices[(j * len(indices)) // keep] for j in range(keep)]
        round_cost *= keep / len(limits)
    best = {name: [float("inf")] * len(indices) for name in names}
    timer = float("inf")
    rounds = 0
    saved = sys.stdout, sys.stderr
    for round_number in range(MAX_ROUNDS + 1):
        started = time.perf_counter()
        if rounds >= MIN_ROUNDS and started + round_cost > deadline:
            break
        if started + 1.5 * round_cost > deadline + OVERRUN:
            break  # the caller says the timing did not fit (fewer than MIN_ROUNDS rounds)
        timed = warmed or round_number > 0
        functions, arguments = prepare(indices)
        gc.collect()
        if round_number == 0:
            # What exists now (the program's state, arguments loaded once and reused) stays
            # for every round: out of the collector's sight, so that the collection before
            # each round walks only that round's new objects, not a parser's whole document
            # three times over (seconds per round). This is a throwaway process.
            gc.freeze()
        gc.disable()
        sys.stdout = sys.stderr = Sink()
        try:
            timer = min(timer, _timer_cost(clock))
            for position, i in enumerate(indices):
                limit = limits[i]
                for name in orders[(round_number + position) % 3]:
                    function = functions[name]
                    args, kwargs = arguments[name][position]
                    begin = clock()
                    try:
                        value = function(*args, **kwargs) if kwargs else function(*args)
                        if limit is not None:  # a generator call: timed until consumed
                            deque(islice(value, limit), maxlen=0)
                            value.close()
                    except Exception:
                        pass
                    elapsed = clock() - begin
                    if timed and elapsed < best[name][position]:
                        best[name][position] = elapsed
        finally:
            sys.stdout, sys.stderr = saved
            gc.enable()
        round_cost = time.perf_counter() - started
        rounds += 1 if timed else 0
        if rounds >= MAX_ROUNDS:
            break
    if rounds < 1:
        return None
    own = {name: [max(1.0, t - timer) for t in best[name]] for name in names}
    return {"rounds": rounds, "timer_ns": timer, "A": own["A"], "B": own["B"], "A2": own["A2"]}


def _timer_cost(clock: Callable[[], int]) -> float:
    """The least time (ns) between two clock reads, read as the timed calls read it."""
    least = float("inf")
    for _ in range(TIMER_PAIRS):
        begin = clock()
        elapsed = clock() - begin
        if elapsed < least:
            least = elapsed
    return least
