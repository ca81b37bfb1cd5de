"""Counting with sum(<generator>) against len([1 for ... if ...]) (skill PP132, count-with-len).

Run: python benchmarks/bench_count_with_len.py [--repeat 9]   (any CPython 3.8+; no perfpilot)

Per input size and share of matching items, the two spellings are timed in turns (who goes
first alternates), each timing the best of a few loops; the table prints the median over
repeats and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable


def with_sum(items: list[object | None]) -> int:
    """The generator form: one bool per item, added by sum()."""
    return sum(item is not None for item in items)


def with_sum_of_ones(items: list[object | None]) -> int:
    """The other generator form: a filter, one 1 per match."""
    return sum(1 for item in items if item is not None)


def with_len(items: list[object | None]) -> int:
    """The rewrite: the filter in a list comprehension, then len()."""
    return len([1 for item in items if item is not None])


def best_of(function: Callable[[list[object | None]], int], items: list[object | None]) -> float:
    """Seconds per call: the best of five timed loops of enough calls to last ~20 ms."""
    calls = max(1, 20_000 // (len(items) + 8))
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            function(items)
        best = min(best, (time.perf_counter() - started) / calls)
    return best


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    forms = {"sum(bool)": with_sum, "sum(1 if)": with_sum_of_ones, "len([1 if])": with_len}
    print(f"CPython {platform.python_version()}, median of {args.repeat} interleaved repeats")
    print("| items | matching | " + " | ".join(f"{n} µs" for n in forms) + " | speedup |")
    print("|---:|---:|" + "---:|" * len(forms) + "---:|")
    for size in (4, 12, 100, 10_000):
        for share in (0.25, 0.5, 1.0):
            items = [object() if i < size * share else None for i in range(size)]
            assert len({f(items) for f in forms.values()}) == 1
            times: dict[str, list[float]] = {name: [] for name in forms}
            for repeat in range(args.repeat):
                order = list(forms) if repeat % 2 == 0 else list(reversed(forms))
                for name in order:
                    times[name].append(best_of(forms[name], items))
            medians = {name: statistics.median(values) for name, values in times.items()}
            cells = " | ".join(f"{medians[n] * 1e6:.3f}" for n in forms)
            speedup = medians["sum(bool)"] / medians["len([1 if])"]
            print(f"| {size:,} | {share:.0%} | {cells} | {speedup:.2f}x |")


if __name__ == "__main__":
    main()
