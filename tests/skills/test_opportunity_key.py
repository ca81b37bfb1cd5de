"""An opportunity's key numbers what `find` reported; `rewrite` and `guard` find it again."""

from __future__ import annotations

import pytest

from perfpilot.skills.api import Opportunity
from perfpilot.tools.model import Applicability


def opportunity(key: str) -> Opportunity:
    return Opportunity(key, "title", "evidence", 1, 1, 1, 2, Applicability.SAFE)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("any#0", "a"), ("re.match#2", "c"), ("literal#3", None), ("any", None), ("x#-1", None),
     ("x#1a", None), ("x#", None)],
)  # fmt: skip
def test_numbered_finds_the_item_or_says_it_is_gone(key: str, expected: str | None) -> None:
    assert opportunity(key).numbered(["a", "b", "c"]) == expected
