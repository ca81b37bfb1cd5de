"""A/B of PP140 (match-subscript): `m.group()` vs `m[0]`, and pyparsing's Regex.parseImpl.

Run with any Python for the first table; with pyparsing importable (the corpus venv:
`$PERFPILOT_CORPUS_DIR/venvs/pyparsing/bin/python`) for the second. Interleaved rounds,
medians, nanoseconds per call.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable

ROUNDS = 31
MATCH = re.compile(r"[a-z]+").match("hello world", 0)


def _group(m: re.Match[str] = MATCH) -> None:
    for _ in range(1000):
        m.group()


def _subscript(m: re.Match[str] = MATCH) -> None:
    for _ in range(1000):
        m[0]


def _table(title: str, variants: dict[str, Callable[[], None]], per_round: int) -> None:
    """Time the variants in turn, ROUNDS times, and print median ns per call and speedup."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(ROUNDS):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / per_round * 1e9)
    base = statistics.median(next(iter(times.values())))
    print(f"\n{title}\n| variant | ns/call | speedup |\n|---|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.0f} | {base / median:.3f}x |")


def _pyparsing_variants() -> dict[str, Callable[[], None]] | None:
    """Regex.parseImpl's success path as 3.1.4 has it, with PP140, and without groupdict."""
    try:
        import pyparsing as pp
        from pyparsing.core import ParseResults
    except ImportError:
        return None
    regex = pp.Regex(r"[a-z]+")
    regex.streamline()
    match = regex.re_match

    def original() -> None:
        for _ in range(2000):
            result = match("hello world", 0)
            ret = ParseResults(result.group())
            for k, v in result.groupdict().items():
                ret[k] = v

    def subscript() -> None:
        for _ in range(2000):
            result = match("hello world", 0)
            ret = ParseResults(result[0])
            for k, v in result.groupdict().items():
                ret[k] = v

    def no_groupdict() -> None:
        for _ in range(2000):
            result = match("hello world", 0)
            ParseResults(result[0])

    return {
        "3.1.4 (`.group()`)": original,
        "PP140 (`[0]`)": subscript,
        "`[0]`, no groupdict (pattern without named groups only)": no_groupdict,
    }


def main() -> None:
    """Print both tables."""
    _table("m.group() vs m[0] inside a function", {"m.group()": _group, "m[0]": _subscript}, 1000)
    variants = _pyparsing_variants()
    if variants is None:
        print("\n(pyparsing not importable: Regex.parseImpl table skipped)")
    else:
        _table("pyparsing Regex.parseImpl success path", variants, 2000)


if __name__ == "__main__":
    main()
