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
MIN_ROUNDS = 3  # timed rounds at least: each version once in each position of the rotation


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
) -> dict[str, Any] | None:
    """Interleaved rounds of A, B and A2 on the calls; per-call minimum times (ns).

    `prepare(indices)` gives each version's function and its own arguments for those calls,
    fresh for every round. Round 0 is a warm-up, never timed (first calls pay for imports,
    caches and the interpreter's specialisation: timed, they made A and its copy A2 disagree
    by up to 200x). Then at least MIN_ROUNDS timed rounds, so that every version runs once in
    every position of the rotation: when they do not fit in the budget, an evenly spread
    subset of the calls (in recorded order) is timed instead of fewer rounds. `estimate` is
    what one round should cost.
    """
    names = ("A", "B", "A2")
    orders = [names[i:] + names[:i] for i in range(3)]  # who goes first rotates every round
    indices = list(range(len(limits)))
    best: dict[str, list[float]] = {}
    rounds = 0
    round_cost = max(estimate, 1e-6)
    saved = sys.stdout, sys.stderr
    for round_number in range(MAX_ROUNDS + 1):
        started = time.perf_counter()
        if round_number == 1:
            fit = (deadline - started) / round_cost
            if fit < MIN_ROUNDS:  # time fewer calls, not fewer rounds
                keep = max(1, int(len(indices) * fit / MIN_ROUNDS))
                indices = [indices[(j * len(indices)) // keep] for j in range(keep)]
                round_cost *= keep / len(limits)
            best = {name: [float("inf")] * len(indices) for name in names}
        elif round_number > MIN_ROUNDS and started + round_cost > deadline:
            break
        functions, arguments = prepare(indices)
        order = orders[round_number % 3]
        gc.collect()
        gc.disable()
        sys.stdout = sys.stderr = Sink()
        clock = time.perf_counter_ns
        timed = round_number > 0
        try:
            for position, i in enumerate(indices):
                limit = limits[i]
                for name in order:
                    function = functions[name]
                    args, kwargs = arguments[name][position]
                    begin = clock()
                    try:
                        value = function(*args, **kwargs)
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
    return {"rounds": rounds, "A": best["A"], "B": best["B"], "A2": best["A2"]}
