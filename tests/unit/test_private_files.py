"""Private scratch files: a 0700 folder of our own, unpredictable names, links never followed."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from perfpilot.tools import private_files
from perfpilot.tools.private_files import private_folder, write_private


@pytest.fixture(autouse=True)
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private TMPDIR and no folder made yet in this process."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr(private_files, "_folder", None)
    return tmp_path


def test_files_are_private_and_unpredictable(fresh: Path) -> None:
    first = Path(write_private("Parser.<lambda>/../x", ".diff", "one"))
    second = Path(write_private("Parser.<lambda>/../x", ".diff", "two"))
    assert first != second and first.parent == second.parent == Path(private_folder())
    assert first.parent.parent == fresh and first.name.endswith(".diff")
    assert "/" not in first.name.removesuffix(".diff") and ".." not in first.name
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert (first.read_text(), second.read_text()) == ("one", "two")


def test_a_folder_swapped_for_a_link_is_not_used(fresh: Path, tmp_path: Path) -> None:
    folder = private_folder()
    shutil.rmtree(folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, folder)  # someone replaced our folder by a link
    written = Path(write_private("f", ".diff", "text"))
    assert written.parent != Path(folder) and list(elsewhere.iterdir()) == []
