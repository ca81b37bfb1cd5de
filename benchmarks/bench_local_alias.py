"""Time a hot loop's repeated lookups against a local alias made before the loop (skill PP107).

Run: python benchmarks/bench_local_alias.py [--iterations 1000000] [--repeat 9]
Each pattern kind is a pair of functions doing the same work, the lookup written in the loop
(`out.append(x)`) or hoisted into a local before it (`append = out.append`). Pairs are timed
interleaved (a burst of load hits both alike) with time.perf_counter, median of the repeats.
The decision the local-alias skill encodes is "alias only where the alias is > 5% faster on
that Python version": run this on each version the project targets and update its SKILL.md.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable

THRESHOLD = 0.05  # below 5% faster, the alias is noise, not a fix worth an edit


def helper(x: int) -> int:
    """A module-level Python function, called through a global lookup."""
    return x


class Scaled:
    """An object whose loops read an attribute of self or call a method of self."""

    def __init__(self) -> None:
        self.scale = 3

    def double(self, x: int) -> int:
        """A small Python method."""
        return x + x

    def attribute_lookup(self, data: range) -> int:
        """`self.scale * x` on every iteration."""
        total = 0
        for x in data:
            total += self.scale * x
        return total

    def attribute_alias(self, data: range) -> int:
        """`scale = self.scale` before the loop."""
        total = 0
        scale = self.scale
        for x in data:
            total += scale * x
        return total

    def self_method_lookup(self, data: range) -> int:
        """`self.double(x)` on every iteration."""
        total = 0
        for x in data:
            total += self.double(x)
        return total

    def self_method_alias(self, data: range) -> int:
        """`double = self.double` before the loop."""
        total = 0
        double = self.double
        for x in data:
            total += double(x)
        return total


def append_lookup(data: range) -> list[int]:
    """`out.append(x)`: a bound method of a C type looked up on every iteration."""
    out: list[int] = []
    for x in data:
        out.append(x)
    return out


def append_alias(data: range) -> list[int]:
    """`append = out.append` before the loop."""
    out: list[int] = []
    append = out.append
    for x in data:
        append(x)
    return out


def dict_get_lookup(data: range) -> int:
    """`table.get(x, 0)`: a bound method of a dict looked up on every iteration."""
    table = {1: 2}
    total = 0
    for x in data:
        total += table.get(x, 0)
    return total


def dict_get_alias(data: range) -> int:
    """`get = table.get` before the loop."""
    table = {1: 2}
    get = table.get
    total = 0
    for x in data:
        total += get(x, 0)
    return total


def module_attribute_lookup(data: range) -> float:
    """`math.sqrt(x)`: a global then a module attribute on every iteration."""
    total = 0.0
    for x in data:
        total += math.sqrt(x)
    return total


def module_attribute_alias(data: range) -> float:
    """`sqrt = math.sqrt` before the loop."""
    total = 0.0
    sqrt = math.sqrt
    for x in data:
        total += sqrt(x)
    return total


def builtin_lookup(data: list[str]) -> int:
    """`len(x)`: a builtin found through globals then builtins on every iteration."""
    total = 0
    for x in data:
        total += len(x)
    return total


def builtin_alias(data: list[str]) -> int:
    """`len_ = len` before the loop."""
    total = 0
    len_ = len
    for x in data:
        total += len_(x)
    return total


def isinstance_lookup(data: range) -> int:
    """`isinstance(x, int)`: a two-argument builtin found through globals then builtins."""
    total = 0
    for x in data:
        if isinstance(x, int):
            total += 1
    return total


def isinstance_alias(data: range) -> int:
    """`isinstance_ = isinstance` before the loop."""
    total = 0
    isinstance_ = isinstance
    for x in data:
        if isinstance_(x, int):
            total += 1
    return total


def global_function_lookup(data: range) -> int:
    """`helper(x)`: a module-level function found through globals on every iteration."""
    total = 0
    for x in data:
        total += helper(x)
    return total


def global_function_alias(data: range) -> int:
    """`helper_ = helper` before the loop."""
    total = 0
    helper_ = helper
    for x in data:
        total += helper_(x)
    return total


def cases(n: int) -> list[tuple[str, str, Callable[[], object], Callable[[], object]]]:
    """(kind, what is in the loop, lookup run, alias run): the skill decides per kind."""
    numbers = range(n)
    words = [str(i % 1000) for i in range(n)]
    obj = Scaled()
    return [
        ("method", "out.append(x)", lambda: append_lookup(numbers), lambda: append_alias(numbers)),
        (
            "method",
            "table.get(x, 0)",
            lambda: dict_get_lookup(numbers),
            lambda: dict_get_alias(numbers),
        ),
        (
            "method",
            "self.double(x)",
            lambda: obj.self_method_lookup(numbers),
            lambda: obj.self_method_alias(numbers),
        ),
        (
            "module-attribute",
            "math.sqrt(x)",
            lambda: module_attribute_lookup(numbers),
            lambda: module_attribute_alias(numbers),
        ),
        ("builtin", "len(x)", lambda: builtin_lookup(words), lambda: builtin_alias(words)),
        (
            "builtin",
            "isinstance(x, int)",
            lambda: isinstance_lookup(numbers),
            lambda: isinstance_alias(numbers),
        ),
        (
            "global",
            "helper(x)",
            lambda: global_function_lookup(numbers),
            lambda: global_function_alias(numbers),
        ),
        (
            "self-attribute",
            "self.scale * x",
            lambda: obj.attribute_lookup(numbers),
            lambda: obj.attribute_alias(numbers),
        ),
    ]


def seconds(run: Callable[[], object]) -> float:
    """One timed run."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    """Time every pair interleaved; print a table, then the decision per kind."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    version = ".".join(map(str, sys.version_info[:3]))
    print(f"{platform.python_implementation()} {version}, {args.iterations:,} iterations,")
    print(f"median of {args.repeat}; 'helps' = alias > {THRESHOLD:.0%} faster")
    print(
        f"{'kind':<17} {'in the loop':<19} {'lookup ns/it':>12} {'alias ns/it':>11}"
        f" {'saved':>6} {'helps':>5}"
    )
    by_kind: dict[str, list[float]] = {}
    for kind, what, lookup, alias in cases(args.iterations):
        lookup(), alias()  # warm up: specialization, allocations
        lookup_runs: list[float] = []
        alias_runs: list[float] = []
        for _ in range(args.repeat):
            lookup_runs.append(seconds(lookup))
            alias_runs.append(seconds(alias))
        before = statistics.median(lookup_runs)
        after = statistics.median(alias_runs)
        saved = 1 - after / before
        by_kind.setdefault(kind, []).append(saved)
        per = 1e9 / args.iterations
        print(
            f"{kind:<17} {what:<19} {before * per:>12.1f} {after * per:>11.1f}"
            f" {saved:>6.1%} {'yes' if saved > THRESHOLD else 'no':>5}"
        )
    # A kind helps only when every variant of it does: the transform cannot tell them apart.
    print()
    for kind, savings in by_kind.items():
        verdict = "helps" if min(savings) > THRESHOLD else "does not help"
        print(f"{kind:<17} worst {min(savings):>6.1%}  {verdict}")


if __name__ == "__main__":
    main()
