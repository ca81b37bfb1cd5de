"""PP101 memoize-pure-function: before/after pairs and should-not-fire cases."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from perfpilot.skills.runner import Target, find_opportunities
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source
from tests.skills.harness import Case, opportunities, run_case, skill_named

SKILL = "memoize-pure-function"

CASES = [
    Case(
        "recursive int function gets functools.cache and the import",
        before="""\
            def fib(n: int) -> int:
                if n < 2:
                    return n
                return fib(n - 1) + fib(n - 2)
            """,
        after="""\
            import functools


            @functools.cache
            def fib(n: int) -> int:
                if n < 2:
                    return n
                return fib(n - 1) + fib(n - 2)
            """,
        call="[fib(n) for n in range(25)]",
    ),
    Case(
        "string arguments get a bounded lru_cache",
        before='''\
            """Fuzzy matching."""

            import re


            def edit_distance(a: str, b: str, limit: int) -> int:
                """Levenshtein distance capped at limit + 1."""
                if abs(len(a) - len(b)) > limit:
                    return limit + 1
                if not a or not b:
                    return max(len(a), len(b))
                if a[0] == b[0]:
                    return edit_distance(a[1:], b[1:], limit)
                if limit == 0:
                    return 1
                return 1 + min(
                    edit_distance(a[1:], b, limit - 1),
                    edit_distance(a, b[1:], limit - 1),
                    edit_distance(a[1:], b[1:], limit - 1),
                )


            WORD = re.compile("x")
            ''',
        after='''\
            """Fuzzy matching."""

            import functools
            import re


            @functools.lru_cache(maxsize=4096)
            def edit_distance(a: str, b: str, limit: int) -> int:
                """Levenshtein distance capped at limit + 1."""
                if abs(len(a) - len(b)) > limit:
                    return limit + 1
                if not a or not b:
                    return max(len(a), len(b))
                if a[0] == b[0]:
                    return edit_distance(a[1:], b[1:], limit)
                if limit == 0:
                    return 1
                return 1 + min(
                    edit_distance(a[1:], b, limit - 1),
                    edit_distance(a, b[1:], limit - 1),
                    edit_distance(a[1:], b[1:], limit - 1),
                )


            WORD = re.compile("x")
            ''',
        call="[edit_distance('googlebot', 'googel-bot', 3), edit_distance('kitten', 'sitting', 2)]",
    ),
    Case(
        "an aliased functools import is reused",
        before="""\
            import functools as ft


            def paths(rows: int, cols: int) -> int:
                if rows == 0 or cols == 0:
                    return 1
                return paths(rows - 1, cols) + paths(rows, cols - 1)
            """,
        after="""\
            import functools as ft


            @ft.cache
            def paths(rows: int, cols: int) -> int:
                if rows == 0 or cols == 0:
                    return 1
                return paths(rows - 1, cols) + paths(rows, cols - 1)
            """,
        call="paths(10, 10)",
    ),
    Case(
        "an imported lru_cache is used by name",
        before="""\
            from functools import lru_cache


            def count_splits(text: str) -> int:
                if len(text) <= 1:
                    return 1
                return sum(count_splits(text[i:]) for i in range(1, len(text)))
            """,
        after="""\
            from functools import lru_cache


            @lru_cache(maxsize=4096)
            def count_splits(text: str) -> int:
                if len(text) <= 1:
                    return 1
                return sum(count_splits(text[i:]) for i in range(1, len(text)))
            """,
        call="count_splits('abcdefghij')",
    ),
    Case(
        "a staticmethod is cached below @staticmethod",
        before="""\
            class Grid:
                @staticmethod
                def paths(n: int) -> int:
                    if n <= 1:
                        return 1
                    return Grid.paths(n - 1) + Grid.paths(n - 2)
            """,
        after="""\
            import functools


            class Grid:
                @staticmethod
                @functools.cache
                def paths(n: int) -> int:
                    if n <= 1:
                        return 1
                    return Grid.paths(n - 1) + Grid.paths(n - 2)
            """,
        call="[Grid.paths(20), Grid().paths(5)]",
    ),
    Case(
        "comments and odd formatting are kept; unannotated arguments get lru_cache",
        before="""\
            import functools

            # Binomial coefficients, the slow way.
            def choose(n, k):  # recursive
                if k in (0, n):   # edges
                    return 1
                return (choose(n-1, k-1)
                        + choose(n-1, k))
            """,
        after="""\
            import functools

            # Binomial coefficients, the slow way.
            @functools.lru_cache(maxsize=4096)
            def choose(n, k):  # recursive
                if k in (0, n):   # edges
                    return 1
                return (choose(n-1, k-1)
                        + choose(n-1, k))
            """,
        call="[choose(20, 10), choose(5, 0)]",
    ),
    Case(
        "a local memo container may be written",
        before="""\
            def partitions(n: int, largest: int) -> int:
                table = {}
                if n == 0:
                    return 1
                for part in range(min(n, largest), 0, -1):
                    table[part] = partitions(n - part, part)
                return sum(table.values())
            """,
        after="""\
            import functools


            @functools.cache
            def partitions(n: int, largest: int) -> int:
                table = {}
                if n == 0:
                    return 1
                for part in range(min(n, largest), 0, -1):
                    table[part] = partitions(n - part, part)
                return sum(table.values())
            """,
        call="partitions(30, 30)",
    ),
    Case(
        "print is I/O",
        before="""\
            def fib(n: int) -> int:
                print(n)
                return n if n < 2 else fib(n - 1) + fib(n - 2)
            """,
    ),
    Case(
        "a global statement",
        before="""\
            CALLS = 0


            def fib(n: int) -> int:
                global CALLS
                CALLS += 1
                return n if n < 2 else fib(n - 1) + fib(n - 2)
            """,
    ),
    Case(
        "mutating an argument",
        before="""\
            def walk(node, seen):
                seen.add(node)
                return node if node < 1 else walk(node - 1, seen)
            """,
    ),
    Case(
        "writing a module-level container",
        before="""\
            RESULTS = {}


            def fib(n: int) -> int:
                RESULTS[n] = n if n < 2 else fib(n - 1) + fib(n - 2)
                return RESULTS[n]
            """,
    ),
    Case(
        "randomness",
        before="""\
            import random


            def jitter(n: int) -> float:
                return random.random() if n == 0 else jitter(n - 1) + random.random()
            """,
    ),
    Case(
        "a clock read through an imported name",
        before="""\
            from time import perf_counter


            def stamp(n: int) -> float:
                return perf_counter() if n == 0 else stamp(n - 1)
            """,
    ),
    Case(
        "a generator",
        before="""\
            def countdown(n: int):
                if n:
                    yield n
                    yield from countdown(n - 1)
            """,
    ),
    Case(
        "a coroutine",
        before="""\
            async def depth(n: int) -> int:
                return 0 if n == 0 else 1 + await depth(n - 1)
            """,
    ),
    Case(
        "a plain method would cache on self",
        before="""\
            class Tree:
                def size(self, n: int) -> int:
                    return 1 if n == 0 else self.size(n - 1) + 1
            """,
    ),
    Case(
        "a function nested in another one",
        before="""\
            def outer(limit: int) -> int:
                def fib(n: int) -> int:
                    return n if n < 2 else fib(n - 1) + fib(n - 2)

                return fib(limit)
            """,
    ),
    Case(
        "a mutable default",
        before="""\
            def fib(n: int, trace=[]) -> int:
                return n if n < 2 else fib(n - 1, trace) + fib(n - 2, trace)
            """,
    ),
    Case(
        "already cached",
        before="""\
            import functools


            @functools.lru_cache(maxsize=None)
            def fib(n: int) -> int:
                return n if n < 2 else fib(n - 1) + fib(n - 2)
            """,
    ),
    Case(
        "**kwargs may be unhashable",
        before="""\
            def fib(n: int, **options) -> int:
                return n if n < 2 else fib(n - 1, **options) + fib(n - 2, **options)
            """,
    ),
    Case(
        "an unhashable annotated argument",
        before="""\
            def total(values: list[int]) -> int:
                return 0 if not values else values[0] + total(values[1:])
            """,
    ),
    Case(
        "an unannotated argument used as a container",
        before="""\
            def total(values):
                return 0 if not len(values) else values[0] + total(values[1:])
            """,
    ),
    Case(
        "an unannotated argument iterated through enumerate",
        before="""\
            def index_of(items, wanted, start: int = 0) -> int:
                for i, item in enumerate(items):
                    if item == wanted and i >= start:
                        return i
                return index_of(items, wanted, start + 1) if start < 0 else -1
            """,
    ),
    Case(
        "membership in an unannotated argument",
        before="""\
            def depth(n: int, stops) -> int:
                return 0 if n in stops else 1 + depth(n - 1, stops)
            """,
    ),
    Case(
        "a returned list would be shared by all callers",
        before="""\
            def chain(n: int) -> list:
                return [] if n == 0 else [n, *chain(n - 1)]
            """,
    ),
    Case(
        "attributes of an object argument go stale",
        before="""\
            def depth(node) -> int:
                return 0 if node.parent is None else 1 + depth(node.parent)
            """,
    ),
    Case(
        "a module-level variable may change under the cache",
        before="""\
            scale = 3


            def fib(n: int) -> int:
                return n * scale if n < 2 else fib(n - 1) + fib(n - 2)
            """,
    ),
    Case(
        "a call of unknown purity",
        before="""\
            def helper(n):
                return n


            def fib(n: int) -> int:
                return helper(n) if n < 2 else fib(n - 1) + fib(n - 2)
            """,
    ),
    Case(
        "a method of a module-level object",
        before="""\
            import re

            WORD = re.compile("[a-z]+")


            def words(text: str) -> int:
                m = WORD.match(text)
                return 0 if m is None else 1 + words(text[m.end() + 1 :])
            """,
    ),
    Case(
        "reading state of an impure module",
        before="""\
            import sys


            def depth(n: int) -> int:
                return sys.maxsize if n == 0 else depth(n - 1)
            """,
    ),
    Case(
        "a pure but non-recursive function without a profile",
        before="""\
            def area(width: int, height: int) -> int:
                return sum(range(width)) * height
            """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_memoize_pure_function(case: Case, tmp_path: Path) -> None:
    run_case(skill_named(SKILL), case, tmp_path)


def test_title_evidence_and_location(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        SCALE = 3


        def fib(n: int) -> int:
            return n * SCALE if n < 2 else fib(n - 1) + fib(n - 2)
        """
    )
    (found,) = opportunities(skill_named(SKILL), text, tmp_path / "m.py")
    assert found.opportunity.title == "Memoize `fib` with functools.cache"
    assert "calls itself (2 call sites)" in found.opportunity.evidence
    assert found.opportunity.effect == 0.8
    assert (found.opportunity.line, found.opportunity.column) == (4, 5)


def test_hot_non_recursive_function_with_profile() -> None:
    text = textwrap.dedent(
        """\
        def score(word: str) -> int:
            return sum(ord(c) for c in word.lower())
        """
    )
    (function,) = index_source(text, "m.py").functions
    skill = skill_named(SKILL)
    facts = facts_of_source(text)
    hot = find_opportunities(text, "m.py", [Target(function, 40.0, 50_000)], [skill], facts)
    cold = find_opportunities(text, "m.py", [Target(function, 40.0, 10)], [skill], facts)
    assert not cold
    (found,) = hot
    assert "50,000 calls" in found.opportunity.evidence
    assert found.opportunity.effect == 0.3
