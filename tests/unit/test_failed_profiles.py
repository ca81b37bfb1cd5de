"""Failed runs' profiles: kept aside under unique names, and only the newest few."""

from __future__ import annotations

import os
from pathlib import Path

from perfpilot.tools.profiling import FAILED_DIR, set_aside


def test_set_aside_keeps_names_unique_and_prunes_the_oldest(tmp_path: Path) -> None:
    moved = []
    for number in range(5):
        profile = tmp_path / "20240101-120000.prof"  # the same second every time
        profile.write_text(str(number))
        os.utime(profile, ns=(number * 10**9, number * 10**9))
        moved.append(set_aside(profile, keep=3))
    folder = tmp_path / FAILED_DIR
    assert [p.parent for p in moved] == [folder] * 5
    left = sorted(p.read_text() for p in folder.iterdir())
    assert left == ["2", "3", "4"]  # the newest three, none overwritten by a namesake
    assert not any(p.is_file() for p in tmp_path.iterdir())  # nothing left to be "newest"
