"""guard-noop-replace (PP148): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, opportunities, run_case, skill_named

ESCAPE = """\
    def escape(s, quote=True):
        s = s.replace("&", "&amp;")
        s = s.replace("<", "&lt;")
        s = s.replace(">", "&gt;")
        if quote:
            s = s.replace('"', "&quot;")
        return s
    """

CASES = [
    Case(
        "mistune's escape: all four statements guarded, the lone one under `if quote:` by `and`",
        before=ESCAPE,
        after="""\
    def escape(s, quote=True):
        if "&" in s:
            s = s.replace("&", "&amp;")
        if "<" in s:
            s = s.replace("<", "&lt;")
        if ">" in s:
            s = s.replace(">", "&gt;")
        if quote and '"' in s:
            s = s.replace('"', "&quot;")
        return s
    """,
        applicability=Applicability.UNSAFE,
        call='[escape(t, q) for t in ("plain", "a < b & c > \\"d\\"", "", "&&") for q in (0, 1)]',
    ),
    Case(
        "inside a loop, with a count and a name as replacement",
        before="""\
    def clean(lines, tab):
        out = []
        for line in lines:
            # tabs
            line = line.replace("\\t", tab, 2)
            out.append(line)
        return out
    """,
        after="""\
    def clean(lines, tab):
        out = []
        for line in lines:
            # tabs
            if "\\t" in line:
                line = line.replace("\\t", tab, 2)
            out.append(line)
        return out
    """,
        applicability=Applicability.UNSAFE,
        call='clean(["a\\tb\\tc\\td", "plain"], "  ")',
    ),
    Case(
        "a lone replace under a plain if: the if's test is extended (no nested if, ruff SIM102)",
        before="""\
    def quote_attr(s, quote, strict):
        if quote or strict:
            s = s.replace('"', "&quot;")
        return s
    """,
        after="""\
    def quote_attr(s, quote, strict):
        if (quote or strict) and '"' in s:
            s = s.replace('"', "&quot;")
        return s
    """,
        applicability=Applicability.UNSAFE,
        call='[quote_attr(t, q, 0) for t in ("a", \'say "hi"\') for q in (0, 1)]',
    ),
    Case(
        "not fired: already guarded, another target, a call as replacement, an empty old",
        """\
    def f(s, t):
        if "&" in s:
            s = s.replace("&", "&amp;")
        if t and "<" in s:
            s = s.replace("<", "&lt;")
        t = s.replace("<", "&lt;")
        s = s.replace(">", make())
        s = s.replace("", "-")
        s = s.replace(old, "x")
        s = s.replace("a", "b", count=1)
        s = s.replace("c", "d")  # keep
        return s, t
    """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_guard_noop_replace(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("guard-noop-replace"), case, tmp_path)


def test_one_fix_per_function(tmp_path: Path) -> None:
    """Both runs of escape (three statements, and the one under `if quote:`) are one fix."""
    import textwrap

    found = opportunities(
        skill_named("guard-noop-replace"), textwrap.dedent(ESCAPE), tmp_path / "m.py"
    )
    assert len(found) == 1


def test_str_subclass_is_why_it_is_unsafe() -> None:
    """replace() returns a plain str even when nothing is replaced; the guard keeps the subclass."""

    class Markup(str):
        pass

    s = Markup("plain")
    assert type(s.replace("&", "&amp;")) is str
    guarded = s
    if "&" in guarded:
        guarded = guarded.replace("&", "&amp;")
    assert type(guarded) is Markup
