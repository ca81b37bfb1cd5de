"""hoist-class-constant (PP120): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from perfpilot.skills.api import FunctionSource, parse_function
from perfpilot.tools.module_facts import facts_of_source
from tests.skills.harness import Case, opportunities, run_case, skill_named

CASES = [
    Case(
        "constants-in-a-while-loop",
        """\
        class Differ:
            DELETE = -1
            EQUAL = 0

            def count(self, diffs):
                pointer = 0
                deleted = 0
                # Walk the diffs.
                while pointer < len(diffs):
                    if diffs[pointer][0] == self.DELETE:
                        deleted += 1
                    elif diffs[pointer][0] != self.EQUAL:
                        deleted -= 1
                    pointer += 1
                return deleted
        """,
        """\
        class Differ:
            DELETE = -1
            EQUAL = 0

            def count(self, diffs):
                pointer = 0
                deleted = 0
                # Walk the diffs.
                delete = self.DELETE
                equal = self.EQUAL
                while pointer < len(diffs):
                    if diffs[pointer][0] == delete:
                        deleted += 1
                    elif diffs[pointer][0] != equal:
                        deleted -= 1
                    pointer += 1
                return deleted
        """,
        call="Differ().count([(-1, 'a'), (0, 'b'), (1, 'c'), (-1, 'd')])",
    ),
    Case(
        "set-constant-of-a-base-class-in-a-generator",
        """\
        class Base:
            whitespaces = set(' \\t\\n')


        class Lexer(Base):
            def words(self, text):
                start = 0
                for stop, character in enumerate(text):
                    if character in self.whitespaces:
                        if stop > start:
                            yield text[start:stop]
                        start = stop + 1
                if start < len(text):
                    yield text[start:]
        """,
        """\
        class Base:
            whitespaces = set(' \\t\\n')


        class Lexer(Base):
            def words(self, text):
                start = 0
                whitespaces = self.whitespaces
                for stop, character in enumerate(text):
                    if character in whitespaces:
                        if stop > start:
                            yield text[start:stop]
                        start = stop + 1
                if start < len(text):
                    yield text[start:]
        """,
        call="list(Lexer().words('a bc\\tdef  g'))",
    ),
    Case(
        "classmethod-nested-loops-and-a-taken-local-name",
        """\
        class Grid:
            SIZE = 3

            @classmethod
            def cells(cls, rows):
                size = []
                for row in rows:
                    for column in range(cls.SIZE):
                        size.append((row, column * cls.SIZE))
                return size
        """,
        """\
        class Grid:
            SIZE = 3

            @classmethod
            def cells(cls, rows):
                size = []
                size_2 = cls.SIZE
                for row in rows:
                    for column in range(size_2):
                        size.append((row, column * size_2))
                return size
        """,
        call="Grid.cells([1, 2])",
    ),
    # Should not fire.
    Case(
        "stored-elsewhere-in-the-module",
        """\
        class Counter:
            STEP = 1

            def faster(self):
                self.STEP = 2

            def total(self, items):
                n = 0
                for item in items:
                    n += self.STEP
                return n
        """,
    ),
    Case(
        "instance-attribute",
        """\
        class Counter:
            def __init__(self):
                self.step = 1

            def total(self, items):
                n = 0
                for item in items:
                    n += self.step
                return n
        """,
    ),
    Case(
        "method-property-and-function-valued-attribute",
        """\
        def helper(self):
            return 1


        class Counter:
            alias = helper

            @property
            def step(self):
                return 1

            def unit(self):
                return 1

            def total(self, items):
                n = 0
                for item in items:
                    n += self.step + self.unit() + self.alias()
                return n
        """,
    ),
    Case(
        "setattr-with-a-computed-name",
        """\
        class Counter:
            STEP = 1

            def total(self, items):
                n = 0
                for item in items:
                    n += self.STEP
                return n


        def configure(obj, name, value):
            setattr(obj, name, value)
        """,
    ),
    Case(
        "decorated-class",
        """\
        import dataclasses


        @dataclasses.dataclass
        class Counter:
            step: int = 1

            def total(self, items):
                n = 0
                for item in items:
                    n += self.step
                return n
        """,
    ),
    Case(
        "staticmethod-and-rebound-self",
        """\
        class Counter:
            STEP = 1

            @staticmethod
            def total(other, items):
                return [other.STEP for item in items]

            def chain(self, items):
                for item in items:
                    self = item
                    print(self.STEP)
        """,
    ),
    Case(
        "receiver-rebound-by-a-comprehension",
        """\
        class Counter:
            STEP = 1

            def total(self, others):
                out = []
                for group in others:
                    out.append([self.STEP for self in group])
                return out
        """,
    ),
    Case(
        "read-only-in-a-nested-function-or-before-the-loop",
        """\
        class Counter:
            STEP = 1

            def total(self, items):
                step = self.STEP
                return [lambda: self.STEP for item in items], step
        """,
    ),
    Case(
        "dunder-and-getattribute",
        """\
        class Counter:
            STEP = 1

            def __getattribute__(self, name):
                return object.__getattribute__(self, name)

            def total(self, items):
                return sum(self.STEP for item in items)
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hoist_class_constant(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("hoist-class-constant"), case, tmp_path)


