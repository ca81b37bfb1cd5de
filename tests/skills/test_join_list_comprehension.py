"""join-list-comprehension (PP119): before/after pairs, behaviour checks, should-not-fire."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.skills.harness import Case, guard_verdict, run_case, skill_named

CASES = [
    Case(
        # sqlparse 0.5.1 TokenList.__str__ (55,000 calls in the corpus workload).
        "sqlparse-token-list-str",
        """\
        class Tokens:
            def __init__(self, values):
                self.values = values

            def flatten(self):
                yield from self.values

            def __str__(self):
                return ''.join(value for value in self.flatten())
        """,
        """\
        class Tokens:
            def __init__(self, values):
                self.values = values

            def flatten(self):
                yield from self.values

            def __str__(self):
                return ''.join([value for value in self.flatten()])
        """,
        call="str(Tokens(['a', 'b', 'c'])), str(Tokens([]))",
    ),
    Case(
        "own-parentheses-and-condition",
        """\
        def csv(xs, log):
            return ", ".join((str(x) for x in xs if log.append(x) or x))
        """,
        """\
        def csv(xs, log):
            return ", ".join([str(x) for x in xs if log.append(x) or x])
        """,
        # The same items are evaluated, in the same order, and a bad item raises the same.
        call="[(csv([1, 0, 2], log), log) for log in ([],)], csv([1, None, 'a'], [])",
    ),
    # Should not fire.
    Case(
        "receiver-is-not-a-literal",
        """\
        import os


        def f(parts):
            return os.path.join(p for p in parts)
        """,
    ),
    Case(
        "already-a-list",
        """\
        def f(xs):
            return "".join([x for x in xs])
        """,
    ),
    Case(
        "a-name-not-a-generator",
        """\
        def f(xs):
            return "".join(xs)
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("join-list-comprehension"), case, tmp_path)


def test_guard_refuses_a_rewrite_that_keeps_the_generator() -> None:
    before = """\
    def f(xs):
        return "".join(x for x in xs)
    """
    kept = """\
    def f(xs):
        return "".join(x for x in xs) + "".join([])
    """
    assert guard_verdict("join-list-comprehension", before, kept) is not None
