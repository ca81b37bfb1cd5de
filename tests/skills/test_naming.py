"""Names the transforms invent: snake_case locals numbered per function, UPPER_CASE constants."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.skills.naming import snake_case, upper_case
from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

UNSAFE = Applicability.UNSAFE

# (skill, case): each `before` has the name a fix would like already used in *another*
# function, or a module constant whose set must still be a lower-case local.
CASES = [
    (
        "set-membership",
        Case(
            "an upper-case local's set is a snake_case local, not EOS_TTYPES_SET",
            before="""\
                def ends(tokens, kinds):
                    EOS_TTYPES = [k for k in kinds if k.startswith("End")]
                    return [t for t in tokens if t in EOS_TTYPES]
                """,
            after="""\
                def ends(tokens, kinds):
                    EOS_TTYPES = [k for k in kinds if k.startswith("End")]
                    eos_ttypes_set = set(EOS_TTYPES)
                    return [t for t in tokens if t in eos_ttypes_set]
                """,
            applicability=UNSAFE,
            call="ends(['EndA', 'Name', 'EndB'], ['EndA', 'Start'])",
        ),
    ),
    (
        "join-string-concat",
        Case(
            "`s_parts` in another function does not make this one `s_parts_2`",
            before="""\
                def first(words):
                    s_parts = list(words)
                    return s_parts


                def second(words):
                    s = ""
                    for word in words:
                        s += word
                    return s
                """,
            after="""\
                def first(words):
                    s_parts = list(words)
                    return s_parts


                def second(words):
                    s_parts = []
                    for word in words:
                        s_parts.append(word)
                    s = "".join(s_parts)
                    return s
                """,
            call="(first(['a']), second(['a', 'b']))",
        ),
    ),
    (
        "join-string-concat",
        Case(
            "a clash inside the function itself is still numbered",
            before="""\
                def second(words, s_parts):
                    s = ""
                    for word in words:
                        s += word
                    return s, s_parts
                """,
            after="""\
                def second(words, s_parts):
                    s_parts_2 = []
                    for word in words:
                        s_parts_2.append(word)
                    s = "".join(s_parts_2)
                    return s, s_parts
                """,
            call="second(['a', 'b'], 1)",
        ),
    ),
    (
        "hoist-loop-invariant",
        Case(
            "`len_rows` in another function does not make this one `len_rows_2`",
            before="""\
                def count(rows):
                    len_rows = len(rows)
                    return len_rows


                def scale(rows):
                    total = 0
                    for r in rows:
                        total += r * len(rows)
                    return total
                """,
            after="""\
                def count(rows):
                    len_rows = len(rows)
                    return len_rows


                def scale(rows):
                    total = 0
                    len_rows = len(rows)
                    for r in rows:
                        total += r * len_rows
                    return total
                """,
            call="(count([1]), scale([1, 2, 3]))",
        ),
    ),
    (
        "precompile-regex",
        Case(
            "a module constant avoids every name in the file, locals of other functions too",
            before="""\
                import re


                def other():
                    _CHECK_RE = 1
                    return _CHECK_RE


                def check(s):
                    return re.fullmatch("[0-9]+", s) is not None
                """,
            after="""\
                import re

                _CHECK_RE_2 = re.compile("[0-9]+")


                def other():
                    _CHECK_RE = 1
                    return _CHECK_RE


                def check(s):
                    return _CHECK_RE_2.fullmatch(s) is not None
                """,
            call="(other(), check('12'), check('x'))",
        ),
    ),
]


@pytest.mark.parametrize(("skill", "case"), CASES, ids=[str(c) for _, c in CASES])
def test_invented_names_follow_the_codes_conventions(
    skill: str, case: Case, tmp_path: Path
) -> None:
    run_case(skill_named(skill), case, tmp_path)


@pytest.mark.parametrize(
    ("text", "snake", "upper"),
    [
        ("EOS_TTYPES_set", "eos_ttypes_set", "EOS_TTYPES_SET"),
        ("parseLine", "parse_line", "PARSE_LINE"),
        ("HTTPServer", "http_server", "HTTP_SERVER"),
        ("knownIDs_set", "known_ids_set", "KNOWN_IDS_SET"),
        ("len_", "len_", "LEN"),
        ("_private", "private", "_PRIVATE"),
    ],
)
def test_case_conversions(text: str, snake: str, upper: str) -> None:
    assert snake_case(text) == snake
    assert upper_case(text) == upper
