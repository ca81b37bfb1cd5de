"""hoist-int-arithmetic (PP121): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, guard_verdict, run_case, skill_named

CASES = [
    Case(
        "negation-of-the-outer-loop-target",
        """\
        def diagonals(n):
            out = []
            for d in range(n):
                # one step
                for k in range(-d, d + 1, 2):
                    out.append(k == -d)
            return out
        """,
        """\
        def diagonals(n):
            out = []
            for d in range(n):
                # one step
                neg_d = -d
                for k in range(-d, d + 1, 2):
                    out.append(k == neg_d)
            return out
        """,
        applicability=Applicability.SAFE,
        call="diagonals(4)",
    ),
    Case(
        "left-operand-of-a-sum-with-the-loop-variable",
        """\
        def offsets(text1, text2, ks):
            offset = (len(text1) + len(text2)) // 2
            delta = len(text1) - len(text2)
            found = []
            for k in ks:
                if k > 0:
                    found.append(offset + delta - k)
                else:
                    found.append(offset + delta - k + 1)
            return found
        """,
        """\
        def offsets(text1, text2, ks):
            offset = (len(text1) + len(text2)) // 2
            delta = len(text1) - len(text2)
            found = []
            offset_plus_delta = offset + delta
            for k in ks:
                if k > 0:
                    found.append(offset_plus_delta - k)
                else:
                    found.append(offset_plus_delta - k + 1)
            return found
        """,
        applicability=Applicability.SAFE,
        call="offsets('abcd', 'ab', [1, -2, 3])",
    ),
    Case(
        "while-loop-and-augmented-ints",
        """\
        def walk(items):
            i = 0
            step = 2
            step += 1
            total = 0
            while i < len(items) * step:
                total += i * step
                i += step * 2
            return total
        """,
        """\
        def walk(items):
            i = 0
            step = 2
            step += 1
            total = 0
            step_times_2 = step * 2
            while i < len(items) * step:
                total += i * step
                i += step_times_2
            return total
        """,
        applicability=Applicability.SAFE,
        call="walk([1, 2, 3])",
    ),
    # Should not fire.
    Case(
        "parameters-are-not-known-ints",
        """\
        def shift(values, d):
            return [v == -d for v in values] + [v for v in values if v + d]
        """,
    ),
    Case(
        "float-division-and-raising-operators",
        """\
        def ratios(xs):
            n = len(xs)
            m = n - 1
            out = []
            for x in xs:
                out.append((x, n / 2, n // m, n % m, n << m, n ** 2))
            return out
        """,
    ),
    Case(
        "rebound-in-the-loop",
        """\
        def grow(xs):
            d = 0
            out = []
            for x in xs:
                out.append(-d)
                d += 1
            return out
        """,
    ),
    Case(
        "only-bound-after-or-conditionally",
        """\
        def late(xs, flag):
            if flag:
                n = 1
            out = [1 for x in xs]
            while out:
                out.pop()
                if flag:
                    print(-n)
            n = 2
            return out
        """,
    ),
    Case(
        "shadowed-builtin-and-locals",
        """\
        def a(xs, len=len):
            n = len(xs)
            return [x - (-n) for x in xs]


        def b(xs):
            n = len(xs)
            for x in xs:
                print(-n, locals())
        """,
    ),
    Case(
        "literal-only-and-unknown-operand",
        """\
        def c(xs, y):
            n = len(xs)
            for x in xs:
                print(-1, n + y, 2 * 3)
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hoist_int_arithmetic(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("hoist-int-arithmetic"), case, tmp_path)


def test_guard_refuses_a_name_that_is_rebound() -> None:
    """A hand-made rewrite that rebinds the hoisted name in the loop is refused."""
    before = """\
    def f(n, xs):
        m = len(xs)
        for x in xs:
            print(x == -m)
    """
    after = """\
    def f(n, xs):
        m = len(xs)
        neg_m = -m
        for x in xs:
            print(x == neg_m)
            neg_m = x
    """
    assert guard_verdict("hoist-int-arithmetic", before, after) is not None
