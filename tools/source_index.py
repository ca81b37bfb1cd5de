"""Workspace source index: the functions of each Python file, named as CPython names them."""

from __future__ import annotations

import codecs
import fnmatch
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tree_sitter import Node, Tree

from perfpilot.tools import source_walk
from perfpilot.tools.source_walk import SourceFunction

__all__ = [
    "DEFAULT_EXCLUDES",
    "MAX_SOURCE_BYTES",
    "ModuleIndex",
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


@dataclass
class ModuleIndex:
    """The functions of one file, in source order, with lookups by line and name."""

    path: str
    functions: list[SourceFunction]
    has_errors: bool
    # co_firstlineno -> names of class bodies starting there (profilers list class bodies).
    class_lines: dict[int, set[str]] = field(default_factory=dict)
    _by_first: dict[int, list[SourceFunction]] = field(init=False, repr=False, compare=False)
    _by_def: dict[int, list[SourceFunction]] = field(init=False, repr=False, compare=False)
    _by_qualname: dict[str, list[SourceFunction]] = field(init=False, repr=False, compare=False)
    _by_name: dict[str, list[SourceFunction]] = field(init=False, repr=False, compare=False)
    _line_tables: dict[bool, list[SourceFunction | None]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._by_first, self._by_def, self._by_qualname, self._by_name = {}, {}, {}, {}
        for fn in self.functions:
            self._by_first.setdefault(fn.first_line, []).append(fn)
            self._by_def.setdefault(fn.def_line, []).append(fn)
            self._by_qualname.setdefault(fn.qualname, []).append(fn)
            self._by_name.setdefault(fn.name, []).append(fn)

    def by_first_line(self, line: int) -> list[SourceFunction]:
        """Return the functions whose co_firstlineno is `line` (lambdas can share a line)."""
        return list(self._by_first.get(line, ()))

    def is_class_body(self, line: int, name: str) -> bool:
        """Is (line, name) a class statement, which profilers record like a function?"""
        return name in self.class_lines.get(line, ())

    def by_def_line(self, line: int) -> list[SourceFunction]:
        """Return the functions whose `def` (or `lambda`) keyword is on `line`."""
        return list(self._by_def.get(line, ()))

    def by_qualname(self, qualname: str) -> list[SourceFunction]:
        """Return the functions with this __qualname__ (a property getter and setter share one)."""
        return list(self._by_qualname.get(qualname, ()))

    def by_name(self, name: str) -> list[SourceFunction]:
        """Return the functions with this bare name (co_name)."""
        return list(self._by_name.get(name, ()))

    def innermost_at(self, line: int, *, lambdas: bool = True) -> SourceFunction | None:
        """Return the innermost function whose first_line..end_line contains `line`.

        A line is coarse: with `lambdas=False`, a lambda sharing the line with other code (a
        comprehension, say) does not hide the def around it.
        """
        table = self._line_tables.get(lambdas)
        if table is None:
            table = self._line_tables[lambdas] = self._line_table(lambdas)
        return table[line] if 0 < line < len(table) else None

    def _line_table(self, lambdas: bool) -> list[SourceFunction | None]:
        functions = [fn for fn in self.functions if lambdas or not fn.is_lambda]
        size = max((fn.end_line for fn in functions), default=0) + 1
        table: list[SourceFunction | None] = [None] * size
        # Outer before inner (earlier start, then longer range): an inner function overwrites
        # its lines. Functions starting on the same line with the same end keep source order,
        # so a lambda nested in another lambda on one line wins over it.
        ordered = sorted(
            range(len(functions)),
            key=lambda i: (functions[i].first_line, -functions[i].end_line, i),
        )
        for i in ordered:
            fn = functions[i]
            table[fn.first_line : fn.end_line + 1] = [fn] * (fn.end_line - fn.first_line + 1)
        return table


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


@dataclass(frozen=True, slots=True)
class RowChange:
    """How a text changed since it was last indexed, in 0-based tree-sitter rows.

    Rows first..old_stop-1 of the old text became rows first..new_stop-1 of the new one; the
    rest is the same text. `syntax_rows` are new-text row spans whose parse changed (tree-sitter's
    changed ranges), which can lie outside the edited text (an unclosed bracket, say).
    """

    first: int
    old_stop: int
    new_stop: int
    syntax_rows: tuple[tuple[int, int], ...] = ()


def index_tree(
    tree: Tree,
    src: bytes,
    path: str,
    *,
    python_version: tuple[int, int] | None = None,
    previous: ModuleIndex | None = None,
    change: RowChange | None = None,
) -> ModuleIndex:
    """Index the functions of an already parsed tree of `src` (UTF-8); see `index_source`.

    Given the `previous` index and the `change` since, only the top-level statements the change
    touched are walked again; the others are kept, shifted by the number of lines added.
    """
    norm_path = os.path.normpath(os.path.abspath(path))
    classes: dict[int, set[str]] = {}
    if previous is None or change is None or previous.path != norm_path:
        functions = source_walk.walk(tree, src, norm_path, python_version, classes)
        return ModuleIndex(norm_path, functions, tree.root_node.has_error, classes)
    low, high, enclosing = _touched_rows(tree, src, change, previous)
    delta = change.new_stop - change.old_stop
    start = _row_start(src, low)
    stop = _row_start(src, high + 1)
    walked = source_walk.walk(
        tree, src, norm_path, python_version, classes, (start, stop), enclosing
    )
    before = [f for f in previous.functions if f.end_line - 1 < low]
    after = [
        _shifted(f, delta)
        for f in previous.functions
        if f.first_line - 1 >= change.old_stop and f.first_line - 1 + delta > high
    ]
    for line, names in previous.class_lines.items():
        if line - 1 < low:
            classes.setdefault(line, set()).update(names)
        elif line - 1 >= change.old_stop and line - 1 + delta > high:
            classes.setdefault(line + delta, set()).update(names)
    return ModuleIndex(norm_path, before + walked + after, tree.root_node.has_error, classes)


def _touched_rows(
    tree: Tree, src: bytes, change: RowChange, previous: ModuleIndex
) -> tuple[int, int, list[Node]]:
    """New-text rows to walk again, and the classes whose body holds them (outermost first).

    The change is widened to whole statements of the innermost class body holding it (an edit
    in one method of a 3,000-line class walks that method, not the class), or of the module,
    and to every previously indexed function it cut into (which must be found again, or
    dropped).
    """
    delta = change.new_stop - change.old_stop
    changed_high = max(change.first, change.new_stop - 1)

    def to_new(row: int) -> int:
        if row < change.first:
            return row
        if row >= change.old_stop:
            return row + delta
        return min(max(row, change.first), changed_high)

    edited = [(change.first, changed_high), *change.syntax_rows]
    low, high = min(a for a, _ in edited), max(b for _, b in edited)
    old = [(to_new(f.first_line - 1), to_new(f.end_line - 1)) for f in previous.functions]
    enclosing = _enclosing_classes(tree, src, low, high)
    while True:
        container = enclosing[-1].child_by_field_name("body") if enclosing else tree.root_node
        assert container is not None
        widened = _widen(low, high, _rows_of(container.children), old)
        first, last = container.start_point.row, container.end_point.row
        # Still strictly inside the class body (off its header line), or at the top level.
        inside = first <= widened[0] and widened[1] <= last
        if not enclosing or (inside and enclosing[-1].start_point.row < widened[0]):
            return widened[0], widened[1], enclosing
        enclosing = enclosing[:-1]


def _rows_of(nodes: list[Node]) -> list[tuple[int, int]]:
    return [(n.start_point.row, n.end_point.row) for n in nodes]


def _widen(
    low: int, high: int, children: list[tuple[int, int]], old: list[tuple[int, int]]
) -> tuple[int, int]:
    # Statements and old functions can straddle the edges (error recovery, `x = 1; y = 2`, a
    # def whose end was deleted): widen until nothing does.
    changed = True
    while changed:
        changed = False
        for start, end in (*children, *old):
            if end >= low and start <= high and (start < low or end > high):
                low, high = min(low, start), max(high, end)
                changed = True
    return low, high


def _enclosing_classes(tree: Tree, src: bytes, low: int, high: int) -> list[Node]:
    """The chain of classes, from the top level down, whose body wholly holds rows low..high."""
    chain: list[Node] = []
    block = tree.root_node
    while True:
        holders = [
            c for c in block.named_children if c.start_point.row <= low and high <= c.end_point.row
        ]
        if len(holders) != 1:
            return chain
        node = holders[0]
        if node.type == "decorated_definition":
            node = node.child_by_field_name("definition") or node
        body = node.child_by_field_name("body")
        if (
            node.type != "class_definition"
            or body is None
            or body.type != "block"
            or node.child_by_field_name("name") is None
            or low <= node.start_point.row  # on the header: the class itself changes
            or low < body.start_point.row
            # `global` in a class body renames defs under it; the top-level walk sees it.
            or b"global" in src[node.start_byte : node.end_byte]
        ):
            return chain
        chain.append(node)
        block = body


def _row_start(src: bytes, row: int) -> int:
    """Byte offset where a 0-based row starts (len(src) past the end)."""
    position = 0
    for _ in range(row):
        position = src.find(b"\n", position) + 1
        if position == 0:
            return len(src)
    return position


def _shifted(function: SourceFunction, delta: int) -> SourceFunction:
    if not delta:
        return function
    return replace(
        function,
        def_line=function.def_line + delta,
        first_line=function.first_line + delta,
        name_line=function.name_line + delta,
        end_line=function.end_line + delta,
    )


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
