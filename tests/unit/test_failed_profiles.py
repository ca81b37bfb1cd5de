"""Failed runs' profiles: kept aside under unique names, and only the newest few."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perfpilot.tools.profiling import FAILED_DIR, ProfilingError, set_aside


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


def test_a_failed_folder_that_is_a_link_is_neither_followed_nor_pruned(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = [elsewhere / f"{n}.prof" for n in range(3)]
    for path in precious:
        path.write_text("keep me")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / FAILED_DIR).symlink_to(elsewhere)  # planted by a repository
    profile = profiles / "20240101-120000.prof"
    profile.write_text("failed run")
    with pytest.raises(ProfilingError, match="is a link or not a folder"):
        set_aside(profile, keep=1)
    assert all(path.read_text() == "keep me" for path in precious)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["0.prof", "1.prof", "2.prof"]
    assert not profile.exists()  # never left to become "the newest profile"
