"""Map a profile's functions onto workspace functions, attributing library time to its caller."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from perfpilot.tools.config import PathMapping
from perfpilot.tools.library_time import LibraryFractions, is_library
from perfpilot.tools.model import Frame, FunctionKey, FunctionStats, Profile
from perfpilot.tools.module_index import ModuleIndex, SourceFunction
from perfpilot.tools.paths import PathKind, PathResolver, ResolvedPath
from perfpilot.tools.source_index import WorkspaceIndex

# CPython < 3.12 runs comprehensions as their own code objects; their time is their
# enclosing function's own work, as it is on 3.12+ where they are inlined.
COMPREHENSIONS = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})


@dataclass(slots=True)
class MappedFunction:
    """A workspace function with the cost the profile measured for it (in profile units)."""

    function: SourceFunction
    relpath: str
    self_time: float = 0.0
    # Time in library or built-in code that this function called directly (nearest
    # workspace frame): a hot `json.loads` call is this function's problem to fix.
    library_time: float = 0.0
    total_time: float = 0.0
    calls: int | None = None
    line_times: dict[int, float] = field(default_factory=dict)
    callers: dict[str, float] = field(default_factory=dict)
    callees: dict[str, float] = field(default_factory=dict)
    # Found by name, not where the profile recorded it: the code moved since profiling.
    moved: bool = False

    @property
    def own_time(self) -> float:
        """Time spent in this function's own code or in library code it called directly."""
        return self.self_time + self.library_time

    @property
    def label(self) -> str:
        """How other functions refer to this one in caller/callee lists."""
        # Interned: every caller/callee dict holding it as a key shares one string (23,000
        # copies of 3,700 labels, 1.5 MiB, for bench_lsp's 50,000-function profile otherwise).
        return sys.intern(f"{self.relpath}:{self.function.qualname}")


@dataclass(slots=True)
class MappingResult:
    """Workspace functions found in a profile, and what could not be placed."""

    profile: Profile
    functions: dict[SourceFunction, MappedFunction] = field(default_factory=dict)
    # Recorded path -> self time, for paths that look like user code but match no workspace file.
    unmapped_paths: dict[str, float] = field(default_factory=dict)
    # (relpath, name) of profiled functions that no longer exist in their workspace file.
    missing_functions: set[tuple[str, str]] = field(default_factory=set)
    # Own time (self plus library code called directly) of workspace functions, and of
    # workspace module-level code, counted over every file whatever the threshold.
    workspace_time: float = 0.0
    module_time: float = 0.0

    def ranked(self) -> list[MappedFunction]:
        """Functions ordered by own time, then total time (hottest first)."""
        return sorted(
            self.functions.values(),
            key=lambda m: (-m.own_time, -m.total_time, m.relpath, m.function.first_line),
        )


@dataclass(frozen=True, slots=True)
class _Placed:
    """Where one profile frame or function landed."""

    resolved: ResolvedPath
    function: SourceFunction | None = None
    moved: bool = False
    # A comprehension folded into `function`: its calls are not the function's calls.
    folded: bool = False

    @property
    def is_library(self) -> bool:
        return is_library(self.resolved)


def map_profile(
    profile: Profile,
    index: WorkspaceIndex,
    mappings: Sequence[PathMapping] = (),
    min_share: float = 0.0,
    only_files: Collection[str] | None = None,
) -> MappingResult:
    """Map `profile` onto the workspace.

    Only files whose profiled own time reaches `min_share` percent (and, if given, that are in
    `only_files`, absolute paths) are parsed: a big profile touches thousands of files, and a
    file that holds no hot function has nothing to show.
    """
    mapper = _Mapper(profile, index, PathResolver(index, mappings), min_share, only_files)
    if profile.stacks is not None and profile.stacks.stacks:
        mapper.map_stacks()
    else:
        mapper.map_functions()
    return mapper.result


