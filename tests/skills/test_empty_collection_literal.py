"""empty-collection-literal (PP118): before/after pairs, behaviour checks, should-not-fire."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.skills.harness import Case, guard_verdict, run_case, skill_named

CASES = [
    Case(
        # pyparsing 3.1.4 ParseResults.__new__ (720,000 calls in the corpus workload).
        "pyparsing-parse-results-new",
        """\
        class Results:
            def __new__(cls, toklist=None):
                self = object.__new__(cls)
                self._all_names = set()
                self._toklist = [toklist] if toklist is not None else list()
                self._tokdict = dict()
                return self
        """,
        """\
        class Results:
            def __new__(cls, toklist=None):
                self = object.__new__(cls)
                self._all_names = set()
                self._toklist = [toklist] if toklist is not None else []
                self._tokdict = dict()
                return self
        """,
        call="vars(Results(3)), vars(Results())",
    ),
    Case(
        "keywords-dict-keeps-order-and-parentheses",
        """\
        def point(x, y):
            return (dict(x=x, y=y * 2)), tuple()
        """,
        """\
        def point(x, y):
            return ({"x": x, "y": y * 2}), tuple()
        """,
        call="point(1, 2), list(point(1, 2)[0])",
    ),
    Case(
        # Found in the standard library (email/headerregistry.py): `()` keeps its own
        # parentheses; the transform raised before.
        "empty-tuple",
        """\
        def defects(kw):
            return kw.pop("defects", tuple())
        """,
        """\
        def defects(kw):
            return kw.pop("defects", ())
        """,
        call="defects({}), defects({'defects': (1,)})",
    ),
    Case(
        # unittest/mock.py: a module that binds `list` itself; its tuple() is still a fix
        # (the guard refused it before).
        "other-name-shadowed",
        """\
        list = []


        def defaults(store):
            store["defaults"] = tuple()
            return list
        """,
        """\
        list = []


        def defaults(store):
            store["defaults"] = ()
            return list
        """,
        call="[defaults(s) for s in ({},)], ",
    ),
    # Should not fire.
    Case(
        "dict-shadowed-in-module",
        """\
        from collections import OrderedDict as dict


        def f():
            return dict()
        """,
    ),
    Case(
        "list-is-a-parameter",
        """\
        def f(list):
            return list()
        """,
    ),
    Case(
        "with-a-positional-argument",
        """\
        def f(pairs):
            return dict(pairs), list(pairs), tuple(pairs)
        """,
    ),
    Case(
        "dict-with-double-star",
        """\
        def f(extra):
            return dict(**extra)
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("empty-collection-literal"), case, tmp_path)


def test_guard_refuses_a_rewrite_that_keeps_the_call() -> None:
    before = """\
    def f():
        return dict()
    """
    kept = """\
    def f():
        return dict() or {}
    """
    assert guard_verdict("empty-collection-literal", before, kept) is not None
