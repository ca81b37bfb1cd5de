"""The garbage-collection policy of start-up (server/startup_gc.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from perfpilot.server import startup_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


def test_a_command_collects_less(restored_gc: None) -> None:
    startup_gc.collect_less()
    assert gc.get_threshold() == startup_gc.COMMAND_THRESHOLD
    assert gc.isenabled()


def test_a_finished_command_freezes_what_is_left(restored_gc: None) -> None:
    startup_gc.exiting()
    assert gc.get_freeze_count() > 0  # finalization's collections skip it
