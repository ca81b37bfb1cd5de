"""count-with-len (PP132): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

RESULT = """\
    class _Result:
        __slots__ = ["year", "month", "day", "hour"]

        def __init__(self, **values):
            for name in self.__slots__:
                setattr(self, name, values.get(name))

        def __len__(self):
            return (sum(getattr(self, attr) is not None
                        for attr in self.__slots__))
    """

CASES = [
    Case(
        "count of set slots (dateutil's _resultbase.__len__): unsafe, user code in the loop",
        before=RESULT,
        after=RESULT.replace(
            """(sum(getattr(self, attr) is not None
                        for attr in self.__slots__))""",
            "len([1 for attr in self.__slots__ if getattr(self, attr) is not None])",
        ),
        applicability=Applicability.UNSAFE,
        call="len(_Result(year=2020, day=1)), len(_Result())",
    ),
    Case(
        "identity tests of names over a literal tuple: safe",
        """\
        def missing(year, month, day):
            return sum(part is None for part in (year, month, day))
        """,
        """\
        def missing(year, month, day):
            return len([1 for part in (year, month, day) if part is None])
        """,
        applicability=Applicability.SAFE,
        call="missing(None, 1, None), missing(1, 2, 3)",
    ),
    Case(
        "sum of ones with a filter keeps the filter",
        """\
        def vowels(words):
            return sum(1 for w in words if w[:1] in 'aeiou')
        """,
        """\
        def vowels(words):
            return len([1 for w in words if w[:1] in 'aeiou'])
        """,
        applicability=Applicability.UNSAFE,
        call="vowels(['apple', 'pear', '', 'orange']), vowels([])",
    ),
    Case(
        "two for clauses and an existing if: the predicate becomes the last if",
        """\
        def pairs(xs, ys):
            return sum(x in y for x in xs if x for y in ys if not y)
        """,
        """\
        def pairs(xs, ys):
            return len([1 for x in xs if x for y in ys if not y if x in y])
        """,
        applicability=Applicability.UNSAFE,
        call="pairs([1, 2, 0], [[], {}, set()]), pairs(['a'], ['', 'abc'])",
    ),
    Case(
        "an equality test may not be a bool: offered, unsafe",
        """\
        def same(xs, target):
            total = sum(x == target for x in xs)
            return total
        """,
        """\
        def same(xs, target):
            total = len([1 for x in xs if x == target])
            return total
        """,
        applicability=Applicability.UNSAFE,
        call="same([1, 2, 1, 1.0], 1), same([], 0)",
    ),
    Case(
        "not a count",
        """\
        def f(xs, g):
            return (
                sum(x for x in xs),
                sum(g(x) for x in xs),
                sum(2 for x in xs),
                sum((x is None for x in xs), 10),
                sum(x is None or g(x) for x in xs),
                sum([x is None for x in xs]),
                sum(y for x in xs if (y := x)),
            )
        """,
    ),
    Case(
        "sum or len not the builtins",
        """\
        def f(xs, sum=sum):
            return sum(x is None for x in xs)


        def g(xs):
            len = 3
            return sum(x is None for x in xs), len
        """,
    ),
    Case(
        "a module that rebinds sum",
        """\
        from numpy import sum


        def f(xs):
            return sum(x is None for x in xs)
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_count_with_len(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("count-with-len"), case, tmp_path)


def test_stop_iteration_is_why_user_code_makes_it_unsafe() -> None:
    """A StopIteration from the loop escapes a list comprehension; a generator made it an error."""

    def check(x: int) -> bool:
        if x == 2:
            raise StopIteration
        return x is not None

    with pytest.raises(RuntimeError):
        sum(check(x) for x in [1, 2, 3])
    with pytest.raises(StopIteration):
        len([1 for x in [1, 2, 3] if check(x)])


def test_a_comparison_that_is_not_a_bool_is_why_equality_is_unsafe() -> None:
    """`sum` adds what `==` returns; the filter only tests its truth."""

    class Vote:
        def __eq__(self, other: object) -> int:  # type: ignore[override]
            return 2

    votes = [Vote(), Vote()]
    assert sum(v == 1 for v in votes) == 4
    assert len([1 for v in votes if v == 1]) == 2