def test_unsaved_function_is_not_proved(tmp_path: Path) -> None:
    """The proof reads the file: a function whose text is not on disk (unsaved) gets nothing."""
    case = CASES[0]
    text = textwrap.dedent(case.before)
    path = tmp_path / "module.py"
    path.write_text(text.replace("deleted -= 1", "deleted -= 2"))
    assert not opportunities(skill_named("hoist-class-constant"), text, path)
    path.write_text(text)
    assert opportunities(skill_named("hoist-class-constant"), text, path)


def test_guard_refuses_a_read_left_in_the_loop(tmp_path: Path) -> None:
    """A rewrite that still reads `self.K` in the loop is refused by the skill's own guard."""
    module = (
        "class C:\n    K = 1\n\n    def f(self, xs):\n"
        "        for x in xs:\n            print(x == self.K)\n"
    )
    method = module.split("\n\n", 1)[1]
    bad = (
        "    def f(self, xs):\n        k = self.K\n"
        "        for x in xs:\n            print(x == self.K, k)\n"
    )
    path = tmp_path / "m.py"
    path.write_text(module)
    source = FunctionSource(str(path), "C.f", 4, 6, method, facts_of_source(module), in_class=True)
    transform = skill_named("hoist-class-constant").transform
    assert transform is not None
    parsed = parse_function(source)
    (opportunity,) = transform.find(parsed)
    good = transform.rewrite(parsed, opportunity).function_text
    assert good is not None
    rewritten = parse_function(replace(source, text=good, end_line=7))
    assert transform.guard(parsed, rewritten, opportunity) is None
    rewritten = parse_function(replace(source, text=bad, end_line=7))
    assert "still reads K" in (transform.guard(parsed, rewritten, opportunity) or "")


def test_a_name_assigned_twice_in_the_class_is_no_constant(tmp_path: Path) -> None:
    """`A = ...` twice in a class body (optparse's HelpFormatter) crashed the proof.

    The runner logs a skill's exception and goes on, so this calls the skill's own `find`.
    """
    module = (
        "class C:\n    K = 1\n    K = 2\n    J = 3\n\n    def f(self, xs):\n"
        "        for x in xs:\n            print(x == self.K, x == self.J)\n"
    )
    method = module.split("\n\n", 1)[1]
    path = tmp_path / "m.py"
    path.write_text(module)
    source = FunctionSource(str(path), "C.f", 6, 8, method, facts_of_source(module), in_class=True)
    transform = skill_named("hoist-class-constant").transform
    assert transform is not None
    found = transform.find(parse_function(source))
    # J is still a constant; K, bound twice, is not.
    assert [o.title for o in found] and all("self.K" not in o.title for o in found)
