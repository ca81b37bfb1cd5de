"""Resolving recorded profile paths onto workspace files."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.config import PathMapping
from perfpilot.tools.paths import PathKind, PathResolver
from perfpilot.tools.source_index import WorkspaceIndex


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for relpath in (
        "app/core.py",
        "app/utils.py",
        "lib/utils.py",
        "main.py",
        "services/api/handlers.py",
        "other/api/handlers.py",
        ".venv/lib/python3.11/site-packages/requests/api.py",
    ):
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("def f():\n    pass\n")
    return tmp_path


def resolve(workspace: Path, recorded: str, mappings: list[PathMapping] | None = None):
    return PathResolver(WorkspaceIndex(str(workspace)), mappings or []).resolve(recorded)


@pytest.mark.parametrize(
    ("recorded", "relpath"),
    [
        ("app/core.py", "app/core.py"),  # relative, as cProfile records `python app/core.py`
        ("./app/core.py", "app/core.py"),
        ("/srv/container/app/core.py", "app/core.py"),  # two components match
        ("/home/ci/build/main.py", "main.py"),  # a top-level file matches as a whole
        ("C:\\Users\\dev\\proj\\app\\core.py", "app/core.py"),  # recorded on Windows
        ("/deploy/services/api/handlers.py", "services/api/handlers.py"),  # longest suffix wins
        ("app/core.pyc", "app/core.py"),
    ],
)
def test_workspace_paths(workspace: Path, recorded: str, relpath: str) -> None:
    found = resolve(workspace, recorded)
    assert found.kind is PathKind.WORKSPACE and found.relpath == relpath


def test_absolute_path_inside_the_workspace(workspace: Path) -> None:
    found = resolve(workspace, str(workspace / "app" / "core.py"))
    assert found.relpath == "app/core.py" and found.path == str(
        (workspace / "app/core.py").resolve()
    )


@pytest.mark.parametrize(
    "recorded",
    [
        "/x/utils.py",  # a lone basename shared by two files
        "/x/core.py",  # a lone basename: too weak to trust
        "/deploy/api/handlers.py",  # ambiguous: two files end in api/handlers.py
        "/srv/app/missing.py",
    ],
)
def test_unmapped_paths(workspace: Path, recorded: str) -> None:
    assert resolve(workspace, recorded).kind is PathKind.UNMAPPED


@pytest.mark.parametrize(
    "recorded",
    [
        "/usr/lib/python3.11/json/decoder.py",
        "/opt/venv/lib/python3.12/site-packages/app/core.py",
        "C:\\Python311\\Lib\\json\\decoder.py",
        "/usr/lib/python3/dist-packages/app/core.py",
    ],
)
def test_library_paths_are_never_user_code(workspace: Path, recorded: str) -> None:
    assert resolve(workspace, recorded).kind is PathKind.LIBRARY


@pytest.mark.parametrize("recorded", ["~", "<frozen importlib._bootstrap>", "<string>", ""])
def test_pseudo_paths(workspace: Path, recorded: str) -> None:
    assert resolve(workspace, recorded).kind is PathKind.PSEUDO


def test_the_workspace_virtualenv_is_not_user_code(workspace: Path) -> None:
    recorded = str(workspace / ".venv/lib/python3.11/site-packages/requests/api.py")
    assert resolve(workspace, recorded).kind is PathKind.LIBRARY


def test_mappings_rewrite_prefixes_most_specific_first(workspace: Path) -> None:
    mappings = [PathMapping("/app", "."), PathMapping("/app/vendored", "lib")]
    found = resolve(workspace, "/app/vendored/utils.py", mappings)
    assert found.relpath == "lib/utils.py"
    assert resolve(workspace, "/app/app/utils.py", mappings).relpath == "app/utils.py"
    # A mapping is exact: a prefix that matches only part of a directory name does not apply.
    assert resolve(workspace, "/application/main.py", [PathMapping("/app", ".")]).relpath == (
        "main.py"
    )  # (found by suffix instead)
    assert resolve(workspace, "/app/nothing.py", mappings).kind is PathKind.UNMAPPED
