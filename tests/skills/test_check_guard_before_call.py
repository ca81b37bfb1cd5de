"""PP111 check-guard-before-call: before/after pairs and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, run_case, skill_named

REGISTRY = """\
    class Registry:
        def __init__(self):
            self._data = {}
            self._priority = []
            self._is_sorted = False

        def register(self, item, name, priority):
            self._data[name] = item
            self._priority.append((priority, name))
            self._is_sorted = False

        def __getitem__(self, key):
            # sort lazily: registering is rare, lookups are many
            self._sort()
            if isinstance(key, int):
                return self._data[self._priority[key][1]]
            return self._data[key]

        def _sort(self):
            \"\"\"Sort by priority, highest first.\"\"\"
            if not self._is_sorted:
                self._priority.sort(reverse=True)
                self._is_sorted = True
    """

GUARDED = REGISTRY.replace(
    """            self._sort()
            if isinstance""",
    """            if not self._is_sorted:
                self._sort()
            if isinstance""",
)

# A lookup that calls _sort() on every call: the cases below add a _sort the skill must leave.
LOOKUP = """\
            class Registry:
                def lookup(self, key):
                    self._sort()
                    return key

"""

CASES = [
    Case(
        "a lazy sort called on every lookup (markdown's Registry.__getitem__)",
        before=REGISTRY,
        after=GUARDED,
        applicability=Applicability.UNSAFE,
        call="[(r := Registry()).register('a', 'x', 1), r.register('b', 'y', 5), r[0], r['x']]",
    ),
    Case(
        "a private class, a parameter in the guard, identity tests",
        before="""\
            class _Cache:
                def __init__(self):
                    self.value = None

                def get(self, fresh):
                    self._fill(fresh)
                    return self.value

                def _fill(self, fresh):
                    if self.value is None or fresh:
                        self.value = [1, 2]
            """,
        after="""\
            class _Cache:
                def __init__(self):
                    self.value = None

                def get(self, fresh):
                    if self.value is None or fresh:
                        self._fill(fresh)
                    return self.value

                def _fill(self, fresh):
                    if self.value is None or fresh:
                        self.value = [1, 2]
            """,
        applicability=Applicability.SAFE,
        call="[(c := _Cache()).get(False), c.get(False), c.get(True)]",
    ),
    Case(
        "the guard reads a property: it may run code",
        before=LOOKUP
        + """\
                @property
                def ready(self):
                    return True

                def _sort(self):
                    if not self.ready:
                        pass
            """,
    ),
    Case(
        "the guard compares with ==: __eq__ may run code",
        before=LOOKUP
        + """\
                def _sort(self):
                    if self.state == "dirty":
                        self.state = "clean"
            """,
    ),
    Case(
        "an if with an else",
        before=LOOKUP
        + """\
                def _sort(self):
                    if not self.done:
                        self.done = True
                    else:
                        print("sorted")
            """,
    ),
    Case(
        "the call's value is used",
        before="""\
            class Registry:
                def lookup(self, key):
                    return self._sort()

                def _sort(self):
                    if not self.done:
                        self.done = True
            """,
    ),
    Case(
        "overridden by a subclass in the module",
        before=REGISTRY
        + """\


    class Loud(Registry):
        def _sort(self):
            print("sorting")
    """,
    ),
    Case(
        "already guarded by the same test",
        before=GUARDED,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_check_guard_before_call(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("check-guard-before-call"), case, tmp_path)
