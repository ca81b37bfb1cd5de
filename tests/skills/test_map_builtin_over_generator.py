"""PP113 map-builtin-over-generator: before/after pairs and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.skills.harness import Case, run_case, skill_named

CASES = [
    Case(
        "sum of lengths",
        before="""\
            def total(lines):
                return sum(len(line) for line in lines)
            """,
        after="""\
            def total(lines):
                return sum(map(len, lines))
            """,
        call="total(['ab', '', 'c'])",
    ),
    Case(
        "join of str() (mimesis #1159), the iterable an expression",
        before="""\
            def render(items):
                return ", ".join(str(item) for item in items[1:])
            """,
        after="""\
            def render(items):
                return ", ".join(map(str, items[1:]))
            """,
        call="render([0, 1, 2.5, None])",
    ),
    Case(
        "any stops at the first true item either way",
        before="""\
            def has_empty(rows):
                return any(bool(row) for row in rows)
            """,
        after="""\
            def has_empty(rows):
                return any(map(bool, rows))
            """,
        call="has_empty(iter([[], [1], None]))",
    ),
    Case(
        "a condition, two arguments, a method, another variable",
        before="""\
            def f(xs, y):
                a = sum(len(x) for x in xs if x)
                b = max(round(x, 2) for x in xs)
                c = sorted(x.lower() for x in xs)
                d = set(len(y) for x in xs)
                return a, b, c, d
            """,
    ),
    Case(
        "the builtin is shadowed in the module",
        before="""\
            def len(x):
                return 0


            def total(lines):
                return sum(len(line) for line in lines)
            """,
    ),
    Case(
        "the consumer is shadowed locally",
        before="""\
            def total(lines, sum):
                return sum(len(line) for line in lines)
            """,
    ),
    Case(
        "map is rebound in the module",
        before="""\
            from itertools import starmap as map


            def total(lines):
                return sum(len(line) for line in lines)
            """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_map_builtin_over_generator(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("map-builtin-over-generator"), case, tmp_path)
