"""In-process verification: a method whose `self` cannot be pickled is judged on live calls."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from perfpilot.tools.verify.live import LiveRun
from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change
from tests.cli.test_check import perfpilot

LOOKUP = "lookup/store.py"
STORE = '''"""A store whose instances hold a lambda: they cannot be pickled."""

MISSING = None


class Counter:
    """Something the store counts into; it refuses deepcopy, like a lock."""

    def __init__(self) -> None:
        self.hits = []

    def __deepcopy__(self, memo):
        raise TypeError("cannot copy a Counter")


class Store:
    """Looks names up in objects, as a template engine does."""

    def __init__(self) -> None:
        self.key = lambda name: name.strip()
        self.counter = Counter()

    def lookup(self, obj, name):
        """An attribute of `obj`, else its item, else None."""
        try:
            return getattr(obj, name)
        except AttributeError:
            pass
        try:
            return obj[name]
        except (TypeError, LookupError):
            return None

    def count(self, name):
        """Count a lookup of `name` (into the shared, uncopyable counter)."""
        self.counter.hits.append(name)
        return len(self.counter.hits)
'''
FAST_LOOKUP = '''    def lookup(self, obj, name):
        """An attribute of `obj`, else its item, else None."""
        found = getattr(obj, name, _MISSING)
        if found is not _MISSING:
            return found
        try:
            return obj[name]
        except (TypeError, LookupError):
            return None
'''
WRONG_LOOKUP = '''    def lookup(self, obj, name):
        """An attribute of `obj`, else its item, else None."""
        try:
            return obj[name]
        except (TypeError, LookupError):
            return None
'''
MAIN = """from lookup.store import Store

store = Store()
rows = [{"name": f"n{i}", "size": i} for i in range(300)]
total = 0
for _ in range(40):
    for row in rows:
        total += len(store.lookup(row, "name")) + len(store.lookup("text", "upper")())
        store.count(row["name"])
print(total)
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A project whose hot method's `self` holds a lambda, and its workload."""
    (tmp_path / "lookup").mkdir()
    (tmp_path / "lookup" / "__init__.py").write_text("")
    (tmp_path / LOOKUP).write_text(STORE)
    (tmp_path / "main.py").write_text(MAIN)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'lookup'\n")
    return tmp_path


def with_method(text: str, method: str) -> str:
    """`text` with Store.lookup replaced by `method` (and the sentinel the fast one needs)."""
    start = text.index("    def lookup(")
    end = text.index("    def count(")
    fixed = text[:start] + method + "\n" + text[end:]
    return fixed.replace("MISSING = None\n", "MISSING = None\n_MISSING = object()\n")


def settings(root: Path) -> VerifySettings:
    return VerifySettings(budget=3.0, live=LiveRun((sys.executable, "main.py"), str(root)))


def test_unpicklable_self_is_verified_on_live_calls(workspace: Path) -> None:
    path = str(workspace / LOOKUP)
    run = run_capture(
        workspace, [sys.executable, "main.py"], [CaptureTarget(path, "Store.lookup")], workspace
    )
    capture = run.captures[0]
    assert capture.recorded == 0 and capture.skipped_unpicklable > 0  # the lambda in `self`
    fixed = with_method(STORE, FAST_LOOKUP)
    without = verify_change(workspace, path, "Store.lookup", STORE, fixed, VerifySettings(3.0))
    assert without.kind is VerdictKind.UNVERIFIED and "pickl" in without.summary

    verdict = verify_change(workspace, path, "Store.lookup", STORE, fixed, settings(workspace))

    assert verdict.kind in (VerdictKind.FASTER, VerdictKind.NOT_FASTER), verdict.summary
    assert "live calls in-process" in verdict.summary
    assert verdict.speed is not None and verdict.speed.rounds >= 3
    assert 8 <= verdict.calls <= 32  # the replay may stop early within the budget
    assert any("in-process" in note for note in verdict.notes)


def test_in_process_refuses_a_fix_that_changes_behaviour(workspace: Path) -> None:
    path = str(workspace / LOOKUP)
    fixed = with_method(STORE, WRONG_LOOKUP)

    verdict = verify_change(workspace, path, "Store.lookup", STORE, fixed, settings(workspace))

    assert verdict.kind is VerdictKind.DIFFERS, verdict.summary
    assert verdict.difference is not None and verdict.difference.aspect == "return value"
    assert "'text'" in verdict.difference.input  # str.upper, which the fix no longer finds


def test_in_process_says_when_arguments_cannot_be_copied(workspace: Path) -> None:
    path = str(workspace / LOOKUP)
    fixed = STORE.replace(
        "self.counter.hits.append(name)", "self.counter.hits.append(name)  # same"
    )

    verdict = verify_change(workspace, path, "Store.count", STORE, fixed, settings(workspace))

    assert verdict.kind is VerdictKind.UNVERIFIED, verdict.summary
    assert "Counter" in verdict.summary and "independent copies" in verdict.summary


def test_cli_verify_run_judges_in_process(workspace: Path) -> None:
    (workspace / LOOKUP).write_text(STORE)
    program = f"{sys.executable} main.py"
    args = ("verify", f"{LOOKUP}::Store.lookup", "--budget", "2")

    without = perfpilot(*args, cwd=workspace)
    done = perfpilot(*args, "--run", program, cwd=workspace)

    assert "PP116" in without.stdout and "unverified: no recorded calls" in without.stdout
    assert done.returncode == 0, done.stderr
    assert "PP116" in done.stdout and "live calls in-process" in done.stdout, done.stdout
    assert "verified in-process (there were no recorded calls)" in done.stdout
    bad = perfpilot(*args, "--run", "'unclosed", cwd=workspace)
    assert bad.returncode == 2 and "--run" in bad.stderr and "Traceback" not in bad.stderr


BASE = '''"""A method that uses super() and a private name, on a `self` holding a lambda."""


class Base:
    def size(self, items):
        return len(items)


class Sized(Base):
    def __init__(self):
        self.__scale = 2
        self.key = lambda item: item

    def size(self, items):
        """Twice the base size."""
        return super().size(items) * self.__scale
'''


def test_in_process_method_keeps_super_and_private_names(tmp_path: Path) -> None:
    (tmp_path / "sized").mkdir()
    (tmp_path / "sized" / "__init__.py").write_text("")
    (tmp_path / "sized" / "core.py").write_text(BASE)
    (tmp_path / "main.py").write_text(
        "from sized.core import Sized\nprint(sum(Sized().size([1] * n) for n in range(200)))\n"
    )
    fixed = BASE.replace("* self.__scale", "* (self.__scale + 0)")
    live = LiveRun((sys.executable, "main.py"), str(tmp_path))
    path = str(tmp_path / "sized" / "core.py")

    verdict = verify_change(
        tmp_path, path, "Sized.size", BASE, fixed, VerifySettings(budget=1.0, live=live)
    )

    # Compiled again outside its class, `super()` or `self.__scale` would fail: refused.
    assert verdict.kind in (VerdictKind.FASTER, VerdictKind.NOT_FASTER), verdict.summary
    assert "in-process" in verdict.summary
