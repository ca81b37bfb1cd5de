"""Whether any installed distribution may declare skills: a listing of sys.path, not a query.

`importlib.metadata` costs ~20 ms to import (it brings the `email` package, `zipfile`, `csv`)
and reads every distribution; a `perfpilot check` almost never has a skill plugin installed.
This looks only for the group's name in the `entry_points.txt` of the `*.dist-info` and
`*.egg-info` folders on sys.path, which is where importlib.metadata's own finder reads them;
anything it cannot rule out that way (a zip on sys.path, another distribution finder) answers
True, and discovery then asks importlib.metadata as before.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys


def may_declare(group: str) -> bool:
    """False only when no distribution on sys.path can declare entry points in `group`."""
    for finder in sys.meta_path:
        if finder is not importlib.machinery.PathFinder and hasattr(finder, "find_distributions"):
            return True  # distributions this scan cannot see
    for entry in sys.path:
        folder = entry or "."
        try:
            with os.scandir(folder) as listing:
                names = [item.name for item in listing]
        except NotADirectoryError:
            return True  # a zip or an egg file: its metadata is inside
        except OSError:
            continue  # a folder that does not exist: nothing installed there
        for name in names:
            if name.endswith((".dist-info", ".egg-info")) and _mentions(folder, name, group):
                return True
    return False


def _mentions(folder: str, distribution: str, group: str) -> bool:
    path = os.path.join(folder, distribution, "entry_points.txt")
    try:
        with open(path, encoding="utf-8", errors="replace") as declared:
            return group in declared.read()
    except OSError:
        return False  # no entry points (or an egg-info file, which has none)
