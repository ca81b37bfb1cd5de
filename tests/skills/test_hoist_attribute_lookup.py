"""hoist-attribute-lookup (PP124): before/after pairs, behaviour checks, should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.skills.harness import Case, guard_verdict, run_case, skill_named

CASES = [
    Case(
        # pygments 2.18.0 JsonLexer.get_tokens_unprocessed: class-level sets tested per
        # character (an instance lookup that misses the instance and finds the class).
        "class-attribute-sets-in-a-generator",
        """\
        class Lexer:
            digits = set("0123456789")
            spaces = {" ", "\\n"}

            def tokens(self, text):
                start = 0
                for stop, ch in enumerate(text):
                    if ch in self.digits:
                        continue
                    if ch in self.spaces:
                        yield text[start:stop]
                        start = stop + 1
                yield text[start:]
        """,
        """\
        class Lexer:
            digits = set("0123456789")
            spaces = {" ", "\\n"}

            def tokens(self, text):
                start = 0
                digits = self.digits
                spaces = self.spaces
                for stop, ch in enumerate(text):
                    if ch in digits:
                        continue
                    if ch in spaces:
                        yield text[start:stop]
                        start = stop + 1
                yield text[start:]
        """,
        call="list(Lexer().tokens('ab 12 c\\nd')), list(Lexer().tokens(''))",
    ),
    Case(
        # markdown 3.7 RawHtmlPostprocessor.run: `self.md.htmlStash` twice per pass, a
        # method's receiver once; the subscript store into `self.seen` keeps `self.seen`.
        "chains-receivers-and-subscript-stores",
        """\
        class Post:
            def __init__(self, md):
                self.md = md
                self.seen = {}

            def run(self, n):
                out = []
                for i in range(n):
                    html = self.md.stash.blocks[i]
                    self.seen[i] = self.md.stash.key(i)
                    out.append(html)
                return out, self.seen
        """,
        """\
        class Post:
            def __init__(self, md):
                self.md = md
                self.seen = {}

            def run(self, n):
                out = []
                md_stash_blocks = self.md.stash.blocks
                seen = self.seen
                md_stash = self.md.stash
                for i in range(n):
                    html = md_stash_blocks[i]
                    seen[i] = md_stash.key(i)
                    out.append(html)
                return out, self.seen
        """,
        call=(
            "Post(type('M', (), {'stash': type('S', (), {'blocks': [1, 2, 3],"
            " 'key': lambda self, i: i * 2})()})()).run(3)"
        ),
    ),
    Case(
        "while-test-and-module-attributes",
        """\
        import string


        def count(self, text):
            i = n = 0
            while i < self.limit:
                if text[i] in string.digits:
                    n += 1
                i += 1
            return n
        """,
        """\
        import string


        def count(self, text):
            i = n = 0
            limit = self.limit
            string_digits = string.digits
            while i < limit:
                if text[i] in string_digits:
                    n += 1
                i += 1
            return n
        """,
        call="count(type('C', (), {'limit': 4})(), 'a1b2c3')",
    ),
    # Should not fire.
    Case(
        "the-loop-assigns-the-attribute",
        """\
        def f(self, items):
            for item in items:
                self.total = self.total + item
            return self.total
        """,
    ),
    Case(
        "the-loop-assigns-through-a-prefix",
        """\
        def f(self, items):
            for item in items:
                self.state = item
                print(self.state.name)
        """,
    ),
    Case(
        # sqlparse 0.5.1 StatementSplitter.process: `self._reset()` rebinds `self.tokens`;
        # a hoisted `self.tokens` yielded statements holding the wrong list (verify caught it).
        "a-method-of-the-module-rebinds-the-attribute",
        """\
        class Splitter:
            def __init__(self):
                self.tokens = []

            def _reset(self):
                self.tokens = []

            def process(self, stream):
                for token in stream:
                    if token == ";":
                        yield self.tokens
                        self._reset()
                    else:
                        self.tokens.append(token)
        """,
    ),
    Case(
        # PyYAML 6.0.2 Scanner.scan_plain: `self.forward()` is its Reader mixin's (another
        # module) and moves `self.column`; a hoisted `self.column` went stale (verify caught it).
        "a-method-this-module-does-not-define-is-called-on-the-root",
        """\
        class Scanner:
            def scan(self, length):
                marks = []
                for _ in range(length):
                    marks.append(self.column)
                    self.forward()
                return marks
        """,
    ),
    Case(
        "the-root-changes-every-pass",
        """\
        def f(nodes):
            total = 0
            for node in nodes:
                total += node.size
            return total
        """,
    ),
    Case(
        "a-method-of-self-is-left-to-local-alias",
        """\
        def f(self, items):
            for item in items:
                self.emit(item)
        """,
    ),
    Case(
        "setattr-in-the-loop",
        """\
        def f(self, items):
            out = []
            for item in items:
                setattr(self, "limit", item)
                out.append(self.limit)
            return out
        """,
    ),
    Case(
        "only-inside-a-nested-lambda",
        """\
        def f(self, items):
            return [g() for g in (lambda: self.limit for _ in items)]
        """,
    ),
    Case(
        "async-for",
        """\
        async def f(self, items):
            async for item in items:
                print(self.limit)
        """,
    ),
    Case(
        "a-local-bound-only-after-the-loop",
        """\
        def f(items, flag):
            for item in items:
                if flag:
                    print(conf.limit)
            conf = items
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("hoist-attribute-lookup"), case, tmp_path)


def test_guard_refuses_a_rewrite_that_still_reads_the_chain_in_the_loop() -> None:
    before = """\
    def f(self, items):
        for item in items:
            print(self.limit, item)
    """
    kept = """\
    def f(self, items):
        limit = self.limit
        for item in items:
            print(self.limit, item)
    """
    assert guard_verdict("hoist-attribute-lookup", before, kept) is not None


def test_guard_accepts_a_chain_also_assigned_to_another_local_before_the_loop() -> None:
    # textwrap.TextWrapper._wrap_chunks: `indent = self.initial_indent` before the loop is
    # not the hoist (the loop rebinds `indent`); the fix's own local is.
    before = """\
    def f(self, items):
        indent = self.lead
        out = []
        for item in items:
            out.append(self.lead + item)
            indent = item
        return out, indent
    """
    fixed = """\
    def f(self, items):
        indent = self.lead
        out = []
        lead = self.lead
        for item in items:
            out.append(lead + item)
            indent = item
        return out, indent
    """
    assert guard_verdict("hoist-attribute-lookup", before, fixed) is None


def test_guard_refuses_a_local_bound_inside_the_loop() -> None:
    before = """\
    def f(self, items):
        for item in items:
            print(self.limit, item)
    """
    inside = """\
    def f(self, items):
        for item in items:
            limit = self.limit
            print(limit, item)
    """
    assert guard_verdict("hoist-attribute-lookup", before, inside) is not None
