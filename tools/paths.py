"""Resolve file paths recorded in a profile (maybe on another machine) to workspace files."""

from __future__ import annotations

import enum
import os
import re
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from perfpilot.tools.config import PathMapping
from perfpilot.tools.source_index import WorkspaceIndex

# Recorded paths of installed or standard-library code, on any machine: never the user's code,
# even when a workspace file happens to share the tail of the path.
_LIBRARY_PATTERN = re.compile(
    r"[/\\](site-packages|dist-packages)[/\\]"
    r"|/lib(64)?/(pypy|python)\d+(\.\d+)?t?/"
    r"|\\Lib\\"
)


class PathKind(enum.Enum):
    """What a recorded path turned out to be."""

    WORKSPACE = "workspace"  # a Python file of the workspace
    LIBRARY = "library"  # installed or standard-library code
    PSEUDO = "pseudo"  # not a file: built-ins ("~"), "<frozen ...>", "<string>"
    UNMAPPED = "unmapped"  # looks like user code, but no workspace file matches


@dataclass(frozen=True, slots=True)
class ResolvedPath:
    """A recorded path's kind and, for workspace files, its absolute and relative paths."""

    kind: PathKind
    path: str | None = None
    relpath: str | None = None


class PathResolver:
    """Resolves recorded paths: mappings, then exact/relative paths, then longest suffix."""

    def __init__(self, index: WorkspaceIndex, mappings: Sequence[PathMapping] = ()) -> None:
        self.index = index
        self.root = os.path.realpath(index.root)
        self.mappings = sorted(mappings, key=lambda m: len(m.source), reverse=True)
        self._stdlib = tuple(
            os.path.realpath(p) + os.sep
            for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]}
        )
        self._cache: dict[str, ResolvedPath] = {}

    def resolve(self, recorded: str) -> ResolvedPath:
        """Return what `recorded` is; results are cached per recorded string."""
        cached = self._cache.get(recorded)
        if cached is None:
            cached = self._cache[recorded] = self._resolve(recorded)
        return cached

    def _resolve(self, recorded: str) -> ResolvedPath:
        if not recorded or recorded == "~" or recorded.startswith("<"):
            return ResolvedPath(PathKind.PSEUDO)
        for mapping in self.mappings:
            if _has_prefix(recorded, mapping.source):
                rest = recorded[len(mapping.source) :].lstrip("/\\")
                target = os.path.join(self.root, mapping.target, *_parts(rest))
                # An explicit mapping is the user's word: honour it even for library-like paths.
                return self._workspace(target) or ResolvedPath(PathKind.UNMAPPED)
        if recorded.endswith((".pyc", ".pyo")):
            recorded = recorded[:-1]
        candidate = recorded if os.path.isabs(recorded) else os.path.join(self.root, recorded)
        found = self._workspace(candidate)
        if found is not None:
            return found
        if self._is_library(recorded):
            return ResolvedPath(PathKind.LIBRARY)
        return self._by_suffix(recorded)

    def _workspace(self, path: str) -> ResolvedPath | None:
        path = os.path.normpath(path)
        if not path.endswith(".py") or not os.path.isfile(path) or not self.index.contains(path):
            return None
        real = os.path.realpath(path)
        return ResolvedPath(PathKind.WORKSPACE, real, _relative(real, self.root))

    def _is_library(self, recorded: str) -> bool:
        if _LIBRARY_PATTERN.search(recorded):
            return True
        real = os.path.realpath(recorded) if os.path.isabs(recorded) else recorded
        return real.startswith(self._stdlib)

    def _by_suffix(self, recorded: str) -> ResolvedPath:
        parts = _parts(recorded)
        if not parts or not parts[-1].endswith(".py"):
            return ResolvedPath(PathKind.UNMAPPED)
        best: list[str] = []
        best_length = 0
        for relpath in self.index.files_by_basename(parts[-1]):
            candidate = relpath.split("/")
            length = _common_suffix(parts, candidate)
            # A lone basename match is too weak (every project has a utils.py) unless it is
            # the candidate's whole path, e.g. /app/workload.py -> workload.py at the root.
            if length < 2 and length < len(candidate):
                continue
            if length > best_length:
                best, best_length = [relpath], length
            elif length == best_length:
                best.append(relpath)
        if len(best) != 1:
            # Ambiguous (several equally good matches) counts as unmapped: a wrong file is
            # worse than none.
            return ResolvedPath(PathKind.UNMAPPED)
        return self._workspace(os.path.join(self.root, *best[0].split("/"))) or ResolvedPath(
            PathKind.UNMAPPED
        )


def _parts(path: str) -> list[str]:
    pure = PureWindowsPath(path) if "\\" in path else PurePosixPath(path)
    return [p for p in pure.parts if p not in ("/", "\\", ".") and not p.endswith(":\\")]


def _has_prefix(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/\\")
    return path == prefix or (path.startswith(prefix) and path[len(prefix)] in "/\\")


def _common_suffix(a: list[str], b: list[str]) -> int:
    count = 0
    for x, y in zip(reversed(a), reversed(b)):
        if x != y:
            break
        count += 1
    return count


def _relative(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")
