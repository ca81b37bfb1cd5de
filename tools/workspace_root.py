"""The one rule for a workspace's root, shared by the CLI, the language server and the clients.

The root is the nearest directory at or above a starting point that holds a project marker
(`pyproject.toml`, `setup.cfg`, `setup.py` or `.git`), the way ruff finds the nearest
pyproject.toml and editors open a repository. Profiles live in `<root>/.perfpilot/profiles/`,
so `perfpilot profile` run in a subfolder and an editor opened on that subfolder agree.
The Neovim plugin (lua/perfpilot/init.lua, `root_markers`) and the VS Code extension leave the
choice to the server, which applies this rule to the folder they send.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


def find_workspace_root(start: Path) -> Path:
    """The nearest directory at or above `start` holding a project marker, else `start`."""
    start = start.resolve()
    home = _home()
    for candidate in (start, *start.parents):
        # A dotfiles repository in the home directory must not swallow every project below it.
        if candidate == home and start != home:
            break
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return start


def _home() -> Path | None:
    home = os.environ.get("HOME")
    return Path(home).resolve() if home else None
