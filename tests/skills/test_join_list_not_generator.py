"""PP112 join-list-not-generator: before/after pairs and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.skills.harness import Case, run_case, skill_named

CASES = [
    Case(
        "a regex alternation joined from a generator (mistune's _parse_list_item)",
        before="""\
            def alternation(pairs):
                return "|".join(r"(?P<%s>%s)" % pair for pair in pairs if pair[1])
            """,
        after="""\
            def alternation(pairs):
                return "|".join([r"(?P<%s>%s)" % pair for pair in pairs if pair[1]])
            """,
        call="alternation([('a', 'x'), ('b', ''), ('c', 'y')])",
    ),
    Case(
        "a multi-line generator keeps its layout; nested fors",
        before="""\
            def grid(rows):
                return "\\n".join(
                    str(cell)
                    for row in rows
                    for cell in row
                )
            """,
        after="""\
            def grid(rows):
                return "\\n".join([
                    str(cell)
                    for row in rows
                    for cell in row
                ])
            """,
        call="grid([[1, 2], [3]])",
    ),
    Case(
        "bytes join builds a list too",
        before="""\
            def pack(parts):
                return b"".join(p.encode() for p in parts)
            """,
        after="""\
            def pack(parts):
                return b"".join([p.encode() for p in parts])
            """,
        call="pack(['a', 'b'])",
    ),
    Case(
        "the receiver may be any object's join",
        before="""\
            import os


            def paths(sep, parts):
                return sep.join(p for p in parts), os.path.join(*(p for p in parts))
            """,
    ),
    Case(
        "already a list",
        before="""\
            def csv(items):
                return ",".join([str(i) for i in items])
            """,
    ),
    Case(
        "an async generator: join raises on it",
        before="""\
            async def collect(stream):
                return "".join(x async for x in stream)
            """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_join_list_not_generator(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("join-list-not-generator"), case, tmp_path)
