"""sorted-to-min-max (PP108): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

CASES = [
    Case(
        "first-to-min",
        """\
        def lowest(prices):
            return sorted(prices)[0]
        """,
        """\
        def lowest(prices):
            return min(prices)
        """,
        call="lowest([3, 1, 2]), lowest((5.5, -1.0))",
    ),
    Case(
        "key-kept-and-first-of-ties",
        """\
        def youngest(people):
            return sorted(people, key=lambda p: p[1])[0]
        """,
        """\
        def youngest(people):
            return min(people, key=lambda p: p[1])
        """,
        # Two people tie: the stable sort and min() both return the first of them.
        call="youngest([('ann', 30), ('bob', 20), ('cid', 20)])",
    ),
    Case(
        "reverse-first-to-max-keeps-layout-and-comments",
        """\
        def longest(words):
            best = sorted(
                words,
                key=len,  # by length
                reverse=True,
            )[0]
            return best
        """,
        """\
        def longest(words):
            best = max(
                words,
                key=len,  # by length
            )
            return best
        """,
        # "bb" and "aa" tie: reverse=True keeps input order, so index 0 is "bb", as max() says.
        call="longest(['bb', 'aa', 'c'])",
    ),
    Case(
        "reverse-false-dropped",
        """\
        def lowest(xs):
            return sorted(xs, reverse=False)[0]
        """,
        """\
        def lowest(xs):
            return min(xs)
        """,
        call="lowest([2, 0, 1])",
    ),
    Case(
        "last-to-max-display-only",
        """\
        def oldest(people):
            return sorted(people, key=lambda p: p[1])[-1]
        """,
        """\
        def oldest(people):
            return max(people, key=lambda p: p[1])
        """,
        applicability=Applicability.DISPLAY_ONLY,
        call="oldest([('ann', 30), ('bob', 20)])",  # no tie: with one, they would differ
    ),
    Case(
        "reverse-last-to-min-display-only",
        """\
        def smallest(xs):
            return (sorted(xs, reverse=True))[-1]
        """,
        """\
        def smallest(xs):
            return min(xs)
        """,
        applicability=Applicability.DISPLAY_ONLY,
        call="smallest([4, 2, 9])",
    ),
    Case(
        "in-a-method",
        """\
        class Book:
            def __init__(self, bids):
                self.bids = bids

            def best_ask(self):
                return sorted(self.bids, key=abs)[0]
        """,
        """\
        class Book:
            def __init__(self, bids):
                self.bids = bids

            def best_ask(self):
                return min(self.bids, key=abs)
        """,
        call="Book([-3, 2, -1, 1]).best_ask()",
    ),
    Case(
        "in-a-nested-function",
        """\
        def make():
            def first(xs):
                return sorted(xs)[0] * 2

            return first
        """,
        """\
        def make():
            def first(xs):
                return min(xs) * 2

            return first
        """,
        call="make()([7, 3, 5])",
    ),
    Case(
        "async-function",
        """\
        import asyncio


        async def lowest(xs):
            await asyncio.sleep(0)
            return sorted(xs)[0]
        """,
        """\
        import asyncio


        async def lowest(xs):
            await asyncio.sleep(0)
            return min(xs)
        """,
        call="asyncio.run(lowest([3, 1]))",
    ),
    Case(
        "generator-argument",
        """\
        def shortest(lines):
            return sorted((line.strip() for line in lines), key=len)[0]
        """,
        """\
        def shortest(lines):
            return min((line.strip() for line in lines), key=len)
        """,
        call="shortest([' abc ', 'de', 'fgh'])",
    ),
    # Should not fire.
    Case(
        "sorted-rebound-in-module",
        """\
        def sorted(xs):
            return list(xs)


        def first(xs):
            return sorted(xs)[0]
        """,
    ),
    Case(
        "min-shadowed-by-a-parameter",
        """\
        def first(xs, min=0):
            return sorted(xs)[0] + min
        """,
    ),
    Case(
        "max-assigned-in-function",
        """\
        def last(xs):
            max = 10
            return sorted(xs)[-1], max
        """,
    ),
    Case(
        "index-error-caught",
        """\
        def first_or_none(xs):
            try:
                return sorted(xs)[0]
            except IndexError:
                return None
        """,
    ),
    Case(
        "suppress-index-error",
        """\
        import contextlib


        def first_or_none(xs):
            with contextlib.suppress(LookupError):
                return sorted(xs)[0]
            return None
        """,
    ),
    Case(
        "run-time-direction",
        """\
        def pick(xs, descending):
            return sorted(xs, reverse=descending)[0]
        """,
    ),
    Case(
        "other-indexes-and-slices",
        """\
        def pick(xs, i):
            return sorted(xs)[1], sorted(xs)[:1], sorted(xs)[i], sorted(xs)[-2]
        """,
    ),
    Case(
        "star-arguments",
        """\
        def pick(*args, **kwargs):
            return sorted(*args, **kwargs)[0]
        """,
    ),
    Case(
        "comment-inside-brackets",
        """\
        def pick(xs):
            return sorted(xs)[
                0  # the smallest
            ]
        """,
    ),
    Case(
        "assignment-target",
        """\
        def poke(xs):
            sorted(xs)[0] = None
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_sorted_to_min_max(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("sorted-to-min-max"), case, tmp_path)


def test_empty_input_changes_the_exception(tmp_path: Path) -> None:
    """Why the skill is unsafe: an empty input raised IndexError and now raises ValueError."""
    after, fix = run_case(skill_named("sorted-to-min-max"), CASES[0], tmp_path)
    assert fix is not None and fix.applicability == Applicability.UNSAFE
    namespace: dict[str, object] = {}
    exec(compile(after, "after.py", "exec"), namespace)
    with pytest.raises(ValueError, match="empty"):
        namespace["lowest"]([])  # type: ignore[operator]


def test_last_index_differs_from_max_on_ties() -> None:
    """Why `[-1]` is display-only: on ties the sort keeps the last, max() the first."""
    people = [("ann", 30), ("bob", 30)]
    assert sorted(people, key=lambda p: p[1])[-1] == ("bob", 30)
    assert max(people, key=lambda p: p[1]) == ("ann", 30)
    assert sorted([1, 1.0])[-1] is not max([1, 1.0])
