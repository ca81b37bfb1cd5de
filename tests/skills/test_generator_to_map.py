"""generator-to-map (PP122): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

CASES = [
    Case(
        "sum-of-a-builtin-is-safe",
        """\
        def total_width(lines):
            return sum(len(line) for line in lines)
        """,
        """\
        def total_width(lines):
            return sum(map(len, lines))
        """,
        applicability=Applicability.SAFE,
        call="total_width(['ab', '', 'cde']), total_width([])",
    ),
    Case(
        "any-of-a-method-keeps-short-circuit",
        """\
        class Lexer:
            def test(self, token):
                self.seen.append(token)
                return token == 'end'

            def has_end(self, tokens):
                self.seen = []
                found = any(self.test(t) for t in tokens)
                return found, self.seen
        """,
        """\
        class Lexer:
            def test(self, token):
                self.seen.append(token)
                return token == 'end'

            def has_end(self, tokens):
                self.seen = []
                found = any(map(self.test, tokens))
                return found, self.seen
        """,
        applicability=Applicability.UNSAFE,
        call="Lexer().has_end(['a', 'end', 'b'])",
    ),
    Case(
        "join-of-a-module-function",
        """\
        import re


        def alternation(words):
            return '|'.join(re.escape(w) for w in sorted(words))
        """,
        """\
        import re


        def alternation(words):
            return '|'.join(map(re.escape, sorted(words)))
        """,
        applicability=Applicability.UNSAFE,
        call="alternation({'a.b', 'c'})",
    ),
    Case(
        "max-with-keywords-kept",
        """\
        def widest(rows, width):
            return max((width(r) for r in rows), default=0)
        """,
        """\
        def widest(rows, width):
            return max(map(width, rows), default=0)
        """,
        applicability=Applicability.UNSAFE,
        call="widest(['a', 'bbb'], len), widest([], len)",
    ),
    # Should not fire.
    Case(
        "builtin-types-measured-slower",
        """\
        def render(values):
            return ''.join(str(v) for v in values), tuple(int(v) for v in values)
        """,
    ),
    Case(
        "more-than-a-call",
        """\
        def f(xs, g):
            return (
                sum(g(x) + 1 for x in xs),
                sum(g(x) for x in xs if x),
                sum(g(x, 1) for x in xs),
                sum(g(x) for y in xs for x in y),
                sum(x.g(x) for x in xs),
                sum(g(y) for x in xs for y in x),
            )
        """,
    ),
    Case(
        "consumer-or-map-shadowed",
        """\
        def f(xs, g, sum=sum):
            map = None
            return sum(g(x) for x in xs), any(g(x) for x in xs), map
        """,
    ),
    Case(
        "not-a-reduction",
        """\
        def f(xs, g, out):
            out.extend(g(x) for x in xs)
            return sep.join(g(x) for x in xs)
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_generator_to_map(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("generator-to-map"), case, tmp_path)


def test_stop_iteration_is_why_user_functions_are_unsafe() -> None:
    """A StopIteration from the function ends map() quietly; the generator raised RuntimeError."""

    def stop(x: int) -> int:
        if x == 2:
            raise StopIteration
        return x

    with pytest.raises(RuntimeError):
        sum(stop(x) for x in [1, 2, 3])
    assert sum(map(stop, [1, 2, 3])) == 1