class _Mapper:
    def __init__(
        self,
        profile: Profile,
        index: WorkspaceIndex,
        resolver: PathResolver,
        min_share: float,
        only_files: Collection[str] | None,
    ) -> None:
        self.profile = profile
        self.index = index
        self.resolver = resolver
        self.result = MappingResult(profile)
        self.min_time = profile.total * min_share / 100.0
        self.only_files = {os.path.realpath(p) for p in only_files} if only_files else None
        self.parse_files: set[str] = set()

    # -- placing one frame or function -------------------------------------------------

    def place(
        self, file: str, name: str, line: int, def_line: int, qualname: str | None
    ) -> _Placed:
        resolved = self.resolver.resolve(file)
        if resolved.kind is not PathKind.WORKSPACE or resolved.path not in self.parse_files:
            return _Placed(resolved)
        module = self.index.module(resolved.path)
        if module is None or name == "<module>":
            return _Placed(resolved)
        if name in COMPREHENSIONS:
            # A lambda on the comprehension's line must not swallow it.
            enclosing = module.innermost_at(line or def_line, lambdas=False)
            return _Placed(resolved, enclosing, folded=True)
        if def_line and module.is_class_body(def_line, name):
            return _Placed(resolved)  # a class body runs once at import: module-level work
        function, moved = _find_function(module, name, line, def_line, qualname)
        if function is None and _names_a_class(module, name):
            # A class body that only moved (lines inserted above it): still module-level work.
            return _Placed(resolved)
        if function is None:
            self.result.missing_functions.add((resolved.relpath or file, name))
        return _Placed(resolved, function, moved)

    def mapped(self, placed: _Placed) -> MappedFunction:
        assert placed.function is not None and placed.resolved.relpath is not None
        found = self.result.functions.get(placed.function)
        if found is None:
            found = MappedFunction(placed.function, placed.resolved.relpath)
            self.result.functions[placed.function] = found
        found.moved = found.moved or placed.moved
        return found

    def choose_files(self, own_by_file: dict[str, float]) -> None:
        """Pick the workspace files worth parsing, from own time summed per file."""
        for path, own in own_by_file.items():
            if own >= self.min_time and (self.only_files is None or path in self.only_files):
                self.parse_files.add(path)

    def note_unmapped(self, file: str, resolved: ResolvedPath, time: float) -> None:
        if resolved.kind is PathKind.UNMAPPED:
            unmapped = self.result.unmapped_paths
            unmapped[file] = unmapped.get(file, 0.0) + time

    # -- stack profiles -----------------------------------------------------------------

    def map_stacks(self) -> None:
        stacks = self.profile.stacks
        assert stacks is not None
        frames = stacks.frames
        kinds = [self.resolver.resolve(f.file) for f in frames]
        own_by_file: dict[str, float] = {}
        for stack, weight in stacks.stacks.items():
            owner = _nearest_non_library(stack, kinds)
            if owner is None:
                continue
            resolved = kinds[owner]
            if resolved.kind is PathKind.WORKSPACE and resolved.path:
                own_by_file[resolved.path] = own_by_file.get(resolved.path, 0.0) + weight
                if frames[owner].name == "<module>":
                    self.result.module_time += weight
                else:
                    self.result.workspace_time += weight
            else:
                self.note_unmapped(frames[owner].file, resolved, weight)
        self.choose_files(own_by_file)
        placed = [self.place(f.file, f.name, f.line, f.def_line, f.qualname) for f in frames]
        for stack, weight in stacks.stacks.items():
            self._fold_stack(stack, weight, placed, frames)

    def _fold_stack(
        self, stack: tuple[int, ...], weight: float, placed: list[_Placed], frames: list[Frame]
    ) -> None:
        seen: set[int] = set()
        edges: set[tuple[str, str]] = set()
        nearest: _Placed | None = None
        nearest_frame: Frame | None = None
        caller: MappedFunction | None = None
        library_edge_open = False
        for index in stack:
            where = placed[index]
            if where.is_library:
                if caller is not None and library_edge_open:
                    # Only the first library frame below a function is its callee.
                    _add_edge_once(edges, caller, _library_label(frames[index]), weight)
                    library_edge_open = False
                continue
            nearest, nearest_frame = where, frames[index]
            if where.function is None:
                caller = None
                continue
            mapped = self.mapped(where)
            if id(mapped) not in seen:
                seen.add(id(mapped))
                mapped.total_time += weight
            # Edges skip library frames in between: `sorted(key=...)` still links the caller
            # to its key function.
            if caller is not None and caller is not mapped:
                _add_edge_once(edges, caller, mapped.label, weight)
                if (mapped.label, caller.label) not in edges:
                    edges.add((mapped.label, caller.label))
                    mapped.callers[caller.label] = mapped.callers.get(caller.label, 0.0) + weight
            caller = mapped
            library_edge_open = True
        if nearest is None or nearest.function is None or nearest_frame is None:
            return
        owner = self.mapped(nearest)
        if placed[stack[-1]].is_library:
            owner.library_time += weight
        else:
            owner.self_time += weight
        # For a library call this is the calling line: that is where the time goes.
        if nearest_frame.line > 0:
            owner.line_times[nearest_frame.line] = (
                owner.line_times.get(nearest_frame.line, 0.0) + weight
            )

    # -- function-level profiles (cProfile) ----------------------------------------------

    def map_functions(self) -> None:
        functions = self.profile.functions
        library_file = self._library_test()
        self.library_fraction = LibraryFractions(functions, library_file)
        own_by_file: dict[str, float] = {}
        for key, stats in functions.items():
            if library_file(key.file):
                continue
            resolved = self.resolver.resolve(key.file)
            if resolved.kind is not PathKind.WORKSPACE or not resolved.path:
                self.note_unmapped(key.file, resolved, stats.self_time)
            else:
                own = stats.self_time
                for callee, time in stats.callees.items():
                    if library_file(callee.file):
                        own += time * self.library_fraction(callee)
                if key.name == "<module>":  # never reported: counted, but no parse for it
                    self.result.module_time += own
                    continue
                self.result.workspace_time += own
                own_by_file[resolved.path] = own_by_file.get(resolved.path, 0.0) + own
        self.choose_files(own_by_file)
        placed = {
            key: self._place_stats(stats)
            for key, stats in functions.items()
            if self.resolver.resolve(key.file).path in self.parse_files
        }
        for key, where in placed.items():
            if where.function is not None:
                self._fold_function(self.mapped(where), where, functions[key], placed)

    def _library_test(self) -> Callable[[str], bool]:
        """A memoized "is this recorded file library code?" (called ~10^5 times per profile)."""
        known: dict[str, bool] = {}
        resolve = self.resolver.resolve

        def library_file(file: str) -> bool:
            answer = known.get(file)
            if answer is None:
                answer = known[file] = is_library(resolve(file))
            return answer

        return library_file

    def _place_stats(self, stats: FunctionStats) -> _Placed:
        key = stats.key
        hottest = max(stats.line_times, key=stats.line_times.__getitem__, default=0)
        return self.place(key.file, key.name, hottest, key.line, stats.qualname)

    def _label(self, key: FunctionKey, placed: dict[FunctionKey, _Placed]) -> tuple[str, bool]:
        """Label of a caller/callee and whether it is library code."""
        where = placed.get(key)
        if where is not None and where.function is not None:
            return self.mapped(where).label, False
        resolved = where.resolved if where else self.resolver.resolve(key.file)
        if is_library(resolved):
            return _library_label(Frame(key.file, key.name, 0, key.line)), True
        # A workspace function in a file not worth parsing: its recorded name will do.
        return f"{resolved.relpath or key.file}:{key.name}", False

    def _fold_function(
        self,
        mapped: MappedFunction,
        where: _Placed,
        stats: FunctionStats,
        placed: dict[FunctionKey, _Placed],
    ) -> None:
        mapped.self_time += stats.self_time
        if not where.folded:
            # A comprehension's inclusive time is already inside its enclosing function's.
            mapped.total_time += stats.total_time
            if stats.calls is not None:
                mapped.calls = (mapped.calls or 0) + stats.calls
        for line, time in stats.line_times.items():
            mapped.line_times[line] = mapped.line_times.get(line, 0.0) + time
        own_label = mapped.label
        for callee, time in stats.callees.items():
            label, library = self._label(callee, placed)
            if library:
                time *= self.library_fraction(callee)
                mapped.library_time += time
            if label != own_label:
                mapped.callees[label] = mapped.callees.get(label, 0.0) + time
        for caller, time in stats.callers.items():
            label, _ = self._label(caller, placed)
            if label != own_label:
                mapped.callers[label] = mapped.callers.get(label, 0.0) + time


