"""PP110 inline-trivial-method: before/after pairs and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

LEXER = """\
    class _Lexer:
        def __init__(self, text):
            self.text = text

        def words(self):
            out = []
            for c in self.text:
                if self.isword(c):
                    out.append(c)
                elif self.isnum(c):
                    out.append("#")
            return "".join(out)

        @classmethod
        def isword(cls, nextchar):
            \"\"\"Whether the character is part of a word.\"\"\"
            return nextchar.isalpha()

        @classmethod
        def isnum(cls, nextchar):
            return nextchar.isdigit()
    """

# LEXER with both classmethod calls inlined.
INLINED = LEXER.replace("if self.isword(c):", "if c.isalpha():").replace(
    "elif self.isnum(c):", "elif c.isdigit():"
)

# setattr calls that cannot patch _Lexer's methods (dateutil's parser has both kinds).
SETATTRS = """\


    class _Result:
        __slots__ = ("hour", "stdoffset", "dstoffset")

        def __init__(self):
            for attr in self.__slots__:
                setattr(self, attr, None)


    def offset(res, dst):
        name = "stdoffset"
        if dst:
            name = "dstoffset"
        setattr(res, name, 3600)
    """

# A private class whose parse() calls clean(); PARSER adds a trivial clean() that the cases
# below must leave alone, for the reason each names.
PARSE_CALLS_CLEAN = """\
            class _Parser:
                def parse(self, text):
                    return self.clean(text)

"""
PARSER = (
    PARSE_CALLS_CLEAN
    + """\
                def clean(self, text):
                    return text.strip()
"""
)

CASES = [
    Case(
        "classmethod wrappers of a private class: safe",
        before=LEXER,
        after=INLINED,
        applicability=Applicability.SAFE,
        call="_Lexer('ab1 c2').words()",
    ),
    Case(
        "setattr on an unrelated class's self, or with names a local proves (dateutil)",
        before=LEXER + SETATTRS,
        after=INLINED + SETATTRS,
        applicability=Applicability.SAFE,
    ),
    Case(
        "a class body that deletes the method",
        before=LEXER + "\n        del isnum\n        del isword\n",
    ),
    Case(
        "a public class may be subclassed elsewhere: unsafe",
        before="""\
            class Box:
                def __init__(self, size):
                    self.size = size

                def area(self):
                    return self.width() * self.width()

                def width(self):
                    return self.size + 2
            """,
        after="""\
            class Box:
                def __init__(self, size):
                    self.size = size

                def area(self):
                    return (self.size + 2) * (self.size + 2)

                def width(self):
                    return self.size + 2
            """,
        applicability=Applicability.UNSAFE,
        call="Box(3).area()",
    ),
    Case(
        "a non-trivial argument of p.method(): still evaluated first and once",
        before="""\
            class _Stash:
                def __init__(self, blocks):
                    self.blocks = blocks

                def text(self, i):
                    return self.as_text(self.blocks[i])

                def as_text(self, value):
                    return str(value)
            """,
        after="""\
            class _Stash:
                def __init__(self, blocks):
                    self.blocks = blocks

                def text(self, i):
                    return str(self.blocks[i])

                def as_text(self, value):
                    return str(value)
            """,
        applicability=Applicability.SAFE,
        call="_Stash([1, 'a']).text(0)",
    ),
    Case(
        "a bare-expression method is inlined where its value is unused",
        before="""\
            class _Parser:
                def parse(self, state, parts):
                    for hole in parts:
                        self.add(hole, state)
                    return state

                def add(self, text, state):
                    state.append({"type": "text", "raw": text})
            """,
        after="""\
            class _Parser:
                def parse(self, state, parts):
                    for hole in parts:
                        state.append({"type": "text", "raw": hole})
                    return state

                def add(self, text, state):
                    state.append({"type": "text", "raw": text})
            """,
        call="_Parser().parse([], ['a', 'b'])",
    ),
    Case(
        "a bare-expression method whose None is used: not inlined",
        before="""\
            class _Parser:
                def parse(self, state, text):
                    return self.add(text, state)

                def add(self, text, state):
                    state.append(text)
            """,
    ),
    Case(
        "overridden by a subclass in the module",
        before=LEXER
        + """\


    class _Other(_Lexer):
        @classmethod
        def isword(cls, nextchar):
            return nextchar.isalnum()

        @classmethod
        def isnum(cls, nextchar):
            return nextchar.isnumeric()
    """,
    ),
    Case(
        "replaced on an instance somewhere in the module",
        before=PARSER
        + """\


            def install(parser, hook):
                parser.clean = hook
            """,
    ),
    Case(
        "a setattr with a computed name may replace it",
        before=PARSER
        + """\


            def install(parser, name, hook):
                setattr(parser, name, hook)
            """,
    ),
    Case(
        "two statements in the method",
        before=PARSE_CALLS_CLEAN
        + """\
                def clean(self, text):
                    text = text.strip()
                    return text.lower()
            """,
    ),
    Case(
        "super() needs the method's class cell",
        before="""\
            class _Base:
                def name(self):
                    return "base"


            class _Parser(_Base):
                def parse(self):
                    return self.label()

                def label(self):
                    return super().name()
            """,
    ),
    Case(
        "the caller binds a name the method reads as a global",
        before="""\
            class _Parser:
                def parse(self, items):
                    len = 3
                    return [self.size(item) for item in items], len

                def size(self, item):
                    return len(item)
            """,
    ),
    Case(
        "a default parameter, a keyword argument, a non-simple argument of a 2-parameter method",
        before="""\
            class _Parser:
                def parse(self, text, more):
                    return self.clean(text), self.join(text=text), self.pair(text[1:], more)

                def clean(self, text, chars=None):
                    return text.strip(chars)

                def join(self, text):
                    return text + "!"

                def pair(self, a, b):
                    return a + b
            """,
    ),
    Case(
        "a class with __getattr__",
        before=PARSER
        + """\

                def __getattr__(self, name):
                    return name
            """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_inline_trivial_method(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("inline-trivial-method"), case, tmp_path)


def test_an_override_in_another_file_of_the_package_stops_it(tmp_path: Path) -> None:
    # markdown's md_in_html overrides RawHtmlPostprocessor.stash_to_string in another module.
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "ext.py").write_text(
        "from .module import _Lexer\n\n\nclass Ext(_Lexer):\n"
        "    @classmethod\n    def isnum(cls, c):\n        return c == '.'\n"
    )
    case = Case(
        "isword inlined, isnum (overridden in ext.py) kept",
        before=LEXER,
        after=LEXER.replace("if self.isword(c):", "if c.isalpha():"),
        applicability=Applicability.SAFE,
    )
    run_case(skill_named("inline-trivial-method"), case, tmp_path)


def test_an_instance_patch_in_another_file_stops_it(tmp_path: Path) -> None:
    # mistune's abbr plugin does `md.inline.process_text = types.MethodType(...)`.
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "plugin.py").write_text(
        "def install(lexer, hook):\n    lexer.isword = hook\n    lexer.isnum = hook\n"
    )
    run_case(skill_named("inline-trivial-method"), Case("patched", LEXER), tmp_path)
