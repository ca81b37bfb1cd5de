"""Planted behaviour changes are refused with the input that shows them (real captures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change
from tests.verify.conftest import FUNCS, FUNCS_TEXT, replaced

QUICK = VerifySettings(budget=2.0)

PLANTED = {
    "off-by-one": (
        "count_below",
        '''def count_below(values: list[int], limit: int) -> int:
    """How many values are below `limit`."""
    return sum(1 for value in values if value <= limit)
''',
        "return value",
    ),
    "swallowed exception": (
        "parse_port",
        '''def parse_port(text: str) -> int:
    """A port number; ValueError when `text` is not one."""
    try:
        port = int(text)
    except ValueError:
        return 0
    if not 0 < port < 65536:
        raise ValueError(f"port out of range: {port}")
    return port
''',
        "exception",
    ),
    "mutated argument": (
        "total",
        '''def total(items: list[int]) -> int:
    """The sum of the items."""
    items.sort()
    return sum(items)
''',
        "argument mutation",
    ),
    "changed float": (
        "summarize",
        '''def summarize(values: list[float]) -> Stats:
    """Count and mean of the values."""
    return Stats(len(values), sum(values) // len(values))
''',
        "return value",
    ),
    "memoize with mutable arguments": (
        "longest",
        '''@__import__("functools").lru_cache(maxsize=None)
def longest(words: list[str]) -> str:
    """The longest word (the first one on ties)."""
    return max(words, key=len) if words else ""
''',
        "exception",
    ),
    "changed output": (
        "shout",
        '''def shout(name: str) -> int:
    """Print the name loudly; return its length."""
    print(name.lower())
    return len(name)
''',
        "output",
    ),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_planted_change_is_refused_with_the_input_that_shows_it(plant: Path, case: str) -> None:
    name, new, aspect = PLANTED[case]
    fixed = replaced(FUNCS_TEXT, name, new)
    verdict = verify_change(plant, str(plant / FUNCS), name, FUNCS_TEXT, fixed, QUICK)
    assert verdict.kind is VerdictKind.DIFFERS, verdict.summary
    difference = verdict.difference
    assert difference is not None and difference.aspect == aspect, verdict.summary
    assert difference.input and difference.original != difference.fixed
    assert f"{name}({difference.input})" in verdict.summary
    assert verdict.calls > 1


def test_a_behaviour_preserving_rewrite_is_not_refused(plant: Path) -> None:
    new = '''def count_below(values: list[int], limit: int) -> int:
    """How many values are below `limit`."""
    return sum(1 for value in values if value < limit)
'''
    fixed = replaced(FUNCS_TEXT, "count_below", new)
    verdict = verify_change(plant, str(plant / FUNCS), "count_below", FUNCS_TEXT, fixed, QUICK)
    assert verdict.kind in (VerdictKind.FASTER, VerdictKind.NOT_FASTER), verdict.summary
    assert verdict.speed is not None and verdict.speed.calls == verdict.calls == 64


def test_float_results_within_the_documented_tolerance_are_equal(plant: Path) -> None:
    new = '''def summarize(values: list[float]) -> Stats:
    """Count and mean of the values."""
    return Stats(len(values), sum(reversed(values)) / len(values))
'''
    fixed = replaced(FUNCS_TEXT, "summarize", new)
    verdict = verify_change(plant, str(plant / FUNCS), "summarize", FUNCS_TEXT, fixed, QUICK)
    assert verdict.kind is not VerdictKind.DIFFERS, verdict.summary


def test_a_function_that_disagrees_with_itself_is_nondeterministic(plant: Path) -> None:
    new = '''def jitter(value: float) -> float:
    """The value with a little noise."""
    return random.random() + value
'''
    fixed = replaced(FUNCS_TEXT, "jitter", new)
    verdict = verify_change(plant, str(plant / FUNCS), "jitter", FUNCS_TEXT, fixed, QUICK)
    assert verdict.kind is VerdictKind.NONDETERMINISTIC, verdict.summary


def test_without_a_capture_the_verdict_says_how_to_get_one(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text("def f(x):\n    return x\n")
    verdict = verify_change(
        tmp_path, str(path), "f", path.read_text(), "def f(x):\n    return x + 0\n"
    )
    assert verdict.kind is VerdictKind.UNVERIFIED
    assert "perfpilot capture --functions mod.py::f" in verdict.summary
