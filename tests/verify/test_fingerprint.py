"""Replay's "same bytes, same state" shortcut never hides a difference the comparison sees."""

from __future__ import annotations

import pickle
import re

from perfpilot.tools.verify import _fingerprint, _worker


class Cached:
    """Pickles without its cache (a `__getstate__` of its own), as many real classes do."""

    def __init__(self) -> None:
        self.name = "x"
        self._cache: dict[str, int] = {}

    def __getstate__(self) -> dict[str, object]:
        return {"name": self.name}


class Plain:
    """State in `__dict__`, pickled whole."""

    def __init__(self, pattern: str) -> None:
        self.compiled = re.compile(pattern)
        self.pattern = pattern
        self.items = [1, 2.5, "three"]


def test_same_state_is_settled_without_walking_it() -> None:
    # Two loads of the same state: re's cache makes the second load's pattern object share
    # the first load's string, so plain pickles differ; the fingerprints do not.
    data = pickle.dumps(Plain("a+b"))
    first, second = pickle.loads(data), pickle.loads(data)
    assert first.compiled is second.compiled and first.pattern is not second.pattern
    assert _fingerprint.certainly_equal(first, second)
    assert _worker.state_difference(first, second) is None


def test_a_change_pickling_would_not_show_is_still_found() -> None:
    first, second = Cached(), Cached()
    second._cache["x"] = 1  # the fix filled a cache the original did not
    assert pickle.dumps(first) == pickle.dumps(second)  # pickles cannot tell them apart
    assert not _fingerprint.certainly_equal(first, second)
    assert _worker.state_difference([first], [second]) == "[0]._cache: 0 keys vs 1"


def test_different_state_falls_back_to_the_comparison() -> None:
    first, second = Plain("a+b"), Plain("a+b")
    second.items[1] = 2.5 + 1e-13  # within the comparison's float tolerance
    assert not _fingerprint.certainly_equal(first, second)
    assert _worker.state_difference(first, second) is None
    second.items[2] = "four"
    assert _worker.state_difference(first, second) == ".items[2]"
