"""operator-key-getter (PP123): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

CASES = [
    Case(
        "sorted-by-first-item-adds-the-import",
        """\
        def by_score(rows):
            return sorted(rows, key=lambda r: r[0])
        """,
        """\
        from operator import itemgetter


        def by_score(rows):
            return sorted(rows, key=itemgetter(0))
        """,
        call="by_score([(2, 'b'), (1, 'a'), (2, 'a')])",
    ),
    Case(
        "tuple-of-items-and-string-keys",
        """\
        import operator


        def best(records):
            return max(records, key=lambda r: (r['score'], r[-1]))
        """,
        """\
        import operator


        def best(records):
            return max(records, key=operator.itemgetter('score', -1))
        """,
        call="best([{'score': 1, -1: 'x'}, {'score': 3, -1: 'y'}, {'score': 3, -1: 'z'}])",
    ),
    Case(
        "attribute-path-in-list-sort",
        """\
        from operator import attrgetter


        class Registry:
            def __init__(self, items):
                self._priority = list(items)

            def sort(self):
                self._priority.sort(key=lambda item: item.priority, reverse=True)
                return [i.name for i in self._priority]

            def first(self):
                return min(self._priority, key=lambda item: item.meta.rank)
        """,
        """\
        from operator import attrgetter


        class Registry:
            def __init__(self, items):
                self._priority = list(items)

            def sort(self):
                self._priority.sort(key=attrgetter("priority"), reverse=True)
                return [i.name for i in self._priority]

            def first(self):
                return min(self._priority, key=lambda item: item.meta.rank)
        """,
        call=(
            "Registry(__import__('types').SimpleNamespace(name=n, priority=p) for n, p in"
            " [('a', 1), ('b', 5), ('c', 5)]).sort()"
        ),
    ),
    Case(
        "unknown-caller-is-unsafe",
        """\
        def group(rows, key):
            return {key(r): r for r in rows}


        def by_name(rows):
            return group(rows, key=lambda r: r.name)
        """,
        """\
        from operator import attrgetter


        def group(rows, key):
            return {key(r): r for r in rows}


        def by_name(rows):
            return group(rows, key=attrgetter("name"))
        """,
        applicability=Applicability.UNSAFE,
        call="sorted(by_name([__import__('types').SimpleNamespace(name='a')]))",
    ),
    # Should not fire.
    Case(
        "computed-keys-and-calls",
        """\
        def f(rows, i):
            return (
                sorted(rows, key=lambda r: r[i]),
                sorted(rows, key=lambda r: r[0] + 1),
                sorted(rows, key=lambda r: r.name()),
                sorted(rows, key=lambda r: (r[0],)),
                sorted(rows, key=lambda r, k=1: r[k]),
                sorted(rows, key=lambda r: r[0:2]),
                sorted(rows, key=lambda r: (r[0], r.x)),
                sorted(rows, key=lambda r: r.__class__),
                sorted(rows, key=len),
            )
        """,
    ),
    Case(
        "name-taken-for-something-else",
        """\
        itemgetter = None


        def f(rows):
            return sorted(rows, key=lambda r: r[0])
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_operator_key_getter(case: Case, tmp_path: Path) -> None:
    """Each case through the real pipeline: find, rewrite, validate, compare behaviour."""
    run_case(skill_named("operator-key-getter"), case, tmp_path)
