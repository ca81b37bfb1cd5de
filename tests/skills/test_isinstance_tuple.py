"""isinstance-tuple (PP125): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

# PyYAML 6.0.2's Scanner.check_token (lib/yaml/scanner.py), reduced to what the loop reads.
SCANNER = """\
    class Scanner:
        def __init__(self, tokens):
            self.tokens = list(tokens)

        def check_token(self, *choices):
            # Check if the next token is one of the given types.
            if self.tokens:
                if not choices:
                    return True
                for choice in choices:
                    if isinstance(self.tokens[0], choice):
                        return True
            return False
    """

CASES = [
    Case(
        "PyYAML's check_token: the subscript is read once, unsafe",
        before=SCANNER,
        after=SCANNER.replace(
            """                for choice in choices:
                    if isinstance(self.tokens[0], choice):
                        return True""",
            """                if isinstance(self.tokens[0], choices):
                    return True""",
        ),
        applicability=Applicability.UNSAFE,
        call=(
            "[Scanner(t).check_token(*c) for t in ([1], ['a'], [], [(1,)])"
            " for c in ((), (int,), (str, int), (float, (bool, str)), (tuple,))]"
        ),
    ),
    Case(
        "a parameter checked against *types: safe",
        """\
        def is_any(value, *types):
            for kind in types:
                if isinstance(value, kind):
                    return True
            return False
        """,
        """\
        def is_any(value, *types):
            if isinstance(value, types):
                return True
            return False
        """,
        applicability=Applicability.SAFE,
        call="[is_any(v, *t) for v in (1, 'a', 2.0, None) for t in ((), (int,), (str, float))]",
    ),
    Case(
        "any() over a tuple display, written without parentheses in the loop",
        """\
        def numeric(x):
            return any(isinstance(x, t) for t in (int, float, complex))
        """,
        """\
        def numeric(x):
            return isinstance(x, (int, float, complex))
        """,
        applicability=Applicability.SAFE,
        call="[numeric(v) for v in (1, 1.5, 2j, 'x', None, True)]",
    ),
    Case(
        "a bare tuple after `in` gets its parentheses; None returned, fall-through kept",
        """\
        def first_kind(x):
            for t in int, str:
                if isinstance(x, t):
                    return None
            return x
        """,
        """\
        def first_kind(x):
            if isinstance(x, (int, str)):
                return None
            return x
        """,
        applicability=Applicability.SAFE,
        call="[first_kind(v) for v in (1, 'a', 2.5, [])]",
    ),
    Case(
        "a non-type in the tuple raises the same TypeError at the same item",
        """\
        def check(x, *types):
            for t in types:
                if isinstance(x, t):
                    return True
            return False


        def attempt(*types):
            try:
                return check(1, *types)
            except TypeError as error:
                return str(error)
        """,
        """\
        def check(x, *types):
            if isinstance(x, types):
                return True
            return False


        def attempt(*types):
            try:
                return check(1, *types)
            except TypeError as error:
                return str(error)
        """,
        call="[attempt(*t) for t in ((str, 5), (int, 5), (5, int), (str, [int]))]",
    ),
    Case(
        "not a tuple, more in the loop, the loop variable used after, or an else",
        """\
        def f(x, types, *more):
            for t in types:
                if isinstance(x, t):
                    return True
            for t in more:
                if isinstance(x, t):
                    print(t)
                    return True
            for u in more:
                if isinstance(x, u):
                    return True
            print(u)
            for w in more:
                if isinstance(x, w):
                    return True
            else:
                pass
            for v in more:
                if isinstance(x, v):
                    return x
            return any(isinstance(x, k) for k in types)
        """,
    ),
    Case(
        "the *args parameter is rebound, or the checked value reads the loop variable",
        """\
        def f(x, *types):
            types = [str]
            for t in types:
                if isinstance(x, t):
                    return True
            return False


        def g(x, *types):
            for t in types:
                if isinstance(t, t):
                    return True
            return any(isinstance(x[t], t) for t in types)
        """,
    ),
    Case(
        "isinstance or any not the builtins",
        """\
        def isinstance(x, t):
            return True


        def f(x, *types):
            for t in types:
                if isinstance(x, t):
                    return True
            return False
        """,
    ),
    Case(
        "a local any",
        """\
        def f(x, *types, any=any):
            return any(isinstance(x, t) for t in types)
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_isinstance_tuple(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("isinstance-tuple"), case, tmp_path)


class _Meta(type):
    calls: list[str] = []

    def __instancecheck__(cls, instance: object) -> bool:
        _Meta.calls.append(cls.__name__)
        return False


class _A(metaclass=_Meta):
    pass


class _B(metaclass=_Meta):
    pass


def test_instancecheck_hooks_run_in_the_same_order() -> None:
    """A tuple runs each item's __instancecheck__ in order, exactly as the loop did."""
    _Meta.calls.clear()
    assert not any(isinstance(1, t) for t in (_A, _B, (_A,)))
    looped = list(_Meta.calls)
    _Meta.calls.clear()
    assert not isinstance(1, (_A, _B, (_A,)))
    assert _Meta.calls == looped == ["_A", "_B", "_A"]


def test_an_empty_tuple_evaluates_the_checked_value_which_is_why_a_subscript_is_unsafe() -> None:
    """With no types the loop never reads `x[0]`; the rewrite does, and may raise."""
    tokens: list[int] = []
    assert not any(isinstance(tokens[0], t) for t in ())
    with pytest.raises(IndexError):
        isinstance(tokens[0], ())
