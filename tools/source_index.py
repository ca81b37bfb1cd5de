"""Workspace source index: the functions of each Python file, named as CPython names them."""

from __future__ import annotations

import codecs
import fnmatch
import os
import re
import stat
from collections.abc import Sequence

from perfpilot.tools import source_walk
from perfpilot.tools.module_index import ModuleIndex
from perfpilot.tools.source_reindex import RowChange, index_tree
from perfpilot.tools.source_walk import SourceFunction

__all__ = [
    "DEFAULT_EXCLUDES",
    "MAX_SOURCE_BYTES",
    "ModuleIndex",
    "RowChange",
    "SourceFunction",
    "WorkspaceIndex",
    "decode_source",
    "index_source",
    "index_tree",
]

# Larger files are generated code (parser tables, vendored bundles): not worth a parse.
MAX_SOURCE_BYTES = 5 * 1024 * 1024

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    "build",
    "dist",
    "site-packages",
    ".mypy_cache",
    ".ruff_cache",
    ".perfpilot",
)

# PEP 263: a coding declaration is a comment on line 1 or 2.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def decode_source(source: bytes | str) -> bytes:
    """Return the source as UTF-8 bytes: PEP 263 coding or BOM honoured, bad bytes replaced."""
    if isinstance(source, str):
        return source.encode("utf-8", "replace")
    data = source
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    else:
        for line in data.split(b"\n", 2)[:2]:
            match = _CODING.match(line)
            if match:
                encoding = match.group(1).decode("ascii")
                break
            if line.strip() and not line.lstrip().startswith(b"#"):
                break  # line 2 counts only after a comment or blank line 1, as in CPython
    try:
        encoding = codecs.lookup(encoding).name
    except LookupError:
        encoding = "utf-8"
    if encoding == "utf-8":
        try:
            data.decode("utf-8")
            return data  # the common case: valid UTF-8 is parsed as is, no copy
        except UnicodeDecodeError:
            pass
    return data.decode(encoding, "replace").encode("utf-8", "replace")


def index_source(
    source: bytes | str, path: str, *, python_version: tuple[int, int] | None = None
) -> ModuleIndex:
    """Index one file's functions; never raises on bad syntax (see `has_errors`).

    `python_version` picks the qualname rules for lambdas inside comprehensions (which became
    inline in 3.12); it defaults to the running interpreter.
    """
    src = decode_source(source)
    return index_tree(source_walk.parse(src), src, path, python_version=python_version)


class WorkspaceIndex:
    """Lazily indexes Python files under a root: a file is read and parsed only when asked for."""

    def __init__(self, root: str, exclude: Sequence[str] = DEFAULT_EXCLUDES) -> None:
        # `root` is absolute but keeps the user's spelling (symlinks unresolved) so that paths
        # handed back look like the ones the editor shows; containment uses the resolved root.
        self.root = os.path.normpath(os.path.abspath(root))
        self._real_root = os.path.realpath(self.root)
        self._exclude_names = frozenset(p for p in exclude if not _is_glob(p))
        self._exclude_globs = tuple(p for p in exclude if _is_glob(p))
        self.parse_count = 0
        self._modules: dict[str, tuple[tuple[int, int], ModuleIndex]] = {}
        self._resolved: dict[str, str | None] = {}
        self._basenames: dict[str, list[str]] | None = None

    def module(self, path: str) -> ModuleIndex | None:
        """Return the index of a .py file inside the root, parsing it only if new or changed."""
        rel = self._relative(path)
        if rel is None or not rel.endswith(".py"):
            return None
        real = os.path.join(self._real_root, rel)
        cached = self._modules.get(rel)
        try:
            if cached is not None:
                # A cache hit costs one stat; the mapping asks for the same module many times.
                info = os.stat(real)
                if (info.st_mtime_ns, info.st_size) == cached[0]:
                    return cached[1]
            with open(real, "rb") as handle:
                # The key comes from the open file, so a write racing the read re-parses later.
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SOURCE_BYTES:
                    self._modules.pop(rel, None)
                    return None
                key = (info.st_mtime_ns, info.st_size)
                data = handle.read()
        except OSError:
            self._modules.pop(rel, None)
            return None
        self.parse_count += 1
        index = index_source(data, os.path.join(self.root, rel))
        self._modules[rel] = (key, index)
        return index

    def cached_module(self, path: str, text: str) -> ModuleIndex | None:
        """The index already built for `path` if its file still holds exactly `text`; no parse.

        An editor opening a file the profile mapping already parsed can skip the parse.
        """
        rel = self._relative(path)
        cached = self._modules.get(rel) if rel else None
        if rel is None or cached is None:
            return None
        try:
            with open(os.path.join(self._real_root, rel), "rb") as handle:
                info = os.fstat(handle.fileno())
                if (info.st_mtime_ns, info.st_size) != cached[0]:
                    return None
                data = handle.read()
        except OSError:
            return None
        return cached[1] if data == text.encode("utf-8", "replace") else None

    def python_files(self) -> list[str]:
        """Return every .py file under the root as a sorted '/'-separated relative path."""
        found: list[str] = []
        pending = [("", self.root)]
        while pending:
            prefix, directory = pending.pop()
            try:
                with os.scandir(directory) as entries:
                    for entry in entries:
                        try:
                            # Directory symlinks are not followed: they can loop or leave the root.
                            if entry.is_dir(follow_symlinks=False):
                                if not self._excluded_dir(entry.name):
                                    pending.append((prefix + entry.name + "/", entry.path))
                            elif entry.name.endswith(".py") and entry.is_file():
                                if not entry.is_symlink() or self.contains(entry.path):
                                    found.append(prefix + entry.name)
                        except OSError:
                            continue
            except OSError:
                continue
        found.sort()
        return found

    def files_by_basename(self, basename: str) -> list[str]:
        """Return the relative paths of workspace .py files named `basename` (listed once)."""
        if self._basenames is None:
            self._basenames = {}
            for rel in self.python_files():
                self._basenames.setdefault(rel.rpartition("/")[2], []).append(rel)
        return list(self._basenames.get(basename, ()))

    def refresh(self) -> None:
        """Forget the file listing and path resolutions (after files were added or moved)."""
        self._basenames = None
        self._resolved.clear()

    def contains(self, path: str) -> bool:
        """Return whether `path`, symlinks resolved, is inside the root and not excluded."""
        return self._relative(path) is not None

    def _relative(self, path: str) -> str | None:
        try:
            return self._resolved[path]
        except KeyError:
            pass
        full = path if os.path.isabs(path) else os.path.join(self.root, path)
        try:
            rel = os.path.relpath(os.path.realpath(full), self._real_root)
        except ValueError:  # another drive on Windows
            rel = os.pardir
        parts = rel.split(os.sep)
        if parts[0] == os.pardir or any(self._excluded_dir(p) for p in parts[:-1]):
            result = None
        else:
            result = "/".join(parts)
        # Resolution is memoized: the mapping asks about the same few paths many times.
        self._resolved[path] = result
        return result

    def _excluded_dir(self, name: str) -> bool:
        if name.startswith(".") or name in self._exclude_names:
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self._exclude_globs)


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")
