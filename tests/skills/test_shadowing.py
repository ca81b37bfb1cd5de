"""The one shadowing check of the skills: is a builtin call the builtin in this function?"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from perfpilot.skills.cst_helpers import local_names, shadowed_builtins
from perfpilot.tools.module_facts import facts_of_source
from tests.skills.harness import opportunities, skill_named

NAMES = ("any", "sorted", "len")


def shadowed_in(source: str) -> set[str]:
    """Which of NAMES the last function of `source` may not see as the builtins."""
    text = textwrap.dedent(source)
    function = [n for n in cst.parse_module(text).body if isinstance(n, cst.FunctionDef)][-1]
    return shadowed_builtins(function, facts_of_source(text), NAMES)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(xs):\n    return any(xs)\n", set()),
        ("from mylib import any\n\ndef f(xs):\n    return any(xs)\n", {"any"}),
        ("import sorted\n\ndef f(xs):\n    return sorted(xs)\n", {"sorted"}),
        ("len = str\n\ndef f(xs):\n    return len(xs)\n", {"len"}),
        ("def f(xs, sorted=None):\n    return sorted(xs)\n", {"sorted"}),
        ("def f(xs):\n    len = 3\n    return len\n", {"len"}),
        ("def f(xs):\n    global any\n    return any(xs)\n", {"any"}),
        # `del` and a match capture bind the name in the function: it is local there.
        ("def f(xs):\n    r = any(xs)\n    del any\n    return r\n", {"any"}),
        ("def f(x):\n    match x:\n        case len:\n            return len\n", {"len"}),
        # A comprehension's target and a nested function's names are their own scope's.
        ("def f(xs):\n    ys = [sorted for sorted in xs]\n    return sorted(ys)\n", set()),
        ("def f(xs):\n    def g():\n        any = 1\n    return any(xs)\n", set()),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, str) else None,
)
def test_shadowed_builtins(source: str, expected: set[str]) -> None:
    assert shadowed_in(source) == expected


def test_a_callers_own_local_names_are_used_instead() -> None:
    text = "def f(xs):\n    return [len(x) for len in xs]\n"
    function = cst.parse_module(text).body[0]
    assert isinstance(function, cst.FunctionDef)
    facts = facts_of_source(text)
    assert "len" not in local_names(function)
    assert shadowed_builtins(function, facts, ("len",)) == set()
    assert shadowed_builtins(function, facts, ("len",), {"len"}) == {"len"}


def test_any_all_to_loop_leaves_a_function_that_deletes_any_alone(tmp_path: Path) -> None:
    # `del any` makes `any` a local of the whole function: the call raises UnboundLocalError,
    # which a loop in its place would not.
    text = textwrap.dedent(
        """\
        def f(xs):
            if any(x for x in xs):
                return 1
            del any
            return 2
        """
    )
    assert not opportunities(skill_named("any-all-to-loop"), text, tmp_path / "m.py")
