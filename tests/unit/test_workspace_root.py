"""The one rule for a project's root (tools/workspace_root.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.evidence_text import calls_text, readable_label, visible_shares
from perfpilot.tools.workspace_root import find_workspace_root


@pytest.mark.parametrize("marker", ["pyproject.toml", "setup.cfg", "setup.py", ".git"])
def test_nearest_directory_with_any_marker(tmp_path: Path, marker: str) -> None:
    (tmp_path / ".git").mkdir()
    project = tmp_path / "packages" / "one"
    (project / "src").mkdir(parents=True)
    (project / marker).mkdir() if marker == ".git" else (project / marker).write_text("")
    assert find_workspace_root(project / "src") == project.resolve()
    # A pyproject.toml higher up does not win over a nearer marker of another kind.
    (tmp_path / "pyproject.toml").write_text("")
    assert find_workspace_root(project / "src") == project.resolve()


def test_no_marker_is_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / "scratch" / "deep"
    folder.mkdir(parents=True)
    assert find_workspace_root(folder) == folder.resolve()


def test_a_repository_in_home_does_not_swallow_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()  # dotfiles
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / "notes"
    folder.mkdir()
    assert find_workspace_root(folder) == folder.resolve()
    assert find_workspace_root(tmp_path) == tmp_path.resolve()


def test_evidence_wording() -> None:
    assert calls_text(1) == "1 call" and calls_text(222907) == "222,907 calls"
    assert calls_text(0) == "0 calls"
    assert readable_label("<built-in method builtins.len>") == "builtins.len"
    assert readable_label("<method 'findall' of 're.Pattern' objects>") == "re.Pattern.findall"
    assert readable_label("pkg/mod.py:Klass.method") == "Klass.method (pkg/mod.py)"
    assert readable_label("__missing__ (collections/__init__.py)") == (
        "__missing__ (collections/__init__.py)"
    )
    rows = visible_shares(
        [
            {"name": "<built-in method builtins.max>", "percent": 0.04},
            {"name": "a.py:f", "percent": 3},
        ]
    )
    assert rows == [("f (a.py)", 3.0)]
