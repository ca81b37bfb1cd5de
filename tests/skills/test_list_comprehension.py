"""PP106 list-comprehension: before/after pairs and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, guard_verdict, run_case, skill_named

POSITIVE = [
    Case(
        "plain append loop (enrich_all)",
        before="""\
            def enrich_all(records, enricher):
                enriched = []
                for record in records:
                    enriched.append(enricher(record))
                return enriched
            """,
        after="""\
            def enrich_all(records, enricher):
                enriched = [enricher(record) for record in records]
                return enriched
            """,
        call="enrich_all([1, 2, 3], str)",
    ),
    Case(
        "append under one if",
        before="""\
            def evens(numbers):
                out = []
                for n in numbers:
                    if n % 2 == 0:
                        out.append(n * n)
                return out
            """,
        after="""\
            def evens(numbers):
                out = [n * n for n in numbers if n % 2 == 0]
                return out
            """,
        call="evens(range(7))",
    ),
    Case(
        "nested loops and a condition, tuple target",
        before="""\
            def cells(rows):
                found = []
                for number, row in enumerate(rows):
                    for cell in row:
                        if cell:
                            found.append((number, cell))
                return found
            """,
        after="""\
            def cells(rows):
                found = [(number, cell) for number, row in enumerate(rows) for cell in row if cell]
                return found
            """,
        call="cells([['a', ''], [], ['b', 'c']])",
    ),
    Case(
        "too long for one line: one clause a line (as ruff formats it)",
        before="""\
            def describe_all(records, formatter):
                descriptions = []
                for record in records:
                    if record.get("status", 0) >= 500 and record.get("route"):
                        descriptions.append(formatter(record["route"], record["status"]))
                return descriptions
            """,
        after="""\
            def describe_all(records, formatter):
                descriptions = [
                    formatter(record["route"], record["status"])
                    for record in records
                    if record.get("status", 0) >= 500 and record.get("route")
                ]
                return descriptions
            """,
        call="describe_all([{'status': 503, 'route': '/a'}, {'status': 200}], '{} {}'.format)",
    ),
    Case(
        "comment on the list's line and odd spacing kept, one-line loop",
        before="""\
            def squares(xs):
                # the squares, in order
                out=[ ]  # filled below
                for x in xs: out.append( x*x )
                return out
            """,
        after="""\
            def squares(xs):
                # the squares, in order
                out=[x*x for x in xs]  # filled below
                return out
            """,
        call="squares([1, 2, 3])",
    ),
    Case(
        "method of a class",
        before="""\
            class Table:
                def __init__(self, rows):
                    self.rows = rows

                def names(self):
                    names = []
                    for row in self.rows:
                        names.append(row["name"].title())
                    return names
            """,
        after="""\
            class Table:
                def __init__(self, rows):
                    self.rows = rows

                def names(self):
                    names = [row["name"].title() for row in self.rows]
                    return names
            """,
        call="Table([{'name': 'ada'}, {'name': 'bob'}]).names()",
    ),
    Case(
        "nested function reading an enclosing variable, generator element parenthesized",
        before="""\
            def make(scale):
                def scaled(rows):
                    out = []
                    for row in rows:
                        out.append(v * scale for v in row)
                    return out

                return scaled
            """,
        after="""\
            def make(scale):
                def scaled(rows):
                    out = [(v * scale for v in row) for row in rows]
                    return out

                return scaled
            """,
        call="[list(g) for g in make(2)([[1, 2], [3]])]",
    ),
    Case(
        "conditional expression as the iterable gets parentheses",
        before="""\
            def pick(a, b, flag):
                out = []
                for x in a if flag else b:
                    out.append(x + 1)
                return out
            """,
        after="""\
            def pick(a, b, flag):
                out = [x + 1 for x in (a if flag else b)]
                return out
            """,
        call="(pick([1], [2, 3], True), pick([1], [2, 3], False))",
    ),
    Case(
        "async function with a plain for loop",
        before="""\
            import asyncio


            async def labels(items):
                out = []
                for item in items:
                    out.append(f"<{item}>")
                await asyncio.sleep(0)
                return out
            """,
        after="""\
            import asyncio


            async def labels(items):
                out = [f"<{item}>" for item in items]
                await asyncio.sleep(0)
                return out
            """,
        call="asyncio.run(labels(['a', 'b']))",
    ),
    Case(
        "inside a with: an exception could be swallowed mid-loop, unsafe",
        before="""\
            import contextlib


            def lengths(words):
                with contextlib.suppress(TypeError):
                    sizes = []
                    for w in words:
                        sizes.append(len(w))
                    return sizes
                return None
            """,
        after="""\
            import contextlib


            def lengths(words):
                with contextlib.suppress(TypeError):
                    sizes = [len(w) for w in words]
                    return sizes
                return None
            """,
        applicability=Applicability.UNSAFE,
        call="(lengths(['ab', 'c']), lengths(['a', 1]))",
    ),
]

POSITIVE += [
    Case(
        "the loop variable is reused by a later loop and a comprehension, which rebind it",
        before="""\
            def split(xs, ys):
                a = []
                for x in xs:
                    a.append(x)
                b = []
                for x in ys:
                    b.append(-x)
                return a, b, [x * 2 for x in ys]
            """,
        after="""\
            def split(xs, ys):
                a = [x for x in xs]
                b = []
                for x in ys:
                    b.append(-x)
                return a, b, [x * 2 for x in ys]
            """,
        call="(split([1, 2], [3]), split([1], []))",
    ),
]

POSITIVE += [
    Case(
        "multi-line condition with a backslash keeps its shape (file not formatted)",
        before="""\
            import os


            def hidden(path):
                result = []
                for entry in os.listdir(path):
                    if len(entry) > 1 and entry[0] == '.' and \\
                       os.path.isdir(os.path.join(path, entry)):
                        result.append(entry[1:])
                return result
            """,
        after="""\
            import os


            def hidden(path):
                result = [
                    entry[1:]
                    for entry in os.listdir(path)
                    if len(entry) > 1 and entry[0] == '.' and
                       os.path.isdir(os.path.join(path, entry))
                ]
                return result
            """,
        call="hidden('/')",
    ),
]

NEGATIVE = [
    Case(
        "a later loop rebinds the variable, but it is read after that loop (maybe empty)",
        before="""\
            def last(xs, ys):
                a = []
                for x in xs:
                    a.append(x)
                for x in ys:
                    pass
                return a, x
            """,
    ),
    Case(
        "the variable is read by a lambda's default after the loop",
        before="""\
            def last(xs):
                a = []
                for x in xs:
                    a.append(x)
                return a, (lambda x=x: x)
            """,
    ),
    Case(
        "module-level and class-body loops are not function scope",
        before="""\
            out = []
            for x in range(3):
                out.append(x)


            class K:
                items = []
                for x in range(3):
                    items.append(x)
            """,
    ),
    Case(
        "the loop variable is used after the loop",
        before="""\
            def last(xs):
                out = []
                for x in xs:
                    out.append(x)
                return out, x
            """,
    ),
    Case(
        "the list is read in the loop",
        before="""\
            def unique(xs):
                out = []
                for x in xs:
                    if x not in out:
                        out.append(x)
                return out
            """,
    ),
    Case(
        "two statements in the loop",
        before="""\
            def both(xs, log):
                out = []
                for x in xs:
                    log(x)
                    out.append(x)
                return out
            """,
    ),
    Case(
        "if with an else",
        before="""\
            def signs(xs):
                out = []
                for x in xs:
                    if x > 0:
                        out.append(1)
                    else:
                        out.append(-1)
                return out
            """,
    ),
    Case(
        "for-else",
        before="""\
            def copy(xs):
                out = []
                for x in xs:
                    out.append(x)
                else:
                    pass
                return out
            """,
    ),
    Case(
        "a comment in the loop would be lost",
        before="""\
            def copy(xs):
                out = []
                for x in xs:
                    # keep every item
                    out.append(x)
                return out
            """,
    ),
    Case(
        "a generator's yield in the loop",
        before="""\
            def copy(xs):
                out = []
                for x in xs:
                    out.append((yield x))
                return out
            """,
    ),
    Case(
        "await in the loop",
        before="""\
            async def fetch_all(fetch, urls):
                out = []
                for url in urls:
                    out.append(await fetch(url))
                return out
            """,
    ),
    Case(
        "async for",
        before="""\
            async def collect(stream):
                out = []
                async for item in stream:
                    out.append(item)
                return out
            """,
    ),
    Case(
        "walrus in the element",
        before="""\
            def running(xs):
                total = 0
                out = []
                for x in xs:
                    out.append(total := total + x)
                return out, total
            """,
    ),
    Case(
        "zero-argument super() breaks inside a comprehension (3.11)",
        before="""\
            class A:
                def f(self, x):
                    return x


            class B(A):
                def g(self, xs):
                    out = []
                    for x in xs:
                        out.append(super().f(x))
                    return out
            """,
    ),
    Case(
        "a statement between the empty list and the loop, a non-empty list, extend",
        before="""\
            def build(xs, log):
                a = []
                log(a)
                for x in xs:
                    a.append(x)
                b = [0]
                for x in xs:
                    b.append(x)
                c = []
                for x in xs:
                    c.extend(x)
                return a, b, c
            """,
    ),
    Case(
        "attribute as the loop target, parameter as the loop target",
        before="""\
            def build(self, xs, x):
                a = []
                for self.item in xs:
                    a.append(self.item)
                b = []
                for x in xs:
                    b.append(x)
                return a, b
            """,
    ),
]


@pytest.mark.parametrize("case", POSITIVE + NEGATIVE, ids=str)
def test_list_comprehension(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("list-comprehension"), case, tmp_path)


GUARDED = """\
    def f(xs):
        out = []
        for x in xs:
            if x > 0:
                out.append(x * 2)
        return out
    """


def test_guard_accepts_the_comprehension() -> None:
    """The rewrite the transform makes passes its own guard, whatever its layout."""
    good = """\
        def f(xs):
            out = [
                (x * 2)
                for x in xs
                if (x > 0)
            ]
            return out
        """
    assert guard_verdict("list-comprehension", GUARDED, good) is None


@pytest.mark.parametrize(
    "bad",
    [
        "def f(xs):\n    out = [x * 2 for x in xs if x >= 0]\n    return out\n",
        "def f(xs):\n    out = [x * 2 for x in xs]\n    return out\n",
        "def f(xs):\n    out = [x * 2 for x in xs if x > 0]\n    out = []\n"
        "    for x in xs:\n        if x > 0:\n            out.append(x * 2)\n    return out\n",
    ],
    ids=["other condition", "condition dropped", "loop kept"],
)
def test_guard_refuses_a_different_comprehension(bad: str) -> None:
    """The comprehension must compute exactly what the loop appended, and the loop go."""
    assert guard_verdict("list-comprehension", GUARDED, bad) is not None
