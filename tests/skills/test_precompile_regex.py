"""PP105 precompile-regex: before/after pairs and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

CASES = [
    Case(
        "match with a literal pattern",
        before="""\
            import re


            def parse(line):
                m = re.match(r"(\\w+)=(\\d+)", line)
                return m.groups() if m else None
            """,
        after="""\
            import re

            _PARSE_RE = re.compile(r"(\\w+)=(\\d+)")


            def parse(line):
                m = _PARSE_RE.match(line)
                return m.groups() if m else None
            """,
        call="[parse('a=1'), parse('nope')]",
    ),
    Case(
        "sub with flags moved into compile",
        before="""\
            import re


            def squash(text):
                return re.sub(r"\\s+", " ", text, 0, re.MULTILINE)
            """,
        after="""\
            import re

            _SQUASH_RE = re.compile(r"\\s+", re.MULTILINE)


            def squash(text):
                return _SQUASH_RE.sub(" ", text, 0)
            """,
        call="squash('a  b\\n\\t c')",
    ),
    Case(
        "keyword flags and split with maxsplit",
        before="""\
            import re


            def fields(text):
                return re.split(r"[,;]", text, maxsplit=2, flags=re.I | re.M)
            """,
        after="""\
            import re

            _FIELDS_RE = re.compile(r"[,;]", re.I | re.M)


            def fields(text):
                return _FIELDS_RE.split(text, maxsplit=2)
            """,
        call="fields('a,b;c,d')",
    ),
    Case(
        "two calls with the same pattern share one constant",
        before="""\
            import re


            def both(a, b):
                return bool(re.search("ab+", a)) and bool(re.search("ab+", b))
            """,
        after="""\
            import re

            _BOTH_RE = re.compile("ab+")


            def both(a, b):
                return bool(_BOTH_RE.search(a)) and bool(_BOTH_RE.search(b))
            """,
        call="[both('xabb', 'ab'), both('a', 'ab')]",
    ),
    Case(
        "re.compile inside a loop is hoisted to module level",
        before="""\
            import re


            def count_words(lines):
                total = 0
                for line in lines:
                    total += len(re.compile(r"\\w+").findall(line))
                return total
            """,
        after="""\
            import re

            _COUNT_WORDS_RE = re.compile(r"\\w+")


            def count_words(lines):
                total = 0
                for line in lines:
                    total += len(_COUNT_WORDS_RE.findall(line))
                return total
            """,
        call="count_words(['a b', 'c'])",
    ),
    Case(
        "a method, named after the method, with an aliased import",
        before="""\
            import re as regex


            class Tokenizer:
                def tokens(self, text):
                    # split on anything that is not a word character
                    return regex.findall(r"[A-Za-z]+", text)
            """,
        after="""\
            import re as regex

            _TOKENS_RE = regex.compile(r"[A-Za-z]+")


            class Tokenizer:
                def tokens(self, text):
                    # split on anything that is not a word character
                    return _TOKENS_RE.findall(text)
            """,
        call="Tokenizer().tokens('ab, cd9e')",
    ),
    Case(
        "constant name avoids an existing identifier",
        before="""\
            import re

            _CHECK_RE = None


            def check(s):
                return re.fullmatch("[0-9]+", s) is not None
            """,
        after="""\
            import re

            _CHECK_RE_2 = re.compile("[0-9]+")

            _CHECK_RE = None


            def check(s):
                return _CHECK_RE_2.fullmatch(s) is not None
            """,
        call="[check('123'), check('12a')]",
    ),
    Case(
        "f-string pattern is not constant",
        before="""\
            import re


            def find(word, text):
                return re.search(f"\\\\b{word}\\\\b", text)
            """,
    ),
    Case(
        "pattern in a variable is not constant",
        before="""\
            import re


            def find(pattern, text):
                return re.search(pattern, text)
            """,
    ),
    Case(
        "an invalid pattern would fail at import time",
        before="""\
            import re


            def broken(text):
                return re.match("(unclosed", text)
            """,
    ),
    Case(
        "re shadowed by a parameter",
        before="""\
            import re


            def find(re, text):
                return re.match("a", text)
            """,
    ),
    Case(
        "re rebound at module level",
        before="""\
            import re

            re = None


            def find(text):
                return re.match("a", text)
            """,
    ),
    Case(
        "re imported only inside the function",
        before="""\
            def find(text):
                import re

                return re.match("a", text)
            """,
    ),
    Case(
        "a nested function's call belongs to the nested function",
        before="""\
            import re


            def outer():
                def inner(text):
                    return re.match("a+", text)

                return inner
            """,
        after="""\
            import re

            _INNER_RE = re.compile("a+")


            def outer():
                def inner(text):
                    return _INNER_RE.match(text)

                return inner
            """,
        call="bool(outer()('aa'))",
    ),
    Case(
        "non-constant flags",
        before="""\
            import re


            def find(text, flags):
                return re.match("a", text, flags)
            """,
    ),
    Case(
        "re.DEBUG prints at compile time: not a plain flag",
        before="""\
            import re


            def find(text):
                return re.match("a", text, re.DEBUG)
            """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_precompile_regex(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("precompile-regex"), case, tmp_path)


def test_claims_safe() -> None:
    assert skill_named("precompile-regex").applicability is Applicability.SAFE
