"""PP103 set-membership: before/after pairs and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, guard_verdict, run_case, skill_named

UNSAFE = Applicability.UNSAFE

POSITIVE = [
    Case(
        "tuple literal tested with len(): provably hashable, safe",
        before="""\
            def short_words(words):
                return [w for w in words if len(w) in (1, 2, 3)]
            """,
        after="""\
            def short_words(words):
                return [w for w in words if len(w) in {1, 2, 3}]
            """,
        call="short_words(['a', 'abcd', 'xyz', ''])",
    ),
    Case(
        "list literal with an unknown value: unsafe (an unhashable value would raise)",
        before="""\
            def keep(items):
                kept = 0
                for item in items:
                    if item not in ["", "-", None]:
                        kept += 1
                return kept
            """,
        after="""\
            def keep(items):
                kept = 0
                for item in items:
                    if item not in {"", "-", None}:
                        kept += 1
                return kept
            """,
        applicability=UNSAFE,
        call="keep(['', 'a', None, '-', 'b'])",
    ),
    Case(
        "range loop variable is an exact int: safe",
        before="""\
            def primes_below(n):
                found = []
                for i in range(n):
                    if i in (2, 3, 5, 7):
                        found.append(i)
                return found
            """,
        after="""\
            def primes_below(n):
                found = []
                for i in range(n):
                    if i in {2, 3, 5, 7}:
                        found.append(i)
                return found
            """,
        call="primes_below(10)",
    ),
    Case(
        "single-element tuple loses its comma",
        before="""\
            def count_zero(values):
                return sum(1 for v in values if int(v) in (0,))
            """,
        after="""\
            def count_zero(values):
                return sum(1 for v in values if int(v) in {0})
            """,
        call="count_zero(['0', '1', '00'])",
    ),
    Case(
        "while test with a literal, in a method, comments inside the literal kept",
        before="""\
            class Lexer:
                def skip(self, tokens):
                    i = 0
                    while i < len(tokens) and tokens[i] in (  # separators
                        ",",
                        ";",  # legacy
                    ):
                        i += 1
                    return i
            """,
        after="""\
            class Lexer:
                def skip(self, tokens):
                    i = 0
                    while i < len(tokens) and tokens[i] in {  # separators
                        ",",
                        ";",  # legacy
                    }:
                        i += 1
                    return i
            """,
        applicability=UNSAFE,
        call="Lexer().skip([',', ';', 'x', ','])",
    ),
    Case(
        "list-annotated parameter: the set is built once before the loop",
        before="""\
            def flag_blocked(items: list[str], blocklist: list[str]) -> int:
                flagged = 0
                for item in items:
                    if item in blocklist:
                        flagged += 1
                return flagged
            """,
        after="""\
            def flag_blocked(items: list[str], blocklist: list[str]) -> int:
                flagged = 0
                blocklist_set = set(blocklist)
                for item in items:
                    if item in blocklist_set:
                        flagged += 1
                return flagged
            """,
        applicability=UNSAFE,
        call="flag_blocked(['a', 'b', 'c', 'a'], ['a', 'c'])",
    ),
    Case(
        "local list comprehension, nested loops: hoisted before the outermost, both tests",
        before="""\
            def pairs(rows, words):
                stop = [w.lower() for w in words]
                out = 0
                # count the pairs of non-stop words
                for row in rows:
                    for cell in row:
                        if cell in stop or cell.lower() not in stop:
                            out += 1
                return out
            """,
        after="""\
            def pairs(rows, words):
                stop = [w.lower() for w in words]
                out = 0
                # count the pairs of non-stop words
                stop_set = set(stop)
                for row in rows:
                    for cell in row:
                        if cell in stop_set or cell.lower() not in stop_set:
                            out += 1
                return out
            """,
        applicability=UNSAFE,
        call="pairs([['a', 'B'], ['c']], ['b', 'C'])",
    ),
    Case(
        "generator expression over *args: hoisted before the return",
        before="""\
            def any_of(words, *wanted):
                return any(w in wanted for w in words)
            """,
        after="""\
            def any_of(words, *wanted):
                wanted_set = set(wanted)
                return any(w in wanted_set for w in words)
            """,
        applicability=UNSAFE,
        call="(any_of(['x', 'y'], 'y', 'z'), any_of(['x'], 'z'), any_of([]))",
    ),
    Case(
        "async function with async for, nested function",
        before="""\
            import asyncio


            async def stream(items):
                for item in items:
                    yield item


            def outer():
                async def count(stream, names: tuple[str, ...]):
                    n = 0
                    async for name in stream:
                        if name in names:
                            n += 1
                    return n

                return count
            """,
        after="""\
            import asyncio


            async def stream(items):
                for item in items:
                    yield item


            def outer():
                async def count(stream, names: tuple[str, ...]):
                    n = 0
                    names_set = set(names)
                    async for name in stream:
                        if name in names_set:
                            n += 1
                    return n

                return count
            """,
        applicability=UNSAFE,
        call="asyncio.run(outer()(stream(['a', 'b', 'a']), ('a',)))",
    ),
]

NEGATIVE = [
    Case(
        "not in a loop: evaluated once per call",
        before="""\
            def is_weekend(day):
                return day in ("sat", "sun")
            """,
    ),
    Case(
        "literal with a non-constant element",
        before="""\
            def hits(items, a, b):
                return [x for x in items if x in (a, b)]
            """,
    ),
    Case(
        "a str is a substring test, not membership",
        before="""\
            def vowels(text):
                return [c for c in text if c in "aeiou"]
            """,
    ),
    Case(
        "container mutated in the loop",
        before="""\
            def dedupe(items, seen: list[str]):
                for item in items:
                    if item not in seen:
                        seen.append(item)
                return seen
            """,
    ),
    Case(
        "container rebound in the loop",
        before="""\
            def walk(items):
                allowed = ["a"]
                n = 0
                for item in items:
                    if item in allowed:
                        n += 1
                    allowed = [item]
                return n
            """,
    ),
    Case(
        "container passed to a call in the loop (may be mutated)",
        before="""\
            def grow(items, pool: list[int], extend):
                for item in items:
                    if item in pool:
                        extend(pool)
            """,
    ),
    Case(
        "parameter without a list/tuple annotation",
        before="""\
            from collections.abc import Sequence


            def count(items, names: Sequence[str], other):
                return sum(1 for i in items if i in names or i in other)
            """,
    ),
    Case(
        "the loop variable is the container",
        before="""\
            def rows_with(rows, x):
                return [row for row in rows if x in row]
            """,
    ),
    Case(
        "container used in a closure inside the loop",
        before="""\
            def checks(items):
                names = ["a", "b"]
                return [lambda: i in names for i in items]
            """,
    ),
    Case(
        "container declared global",
        before="""\
            NAMES = ["a"]


            def count(items):
                global NAMES
                NAMES = list(NAMES)
                return sum(1 for i in items if i in NAMES)
            """,
    ),
    Case(
        "container bound conditionally before the loop",
        before="""\
            def count(items, flag):
                if flag:
                    names = ["a", "b"]
                return sum(1 for i in items if i in names)
            """,
    ),
    Case(
        "empty literal: a set display cannot be empty",
        before="""\
            def none_of(items):
                return [i for i in items if i not in ()]
            """,
    ),
]


@pytest.mark.parametrize("case", POSITIVE + NEGATIVE, ids=str)
def test_set_membership(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("set-membership"), case, tmp_path)


GUARDED = """\
    def f(items, names: list[str]):
        n = 0
        for item in items:
            if item in names:
                n += 1
        return n
    """


def test_guard_accepts_the_hoisted_set() -> None:
    """The rewrite the transform makes passes its own guard."""
    after = GUARDED.replace("        n = 0\n", "        n = 0\n        names_set = set(names)\n")
    assert (
        guard_verdict("set-membership", GUARDED, after.replace("in names:", "in names_set:"))
        is None
    )


def test_guard_refuses_a_set_beside_a_list_still_used() -> None:
    """A loop that still touches the list (it could change it) is refused."""
    after = GUARDED.replace("        n = 0\n", "        n = 0\n        names_set = set(names)\n")
    after = after.replace("in names:", "in names_set:").replace(
        "n += 1", "n += 1\n                names.append(item)"
    )
    assert (
        guard_verdict("set-membership", GUARDED, after)
        == "the loop still uses `names`, which may change under the set"
    )


def test_guard_refuses_a_set_built_in_the_loop() -> None:
    """The set must be built before the loop, once."""
    after = GUARDED.replace(
        "if item in names:", "names_set = set(names)\n            if item in names_set:"
    )
    assert guard_verdict("set-membership", GUARDED, after) is not None
