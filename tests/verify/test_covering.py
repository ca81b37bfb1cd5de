"""Covering tests: found by really running pytest, run on a copy holding the fix."""

from __future__ import annotations

from pathlib import Path

from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change
from tests.verify.conftest import FUNCS, FUNCS_TEXT, make_plant, replaced
from tests.verify.test_replay import PLANTED

TESTS = """from plant.funcs import count_below, total


def test_count_below():
    assert count_below([1, 5, 9], 5) == 1


def test_count_below_empty():
    assert count_below([], 3) == 0


def test_total():
    assert total([1, 2]) == 3
"""
WITH_TESTS = VerifySettings(budget=1.0, tests=True, test_timeout=120)


def test_a_fix_that_breaks_a_covering_test_is_refused_naming_it(tmp_path: Path) -> None:
    root = make_plant(tmp_path / "ws")
    (root / "tests").mkdir()
    (root / "tests" / "test_funcs.py").write_text(TESTS)
    name, new, _ = PLANTED["off-by-one"]
    fixed = replaced(FUNCS_TEXT, name, new)
    verdict = verify_change(root, str(root / FUNCS), name, FUNCS_TEXT, fixed, WITH_TESTS)
    assert verdict.kind is VerdictKind.DIFFERS, verdict.summary
    assert "tests/test_funcs.py::test_count_below " in verdict.summary + " "
    assert verdict.tests is not None and set(verdict.tests.covering) == {
        "tests/test_funcs.py::test_count_below",
        "tests/test_funcs.py::test_count_below_empty",
    }
    assert verdict.tests.broken == ("tests/test_funcs.py::test_count_below",)
    assert (root / FUNCS).read_text() == FUNCS_TEXT  # the user's tree is untouched
    # A fix that keeps behaviour passes the same tests (from the cached discovery).
    good = replaced(
        FUNCS_TEXT,
        name,
        '''def count_below(values: list[int], limit: int) -> int:
    """How many values are below `limit`."""
    return sum(1 for value in values if value < limit)
''',
    )
    verdict = verify_change(root, str(root / FUNCS), name, FUNCS_TEXT, good, WITH_TESTS)
    assert verdict.kind is VerdictKind.UNVERIFIED, verdict.summary
    assert verdict.summary.endswith("; 2 covering tests pass"), verdict.summary
