"""any-all-to-loop (PP115): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.skills.harness import Case, guard_verdict, run_case, skill_named

CASES = [
    Case(
        "return-any",
        """\
        def has_negative(xs):
            return any(x < 0 for x in xs)
        """,
        """\
        def has_negative(xs):
            for x in xs:
                if x < 0:
                    return True
            return False
        """,
        call="has_negative([1, -2, 3]), has_negative([]), has_negative([0, 5])",
    ),
    Case(
        "return-all-with-condition-and-loose-element",
        """\
        def all_small(xs, limit):
            return all(x < limit or x is None for x in xs if x != 0)
        """,
        """\
        def all_small(xs, limit):
            for x in xs:
                if x != 0 and not (x < limit or x is None):
                    return False
            return True
        """,
        call="all_small([1, 0, 99], 5), all_small([1, 0, None], 5), all_small([], 1)",
    ),
    Case(
        # sqlparse's utils.imt, before upstream e7eab4c: `token.ttype` is an attribute, not
        # a use of the loop variable `ttype`.
        "if-any-return-true-sqlparse-imt",
        """\
        def imt(token, t=None):
            if t:
                if isinstance(t, list):
                    if any(token.ttype in ttype for ttype in t):
                        return True
                elif token.ttype in t:
                    return True
            return False
        """,
        """\
        def imt(token, t=None):
            if t:
                if isinstance(t, list):
                    for ttype in t:
                        if token.ttype in ttype:
                            return True
                elif token.ttype in t:
                    return True
            return False
        """,
        call="[imt(type('T', (), {'ttype': 'ab'})(), t) for t in (None, ['xab'], ['q'], 'zab')]",
    ),
    Case(
        "if-any-body-falls-through-gets-break-and-else-kept",
        """\
        def label(words, seen):
            out = []
            if any(w.startswith("#") for w in words):
                out.append("tagged")
                seen.add(len(words))
            else:
                out.append("plain")
            return out, seen
        """,
        """\
        def label(words, seen):
            out = []
            for w in words:
                if w.startswith("#"):
                    out.append("tagged")
                    seen.add(len(words))
                    break
            else:
                out.append("plain")
            return out, seen
        """,
        call="label(['a', '#b', '#c'], set()), label(['a'], set()), label([], {1})",
    ),
    Case(
        "short-circuit-and-order-kept",
        """\
        def first_hit(items, log):
            return any(log.append(i) or i > 2 for i in items)
        """,
        """\
        def first_hit(items, log):
            for i in items:
                if log.append(i) or i > 2:
                    return True
            return False
        """,
        # The log shows exactly which items were tested: the loop stops where any() stopped.
        call="[(first_hit([1, 3, 5, 7], log), log) for log in ([],)]",
    ),
    Case(
        "multi-line-generator-in-a-method",
        """\
        class Grid:
            def __init__(self, rows):
                self.rows = rows

            def blank(self):
                return all(
                    cell == ""
                    for cell in self.rows
                )
        """,
        """\
        class Grid:
            def __init__(self, rows):
                self.rows = rows

            def blank(self):
                for cell in self.rows:
                    if not cell == "":
                        return False
                return True
        """,
        call="Grid(['', '']).blank(), Grid(['', 'x']).blank()",
    ),
    Case(
        "all-in-becomes-not-in",
        """\
        def known(words, vocabulary):
            return all(w in vocabulary for w in words)
        """,
        """\
        def known(words, vocabulary):
            for w in words:
                if w not in vocabulary:
                    return False
            return True
        """,
        call="known(['a'], {'a'}), known(['a', 'b'], {'a'})",
    ),
    # Should not fire.
    Case(
        "loop-variable-read-elsewhere",
        """\
        def f(xs):
            x = 0
            return any(x > 1 for x in xs), x
        """,
    ),
    Case(
        "loop-variable-is-a-global-read-later",
        """\
        def f(xs):
            if any(x > 1 for x in xs):
                return x
            return None
        """,
    ),
    Case(
        "any-shadowed-in-module",
        """\
        from mylib import any


        def f(xs):
            return any(x for x in xs)
        """,
    ),
    Case(
        "all-in-an-if-needs-for-else",
        """\
        def f(xs):
            if all(x for x in xs):
                return 1
            return 2
        """,
    ),
    Case(
        "break-in-body-belongs-to-outer-loop",
        """\
        def f(rows):
            n = 0
            for row in rows:
                if any(c == "#" for c in row):
                    break
                n += 1
            return n
        """,
    ),
    Case(
        "list-comprehension-evaluates-everything",
        """\
        def f(xs):
            return any([x > 1 for x in xs])
        """,
    ),
    Case(
        "nested-fors",
        """\
        def f(rows):
            return any(c for row in rows for c in row)
        """,
    ),
    Case(
        "part-of-a-larger-expression",
        """\
        def f(xs, flag):
            return flag and any(x for x in xs)
        """,
    ),
    Case(
        "elif-any",
        """\
        def f(xs, flag):
            if flag:
                return 0
            elif any(x for x in xs):
                return 1
            return 2
        """,
    ),
    Case(
        "comment-inside-the-call",
        """\
        def f(xs):
            return any(
                x > 1  # big
                for x in xs
            )
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("any-all-to-loop"), case, tmp_path)


def test_guard_refuses_a_rewrite_that_keeps_the_call() -> None:
    before = """\
    def f(xs):
        return any(x for x in xs)
    """
    kept = """\
    def f(xs):
        for y in xs:
            pass
        return any(x for x in xs)
    """
    assert guard_verdict("any-all-to-loop", before, kept) is not None
