"""What the language server keeps of a loaded profile: the mapping, not the raw records."""

from __future__ import annotations

import gc
from pathlib import Path

from perfpilot.tools.config import Settings
from perfpilot.tools.mapping import map_profile
from perfpilot.tools.model import FunctionStats
from perfpilot.tools.profile_quality import no_checked_time
from perfpilot.tools.profile_session import ProfileSession
from perfpilot.tools.profiles import load_profile
from perfpilot.tools.source_index import WorkspaceIndex


def live_function_records() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is FunctionStats)


def test_a_loaded_profile_keeps_no_raw_records(example_template: Path) -> None:
    session = ProfileSession(str(example_template), Settings())
    paths = session.discover()
    before = live_function_records()
    # `build`, not `load`: adopting freezes the GC, which hides objects from gc.get_objects.
    loaded = session.build(paths)
    assert loaded is not None
    assert loaded.profile.functions == {} and loaded.profile.stacks is None
    assert loaded.result.profile is loaded.profile
    assert live_function_records() == before

    # What is shown is what the full records give.
    raw = load_profile(paths[0])
    assert len(raw.functions) > 100
    full = map_profile(
        raw, WorkspaceIndex(str(example_template)), min_share=session.settings.threshold
    )
    assert loaded.profile.total == raw.total and loaded.profile.unit == raw.unit
    shown = {
        m.label: (m.self_time, m.total_time, m.calls, m.callers, m.callees)
        for m in loaded.result.functions.values()
    }
    assert shown == {
        m.label: (m.self_time, m.total_time, m.calls, m.callers, m.callees)
        for m in full.functions.values()
    }
    assert [h.mapped.label for h in loaded.hot] == [m.label for m in full.ranked()][
        : len(loaded.hot)
    ]


def test_records_stay_when_nothing_maps(example_template: Path, tmp_path: Path) -> None:
    """The warning that nothing maps names the files holding the time: it needs the records."""
    (tmp_path / "other.py").write_text("def unrelated():\n    return 1\n")
    session = ProfileSession(str(tmp_path), Settings())
    loaded = session.load_explicit(ProfileSession(str(example_template), Settings()).discover())
    assert loaded is not None and loaded.profile.functions
    reason = no_checked_time(loaded.result, [str(tmp_path)])
    assert reason is not None and "time is in:" in reason


def test_adopting_leaves_the_collection_to_settle(example_template: Path) -> None:
    """The server shows a load, publishes, then settles (a full collection, ~25-40 ms)."""
    session = ProfileSession(str(example_template), Settings())
    paths = session.discover()
    loaded = session.build(paths)
    gc.unfreeze()
    try:
        session.adopt(loaded)
        assert session.loaded is loaded
        assert gc.get_freeze_count() == 0  # adopting alone collects and freezes nothing
        session.settle()
        assert gc.get_freeze_count() > 0  # the load's objects are out of later collections
        gc.unfreeze()
        session.settle()
        assert gc.get_freeze_count() == 0  # once per load
        session.load(paths)  # `load` (the CLI's, MCP's) still settles at once
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
