"""The user's own folders for perfpilot (cache, config) and the files placed there by path.

Kept apart from the stores that read and write those files (tools/verify/store.py,
tools/verdict_store.py): knowing whether a file exists must not import their cryptography
and their models (`perfpilot check` asks on every run).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_home() -> Path:
    """The user's cache folder ($XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "perfpilot"


def config_home() -> Path:
    """The user's config folder ($XDG_CONFIG_HOME, else ~/.config)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "perfpilot"


def verdicts_path(root: str | Path) -> Path:
    """The file of one workspace's verdicts: keyed by a hash of its real path."""
    digest = hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:20]
    return cache_home() / "verdicts" / f"{digest}.json"
