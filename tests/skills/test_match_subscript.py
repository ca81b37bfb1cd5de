"""match-subscript (PP140): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

CASES = [
    Case(
        "pyparsing's Regex.parseImpl: a cached matcher, unsafe",
        """\
        import re


        class Regex:
            def __init__(self, pattern):
                self.re_match = re.compile(pattern).match

            def parse(self, text, loc):
                result = self.re_match(text, loc)
                if not result:
                    raise ValueError(loc)
                return result.end(), [result.group()]
        """,
        """\
        import re


        class Regex:
            def __init__(self, pattern):
                self.re_match = re.compile(pattern).match

            def parse(self, text, loc):
                result = self.re_match(text, loc)
                if not result:
                    raise ValueError(loc)
                return result.end(), [result[0]]
        """,
        applicability=Applicability.UNSAFE,
        call="Regex('[a-z]+').parse('ab cd', 3), Regex('x').parse('x', 0)",
    ),
    Case(
        "a named group of re.match: unsafe (None when nothing matched)",
        """\
        import re


        def key(line):
            m = re.match(r"(?P<k>\\w+)=", line)
            return m.group("k") if m else None
        """,
        """\
        import re


        def key(line):
            m = re.match(r"(?P<k>\\w+)=", line)
            return m["k"] if m else None
        """,
        applicability=Applicability.UNSAFE,
        call="key('a=1'), key('=')",
    ),
    Case(
        "every match of re.finditer: safe",
        """\
        import re


        def words(text):
            out = []
            for m in re.finditer(r"(\\w)(\\w*)", text):
                out.append(m.group(1))
            return out
        """,
        """\
        import re


        def words(text):
            out = []
            for m in re.finditer(r"(\\w)(\\w*)", text):
                out.append(m[1])
            return out
        """,
        applicability=Applicability.SAFE,
        call="words('ab cd e'), words('')",
    ),
    Case(
        "not provably a match",
        """\
        import re


        def f(m, pattern, text):
            a = m.group(1)
            n = pattern.match(text)
            b = n.group(1, 2)
            c = n.group(group=1)
            k = pattern.match(text)
            k = None
            d = k.group()
            s = something(text)
            return a, b, c, d, s.group()
        """,
    ),
    Case(
        "finditer of a module named re that is not the stdlib's: unsafe",
        """\
        import regex as re


        def words(text):
            return [m.group() for m in re.finditer("a", text)]
        """,
        """\
        import regex as re


        def words(text):
            return [m[0] for m in re.finditer("a", text)]
        """,
        applicability=Applicability.UNSAFE,
    ),
    Case(
        "a comprehension over re.finditer: safe",
        """\
        import re


        def words(text):
            return [m.group() for m in re.finditer("a", text)]
        """,
        """\
        import re


        def words(text):
            return [m[0] for m in re.finditer("a", text)]
        """,
        applicability=Applicability.SAFE,
        call="words('banana')",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_match_subscript(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("match-subscript"), case, tmp_path)


def test_none_is_why_an_unproved_match_is_unsafe() -> None:
    """`None.group()` raises AttributeError, `None[0]` TypeError: a caller may catch one only."""
    m = re.match("a", "b")
    with pytest.raises(AttributeError):
        m.group()  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        m[0]  # type: ignore[index]
