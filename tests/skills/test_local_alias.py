"""local-alias (PP107): before/after pairs, behaviour checks and should-not-fire cases.

Whether the skill fires depends on the target Python version, so each case names the version
its decision is made for (3.10 unless listed in VERSION): the results do not depend on the
interpreter running the tests.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from perfpilot.skills.registry import Skill
from perfpilot.skills.transform_loading import TransformLoader
from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

CASES = [
    Case(
        "method-of-a-local",
        """\
        def doubled(data):
            out = []
            for x in data:
                out.append(x * 2)
            return out
        """,
        """\
        def doubled(data):
            out = []
            append = out.append
            for x in data:
                append(x * 2)
            return out
        """,
        call="doubled([1, 2, 3])",
    ),
    Case(
        "module-attribute",
        """\
        import math


        def norm(xs):
            total = 0.0
            for x in xs:
                total += math.sqrt(x)
            return total
        """,
        """\
        import math


        def norm(xs):
            total = 0.0
            sqrt = math.sqrt
            for x in xs:
                total += sqrt(x)
            return total
        """,
        call="norm([1, 4, 9])",
    ),
    Case(
        "builtin-in-while-test",
        """\
        def drain(stack):
            n = 0
            while len(stack) > 1:
                n += stack.pop()
            return n
        """,
        """\
        def drain(stack):
            n = 0
            len_ = len
            while len_(stack) > 1:
                n += stack.pop()
            return n
        """,
        call="drain([1, 2, 3])",
    ),
    Case(
        "dotted-module-chain",
        """\
        import os.path


        def paths(names):
            found = []
            for name in names:
                found += [os.path.join("root", name)]
            return found
        """,
        """\
        import os.path


        def paths(names):
            found = []
            join = os.path.join
            for name in names:
                found += [join("root", name)]
            return found
        """,
        call="paths(['a', 'b'])",
    ),
    Case(
        "method-of-self-hoisted-above-nested-loops",
        """\
        class Grid:
            def weight(self, x):
                return x + 1

            def total(self, rows):
                total = 0
                for row in rows:
                    for x in row:
                        total += self.weight(x)
                return total
        """,
        """\
        class Grid:
            def weight(self, x):
                return x + 1

            def total(self, rows):
                total = 0
                weight = self.weight
                for row in rows:
                    for x in row:
                        total += weight(x)
                return total
        """,
        call="Grid().total([[1, 2], [3]])",
    ),
    Case(
        "comments-and-layout-kept",
        """\
        def collect(items, sink):
            # Copy every item.
            for item in items:  # hot
                sink.write(
                    item,  # as is
                )
        """,
        """\
        def collect(items, sink):
            # Copy every item.
            write = sink.write
            for item in items:  # hot
                write(
                    item,  # as is
                )
        """,
        call="(lambda s: (collect('ab', s), s.getvalue()))(__import__('io').StringIO())[1]",
    ),
    Case(
        "nested-function",
        """\
        def outer(words):
            def count(ws):
                n = 0
                for w in ws:
                    n += len(w)
                return n

            return count(words)
        """,
        """\
        def outer(words):
            def count(ws):
                n = 0
                len_ = len
                for w in ws:
                    n += len_(w)
                return n

            return count(words)
        """,
        call="outer(['ab', 'c'])",
    ),
    Case(
        "async-without-await-in-the-loop",
        """\
        import asyncio


        async def gather(xs):
            await asyncio.sleep(0)
            out = []
            for x in xs:
                out.append(x)
            return out
        """,
        """\
        import asyncio


        async def gather(xs):
            await asyncio.sleep(0)
            out = []
            append = out.append
            for x in xs:
                append(x)
            return out
        """,
        call="asyncio.run(gather([1, 2]))",
    ),
    Case(
        "alias-name-taken",
        """\
        def merge(parts, append):
            out = []
            for p in parts:
                out.extend(p)
            return out, append
        """,
        """\
        def merge(parts, append):
            out = []
            extend = out.extend
            for p in parts:
                extend(p)
            return out, append
        """,
        call="merge([[1], [2, 3]], 0)",
    ),
    Case(
        "alias-name-collision-numbered",
        """\
        def copy(rows, out):
            append = None
            for r in rows:
                out.append(r)
            return append
        """,
        """\
        def copy(rows, out):
            append = None
            append_2 = out.append
            for r in rows:
                append_2(r)
            return append
        """,
        call="(lambda o: (copy([1, 2], o), o))([])",
    ),
    Case(
        "local-assigned-before-an-if-and-the-loop",
        """\
        def evens(data):
            out = []
            if not data:
                return out
            while data:
                x = data.pop()
                if x % 2 == 0:
                    out.append(x)
            return out
        """,
        """\
        def evens(data):
            out = []
            if not data:
                return out
            append = out.append
            while data:
                x = data.pop()
                if x % 2 == 0:
                    append(x)
            return out
        """,
        call="evens([1, 2, 3, 4]), evens([])",
    ),
    Case(
        "module-attribute-on-3.11-display-only",
        """\
        import math


        def norm(xs):
            total = 0.0
            for x in xs:
                total += math.sqrt(x)
            return total
        """,
        """\
        import math


        def norm(xs):
            total = 0.0
            sqrt = math.sqrt
            for x in xs:
                total += sqrt(x)
            return total
        """,
        applicability=Applicability.DISPLAY_ONLY,
        call="norm([1, 4])",
    ),
    Case(
        "module-attribute-on-3.13",
        """\
        import math


        def floors(xs):
            for x in xs:
                last = math.floor(x)
            return last
        """,
        """\
        import math


        def floors(xs):
            floor = math.floor
            for x in xs:
                last = floor(x)
            return last
        """,
        call="floors([1.5, 2.5])",
    ),
    # Should not fire.
    Case(
        "method-on-3.11-measured-slower",
        """\
        def doubled(data):
            out = []
            for x in data:
                out.append(x * 2)
            return out
        """,
    ),
    Case(
        "builtin-on-3.12-measured-no-faster",
        """\
        def total(words):
            n = 0
            for w in words:
                n += len(w)
            return n
        """,
    ),
    Case(
        "base-rebound-in-the-loop",
        """\
        def chunks(data):
            out = []
            for x in data:
                out.append(x)
                out = out[-3:]
            return out
        """,
    ),
    Case(
        "attribute-assigned-in-the-loop",
        """\
        def run(handler, events, other):
            for e in events:
                handler.handle(e)
                handler.handle = other
        """,
    ),
    Case(
        "base-passed-to-a-call",
        """\
        def fill(out, data, log):
            for x in data:
                out.append(x)
                log(out)
        """,
    ),
    Case(
        "module-passed-to-a-call",
        """\
        import json


        def decode(texts, patch):
            for t in texts:
                json.loads(t)
                patch(json)
        """,
    ),
    Case(
        "generator",
        """\
        import math


        def roots(xs):
            for x in xs:
                yield math.sqrt(x)
        """,
    ),
    Case(
        "await-in-the-loop",
        """\
        import asyncio


        async def pump(queue, out):
            for _ in range(3):
                out.append(await queue.get())
                await asyncio.sleep(0)
        """,
    ),
    Case(
        "builtin-shadowed-in-module",
        """\
        def len(x):
            return 0


        def total(words):
            n = 0
            for w in words:
                n += len(w)
            return n
        """,
    ),
    Case(
        "local-not-bound-before-the-loop",
        """\
        def pairs(rows):
            for row in rows:
                for x in row:
                    acc.append(x)
                acc = []
        """,
    ),
    Case(
        "global-object-and-super",
        """\
        REGISTRY = []


        class Child(list):
            def add_all(self, xs):
                for x in xs:
                    REGISTRY.append(x)
                    super().append(x)
        """,
    ),
    Case(
        "locals-used",
        """\
        def report(xs, out):
            for x in xs:
                out.append(x)
            return locals()
        """,
    ),
    Case(
        "self-used-otherwise-in-the-loop",
        """\
        class Counter:
            def feed(self, xs):
                for x in xs:
                    self.add(x)
                    self.count += 1
        """,
    ),
]

VERSION = {
    "module-attribute-on-3.11-display-only": (3, 11),
    "method-on-3.11-measured-slower": (3, 11),
    "builtin-on-3.12-measured-no-faster": (3, 12),
    "module-attribute-on-3.13": (3, 13),
}


def skill_for(version: tuple[int, int]) -> Skill:
    """The built-in skill, deciding for `version` instead of the running interpreter."""
    skill = skill_named("local-alias")
    assert skill.transform is not None
    loader = TransformLoader.of(replace(skill.transform, python=version), skill.path)
    return replace(skill, loader=loader)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_local_alias(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_for(VERSION.get(case.name, (3, 10))), case, tmp_path)


def test_decides_for_the_running_interpreter_by_default() -> None:
    """Without an explicit target the decision is made for sys.version_info."""
    transform = skill_named("local-alias").transform
    assert transform is not None and transform.min_python == (3, 8)
    assert transform.target() == sys.version_info[:2]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("version", "kind", "claim"),
    [
        ((3, 9), "method", Applicability.UNSAFE),
        ((3, 10), "builtin", Applicability.UNSAFE),
        ((3, 11), "method", None),
        ((3, 11), "builtin", None),
        ((3, 12), "module-attribute", Applicability.DISPLAY_ONLY),
        ((3, 13), "module-attribute", Applicability.UNSAFE),
        ((3, 14), "module-attribute", None),  # never measured
    ],
)
def test_measured_decisions(
    version: tuple[int, int], kind: str, claim: Applicability | None
) -> None:
    """The per-version decisions the SKILL.md table documents."""
    transform = skill_for(version).transform
    assert transform.verdict(kind)[0] == claim  # type: ignore[union-attr]
