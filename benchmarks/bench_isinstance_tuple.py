"""A loop of isinstance calls against one isinstance with the tuple (skill PP125, isinstance-tuple).

Run: python benchmarks/bench_isinstance_tuple.py [--repeat 9]   (any CPython 3.8+; no perfpilot)

The function shape is PyYAML's `Scanner.check_token(self, *choices)`: the types come as
`*args`. Per number of types and position of the matching one, the two spellings are timed in
turns (who goes first alternates), each the best of a few loops; the table prints the median
over repeats and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable


class A:
    """A token type."""


class B:
    """Another token type."""


class C:
    """Another token type."""


class D:
    """The type of the checked value."""


def with_loop(value: object, *choices: type) -> bool:
    """The loop form."""
    for choice in choices:
        if isinstance(value, choice):
            return True
    return False


def with_tuple(value: object, *choices: type) -> bool:
    """The rewrite."""
    if isinstance(value, choices):
        return True
    return False


CASES = [
    ("1 type, matches", (D,)),
    ("2 types, 2nd matches", (A, D)),
    ("2 types, none match", (A, B)),
    ("3 types, none match", (A, B, C)),
    ("4 types, 4th matches", (A, B, C, D)),
]


def best_of(function: Callable[..., bool], choices: tuple[type, ...]) -> float:
    """Seconds per call: the best of five timed loops of 20,000 calls."""
    value = D()
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(20_000):
            function(value, *choices)
        best = min(best, (time.perf_counter() - started) / 20_000)
    return best


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    print(f"CPython {platform.python_version()}, median of {args.repeat} interleaved repeats")
    print("| case | loop | isinstance(x, tuple) | speedup |")
    print("|---|---:|---:|---:|")
    for name, choices in CASES:
        loop: list[float] = []
        single: list[float] = []
        for round_ in range(args.repeat):
            order = [(with_loop, loop), (with_tuple, single)]
            for function, into in order if round_ % 2 == 0 else order[::-1]:
                into.append(best_of(function, choices))
        a, b = statistics.median(loop), statistics.median(single)
        print(f"| {name} | {a * 1e9:.0f} ns | {b * 1e9:.0f} ns | {a / b:.2f}x |")


if __name__ == "__main__":
    main()
