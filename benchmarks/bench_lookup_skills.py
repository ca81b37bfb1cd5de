"""The micro-benchmarks behind PP120, PP122 and PP123's SKILL.md tables, on this interpreter.

Run: python benchmarks/bench_lookup_skills.py [--repeat 7]   (any CPython 3.8+; no perfpilot)

Each row times the slow form and the form the skill writes on the same data (1,000 items),
best of `--repeat` repeats (timeit), printed as a table: per-call µs and the ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import timeit
from operator import attrgetter, itemgetter


class _Holder:
    K = 1  # a class constant (PP120)

    def __init__(self) -> None:
        self.v = 1  # an instance attribute (not transformed)

    def constant(self, xs: list[int]) -> int:
        n = 0
        for x in xs:
            if x == self.K:
                n += 1
        return n

    def constant_local(self, xs: list[int]) -> int:
        n = 0
        k = self.K
        for x in xs:
            if x == k:
                n += 1
        return n

    def instance(self, xs: list[int]) -> int:
        n = 0
        for x in xs:
            if x == self.v:
                n += 1
        return n

    def instance_local(self, xs: list[int]) -> int:
        n = 0
        v = self.v
        for x in xs:
            if x == v:
                n += 1
        return n


class _Row:
    __slots__ = ("p",)

    def __init__(self, p: float) -> None:
        self.p = p


def _width(text: str) -> int:
    return len(text)


def rows() -> list[tuple[str, str, str, dict[str, object]]]:
    """(skill, slow form, fast form, globals)."""
    random.seed(1)
    strings = ["abc" * (i % 5) for i in range(1000)]
    pairs = [(random.random(), i) for i in range(1000)]
    objects = [_Row(random.random()) for _ in range(1000)]
    holder, ints = _Holder(), list(range(1000))
    names = {
        "holder": holder,
        "ints": ints,
        "xs": strings,
        "f": _width,
        "rows": pairs,
        "objs": objects,
        "itemgetter": itemgetter,
        "attrgetter": attrgetter,
    }
    return [
        ("PP120", "holder.constant(ints)", "holder.constant_local(ints)", names),
        ("(not done)", "holder.instance(ints)", "holder.instance_local(ints)", names),
        ("PP122", "sum(len(x) for x in xs)", "sum(map(len, xs))", names),
        ("PP122", "sum(f(x) for x in xs)", "sum(map(f, xs))", names),
        ("PP122", "max(f(x) for x in xs)", "max(map(f, xs))", names),
        ("(refused)", "''.join(str(x) for x in xs)", "''.join(map(str, xs))", names),
        ("PP123", "sorted(rows, key=lambda r: r[0])", "sorted(rows, key=itemgetter(0))", names),
        ("PP123", "max(rows, key=lambda r: r[1])", "max(rows, key=itemgetter(1))", names),
        ("PP123", "sorted(objs, key=lambda o: o.p)", "sorted(objs, key=attrgetter('p'))", names),
        (
            "PP123",
            "sorted(rows, key=lambda r: (r[1], r[0]))",
            "sorted(rows, key=itemgetter(1, 0))",
            names,
        ),
    ]


def best(statement: str, names: dict[str, object], repeat: int, number: int) -> float:
    """Best per-call time in µs."""
    return min(timeit.repeat(statement, globals=names, number=number, repeat=repeat)) / number * 1e6


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=500)
    args = parser.parse_args()
    print(f"CPython {sys.version.split()[0]}, best of {args.repeat} × {args.number}")
    print("| skill | slow form | µs | skill's form | µs | speedup |")
    print("|---|---|---:|---|---:|---:|")
    for skill, slow, fast, names in rows():
        # Interleaved (slow, fast, slow, fast...) so that load on the machine hits both alike.
        slow_t = fast_t = float("inf")
        for _ in range(args.repeat):
            slow_t = min(slow_t, best(slow, names, 1, args.number))
            fast_t = min(fast_t, best(fast, names, 1, args.number))
        print(
            f"| {skill} | `{slow}` | {slow_t:.1f} | `{fast}` | {fast_t:.1f}"
            f" | {slow_t / fast_t:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
