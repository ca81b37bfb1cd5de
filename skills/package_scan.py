"""Which method names the other files of a function's package override or assign.

A method of a class can be overridden by a subclass in another module of the same package, or
replaced on an instance (`md.inline.process_text = ...`): both were found for real in the
corpus (markdown's md_in_html, mistune's abbr plugin). Before a skill relies on `self.m` being
the one definition in its module, it asks this module about the rest of the package: the files
beside it (up to the top folder that has an `__init__.py`), read as data, parsed only when
they mention the name.
"""

from __future__ import annotations

import ast
import os
import time
from functools import lru_cache
from pathlib import Path

from perfpilot.skills.shadowing import shadowing

MAX_FILES = 3000  # a package larger than this is not scanned: nothing is proven
MAX_BYTES = 2 * 1024 * 1024  # per file
_LISTING_SECONDS = 2  # how long one listing of a package's files is reused


def shadowed_elsewhere(path: str, class_name: str, names: frozenset[str]) -> frozenset[str] | None:
    """The names the package's other files define in a class body or assign as attributes.

    None when the package cannot be read (no such file, too large): then nothing is proven.
    """
    module = Path(path)
    if not module.is_file():
        return None
    resolved = module.resolve()
    # One listing of the package per couple of seconds: `check --all` asks for every method.
    listing = _listing(package_root(module), int(time.monotonic() // _LISTING_SECONDS))
    if listing is None:
        return None
    signature = tuple(entry for entry in listing if entry[0] != str(resolved))
    return _shadowed(signature, class_name, names)


def package_root(module: Path) -> Path:
    """The top folder of the module's package (the module's folder when it is in none)."""
    folder = module.resolve().parent
    while (folder / "__init__.py").is_file() and (folder.parent / "__init__.py").is_file():
        folder = folder.parent
    return folder


@lru_cache(maxsize=8)
def _listing(root: Path, _period: int) -> tuple[tuple[str, int, int], ...] | None:
    """(file, mtime, size) of the package's .py files, or None when it is too large."""
    try:
        files = sorted(_python_files(root))
    except OSError:
        return None
    if len(files) > MAX_FILES:
        return None
    entries = []
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        entries.append((str(file), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


def _python_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        found += [Path(folder, f).resolve() for f in files if f.endswith(".py")]
        if len(found) > MAX_FILES:
            break
    return found


@lru_cache(maxsize=64)
def _shadowed(
    signature: tuple[tuple[str, int, int], ...], class_name: str, names: frozenset[str]
) -> frozenset[str]:
    hits: set[str] = set()
    for file, _, size in signature:
        if size > MAX_BYTES:
            return names  # unread: assume the worst
        try:
            text = Path(file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return names
        mentioned = {name for name in names if name in text}
        if not mentioned and "setattr" not in text:
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError):
            if mentioned:
                return names  # cannot tell what it does with the name
            continue
        hits |= shadowing(tree, class_name, names)
    return frozenset(hits)
