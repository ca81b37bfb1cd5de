"""Timing takes the clock's own cost off each call, so small functions' ratios are not diluted."""

from __future__ import annotations

from typing import Any

from perfpilot.tools.verify._timing import time_rounds

READ = 40  # what one clock read costs on the fake clock, in ns


class FakeClock:
    """A clock whose every read costs READ ns, and that functions under test advance."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        value = self.now
        self.now += READ
        return value

    def spend(self, ns: int) -> None:
        self.now += ns


def test_clock_cost_is_taken_off_and_keywords_still_arrive() -> None:
    clock = FakeClock()
    seen: list[tuple[Any, ...]] = []

    def make(cost: int) -> Any:
        def function(x: int, *, scale: int = 1) -> int:
            seen.append((cost, x, scale))
            clock.spend(cost)
            return x * scale

        return function

    functions = {"A": make(100), "B": make(60), "A2": make(100)}
    calls = [((1,), {}), ((2,), {"scale": 3})]

    def prepare(indices: list[int]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        arguments = {name: [calls[i] for i in indices] for name in functions}
        return functions, arguments

    result = time_rounds(prepare, [None, None], deadline=float("inf"), estimate=1e-6, clock=clock)

    assert result is not None
    assert result["timer_ns"] == READ
    # Before: 140 and 100 (clock read included), a 1.4x ratio for a 1.67x faster function.
    assert result["A"] == [100, 100] and result["A2"] == [100, 100]
    assert result["B"] == [60, 60]
    assert (100, 2, 3) in seen and (60, 1, 1) in seen
