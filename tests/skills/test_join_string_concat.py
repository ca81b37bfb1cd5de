"""PP104 join-string-concat: before/after pairs and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.skills.harness import Case, guard_verdict, run_case, skill_named

POSITIVE = [
    Case(
        "parenthesized multi-line part with continue (render_incidents)",
        before="""\
            def render(items):
                text = ""
                for status, route in items:
                    if status < 500:
                        continue
                    text += (
                        f"  {status:>3} "
                        f"{route[:30]:<30}\\n"
                    )
                return text
            """,
        after="""\
            def render(items):
                text_parts = []
                for status, route in items:
                    if status < 500:
                        continue
                    text_parts.append(
                        f"  {status:>3} "
                        f"{route[:30]:<30}\\n"
                    )
                text = "".join(text_parts)
                return text
            """,
        call="render([(200, '/a'), (503, '/b'), (500, '/c' * 40)])",
    ),
    Case(
        "non-empty initial literal in single quotes, break",
        before="""\
            def csv_line(cells):
                line = 'row:'
                for cell in cells:
                    if cell is None:
                        break
                    line += ',' + cell
                return line
            """,
        after="""\
            def csv_line(cells):
                line_parts = ['row:']
                for cell in cells:
                    if cell is None:
                        break
                    line_parts.append(',' + cell)
                line = ''.join(line_parts)
                return line
            """,
        call="(csv_line(['a', 'b', None, 'c']), csv_line([]))",
    ),
    Case(
        "several += in if/else branches and a one-line suite",
        before="""\
            def describe(values):
                out = ""
                for v in values:
                    if v < 0: out += "-"
                    elif v == 0:
                        out += "0"
                    else:
                        out += "+"
                        out += str(v)
                return out.upper()
            """,
        after="""\
            def describe(values):
                out_parts = []
                for v in values:
                    if v < 0: out_parts.append("-")
                    elif v == 0:
                        out_parts.append("0")
                    else:
                        out_parts.append("+")
                        out_parts.append(str(v))
                out = "".join(out_parts)
                return out.upper()
            """,
        call="describe([-1, 0, 3, 12])",
    ),
    Case(
        "nested loop inside the loop, in a method, comments kept",
        before="""\
            class Grid:
                def render(self, rows):
                    # one line per row
                    text = ""  # the whole grid
                    for row in rows:
                        for cell in row:
                            text += cell  # no separator
                        text += "\\n"
                    return text
            """,
        after="""\
            class Grid:
                def render(self, rows):
                    # one line per row
                    text_parts = []  # the whole grid
                    for row in rows:
                        for cell in row:
                            text_parts.append(cell)  # no separator
                        text_parts.append("\\n")
                    text = "".join(text_parts)
                    return text
            """,
        call="Grid().render([['a', 'b'], [], ['c']])",
    ),
    Case(
        "while loop, statements not using the string between init and loop",
        before="""\
            def repeat(word, n):
                s = ""
                i = 0
                while i < n:
                    s += word
                    i += 1
                return len(s), s
            """,
        after="""\
            def repeat(word, n):
                s_parts = []
                i = 0
                while i < n:
                    s_parts.append(word)
                    i += 1
                s = "".join(s_parts)
                return len(s), s
            """,
        call="(repeat('ab', 3), repeat('x', 0))",
    ),
    Case(
        "parts of unknown type (a non-str part would raise later: why it is unsafe)",
        before="""\
            def glue(parts):
                s = ""
                for p in parts:
                    s += p
                return s
            """,
        after="""\
            def glue(parts):
                s_parts = []
                for p in parts:
                    s_parts.append(p)
                s = "".join(s_parts)
                return s
            """,
        call="(glue(['a', 'b', '']), glue(()))",
    ),
    Case(
        "async function with async for, nested in a function",
        before="""\
            import asyncio


            async def lines(items):
                for item in items:
                    yield item


            def make():
                async def collect(stream):
                    body = ""
                    async for line in stream:
                        body += line + "\\n"
                    return body

                return collect
            """,
        after="""\
            import asyncio


            async def lines(items):
                for item in items:
                    yield item


            def make():
                async def collect(stream):
                    body_parts = []
                    async for line in stream:
                        body_parts.append(line + "\\n")
                    body = "".join(body_parts)
                    return body

                return collect
            """,
        call="asyncio.run(make()(lines(['a', 'b'])))",
    ),
]

NEGATIVE = [
    Case(
        "initial value is not a str literal (a list += would work too)",
        before="""\
            def build(prefix, parts):
                s = prefix
                for p in parts:
                    s += p
                return s
            """,
    ),
    Case(
        "bytes literal",
        before="""\
            def build(parts):
                s = b""
                for p in parts:
                    s += p
                return s
            """,
    ),
    Case(
        "the string is read in the loop",
        before="""\
            def build(parts):
                s = ""
                for p in parts:
                    if len(s) > 10:
                        break
                    s += p
                return s
            """,
    ),
    Case(
        "the string is reassigned in the loop",
        before="""\
            def build(parts):
                s = ""
                for p in parts:
                    s += p
                    s = s.strip()
                return s
            """,
    ),
    Case(
        "a generator",
        before="""\
            def build(parts):
                s = ""
                for p in parts:
                    s += p
                    yield p
                return s
            """,
    ),
    Case(
        "global string",
        before="""\
            s = ""


            def build(parts):
                global s
                s = ""
                for p in parts:
                    s += p
                return s
            """,
    ),
    Case(
        "read by a nested function",
        before="""\
            def build(parts, log):
                s = ""
                show = lambda: log(s)
                for p in parts:
                    s += p
                    show()
                return s
            """,
    ),
    Case(
        "+= inside a try in the loop (the TypeError would move)",
        before="""\
            def build(parts):
                s = ""
                for p in parts:
                    try:
                        s += p
                    except TypeError:
                        pass
                return s
            """,
    ),
    Case(
        "loop inside a try: a caught exception would see the string unbuilt",
        before="""\
            def build(parts):
                try:
                    s = ""
                    for p in parts:
                        s += p
                except TypeError:
                    return None
                return s
            """,
    ),
    Case(
        "the loop's else uses the string",
        before="""\
            def build(parts):
                s = ""
                for p in parts:
                    s += p
                else:
                    s += "."
                return s
            """,
    ),
    Case(
        "the string is used between its init and the loop",
        before="""\
            def build(parts, log):
                s = ""
                log(s)
                for p in parts:
                    s += p
                return s
            """,
    ),
    Case(
        "the string is never read after the loop",
        before="""\
            def build(parts):
                s = ""
                for p in parts:
                    s += p
            """,
    ),
    Case(
        "another operator on the string in the loop",
        before="""\
            def build(parts):
                s = ""
                for p in parts:
                    s += p
                    s *= 2
                return s
            """,
    ),
]


@pytest.mark.parametrize("case", POSITIVE + NEGATIVE, ids=str)
def test_join_string_concat(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("join-string-concat"), case, tmp_path)


GUARDED = """\
    def f(parts):
        s = ""
        for p in parts:
            s += p
        return s
    """
GOOD = """\
    def f(parts):
        s_parts = []
        for p in parts:
            s_parts.append(p)
        s = "".join(s_parts)
        return s
    """


def test_guard_accepts_the_joined_parts() -> None:
    """The rewrite the transform makes passes its own guard."""
    assert guard_verdict("join-string-concat", GUARDED, GOOD) is None


JOIN = '        s = "".join(s_parts)\n'
BAD = {
    "cleared": GOOD.replace("        return s", "        s_parts.clear()\n        return s"),
    "never joined": GOOD.replace(JOIN, "").replace("return s", "return s_parts"),
    "joined before the loop": GOOD.replace(JOIN, "").replace(
        "        for p", JOIN + "        for p"
    ),
    "joined twice": GOOD.replace(JOIN, JOIN + JOIN),
}


@pytest.mark.parametrize("name", BAD)
def test_guard_refuses_other_uses_of_the_parts(name: str) -> None:
    """The list may only be appended to in the loop and joined once, right after it."""
    assert guard_verdict("join-string-concat", GUARDED, BAD[name]) is not None