def _find_function(
    module: ModuleIndex, name: str, line: int, def_line: int, qualname: str | None
) -> tuple[SourceFunction | None, bool]:
    """Find a profiled function in its module; the flag says it was found away from its place."""
    if def_line > 0:
        for candidates in (module.by_first_line(def_line), module.by_def_line(def_line)):
            for function in candidates:
                if function.name == name and (
                    qualname is None or _qualname_fits(function, qualname)
                ):
                    return function, False
    if line > 0:
        enclosing = [
            f for f in module.functions if f.name == name and f.first_line <= line <= f.end_line
        ]
        if enclosing:
            return max(enclosing, key=lambda f: f.first_line), False
    by_name = module.by_qualname(qualname) if qualname else []
    by_name = by_name or module.by_name(name)
    if not by_name:
        return None, False
    anchor = def_line or line
    return min(by_name, key=lambda f: abs(f.first_line - anchor)), True


def _names_a_class(module: ModuleIndex, name: str) -> bool:
    return any(name in names for names in module.class_lines.values())


def _qualname_fits(function: SourceFunction, qualname: str) -> bool:
    # Profilers spell qualnames differently (Austin drops "<locals>"); compare the tail.
    return (
        function.qualname == qualname
        or function.qualname.endswith("." + qualname)
        or (function.qualname.replace(".<locals>", "") == qualname)
    )


def _nearest_non_library(stack: tuple[int, ...], kinds: list[ResolvedPath]) -> int | None:
    for index in reversed(stack):
        if not is_library(kinds[index]):
            return index
    return None


def _library_label(frame: Frame) -> str:
    if frame.file in ("~", "") or frame.file.startswith("<"):
        return frame.name
    tail = "/".join(frame.file.replace("\\", "/").split("/")[-2:])
    return sys.intern(f"{frame.qualname or frame.name} ({tail})")  # shared, as `label`


def _add_edge_once(
    edges: set[tuple[str, str]], caller: MappedFunction, label: str, weight: float
) -> None:
    if (caller.label, label) not in edges:
        edges.add((caller.label, label))
        caller.callees[label] = caller.callees.get(label, 0.0) + weight
