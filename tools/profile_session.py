"""The profiles an editor session shows: where they come from, loading, and their hot functions."""

from __future__ import annotations

import gc
import glob
import os
from dataclasses import dataclass, field

from perfpilot.tools.config import PROFILES_DIR, Settings, within_workspace
from perfpilot.tools.free_memory import release_free_memory
from perfpilot.tools.hotspots import HotFunction, hot_functions
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.mapping import MappingResult, map_profile
from perfpilot.tools.model import Profile
from perfpilot.tools.profiles import load_profile
from perfpilot.tools.profiles.merge import merge_profiles
from perfpilot.tools.source_index import WorkspaceIndex


@dataclass(slots=True)
class LoadedProfiles:
    """Profiles loaded together, merged and mapped onto the workspace."""

    paths: list[str]
    profile: Profile
    result: MappingResult
    hot: list[HotFunction]
    # path -> (mtime_ns, size) when loaded, to notice re-profiling.
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Real path of a file -> its hot functions; built once, asked on every keystroke.
    _by_file: dict[str, list[HotFunction]] | None = None

    def hot_in(self, path: str) -> list[HotFunction]:
        """The hot functions of one file (absolute path), hottest first."""
        if self._by_file is None:
            self._by_file = {}
            for hot in self.hot:
                real = os.path.realpath(hot.mapped.function.path)
                self._by_file.setdefault(real, []).append(hot)
        return self._by_file.get(os.path.realpath(path), [])


class ProfileSession:
    """The workspace's profile state; every method is cheap except `load`."""

    def __init__(self, root: str, settings: Settings) -> None:
        self.root = os.path.abspath(root)
        self.settings = settings
        self.index = WorkspaceIndex(self.root)
        self.loaded: LoadedProfiles | None = None
        # Profiles the user loaded explicitly (command) win over discovery until cleared.
        self.explicit: list[str] | None = None
        # Discovered profiles that resolve outside the workspace (a symlink): never read.
        self.outside: list[str] = []
        self._unsettled = False  # a load was adopted and `settle` has not run since

    @property
    def profiles_dir(self) -> str:
        """The default profile folder, `.perfpilot/profiles` of the workspace."""
        return os.path.join(self.root, PROFILES_DIR)

    def discover(self) -> list[str]:
        """Profiles to show: explicit ones, else the configured globs, else the newest stored."""
        if self.explicit is not None:
            return list(self.explicit)
        if self.settings.profiles:
            found: list[str] = []
            for pattern in self.settings.profiles:
                full = pattern if os.path.isabs(pattern) else os.path.join(self.root, pattern)
                found.extend(sorted(glob.glob(full, recursive=True)))
            return self._inside([p for p in dict.fromkeys(found) if os.path.isfile(p)])
        try:
            entries = [e for e in os.scandir(self.profiles_dir) if e.is_file()]
        except OSError:
            return []
        entries = [e for e in entries if e.path in self._inside([e.path for e in entries])]
        if not entries:
            return []
        return [max(entries, key=lambda e: e.stat().st_mtime_ns).path]

    def _inside(self, paths: list[str]) -> list[str]:
        """The files found without the user naming them must stay in the workspace, symlinks
        resolved; the others are kept in `outside` (to be reported), never read."""
        self.outside = [p for p in paths if not within_workspace(p, self.root)]
        return [p for p in paths if p not in self.outside]

    def load(self, paths: list[str]) -> LoadedProfiles | None:
        """Load, merge and map `paths`; a ProfileError propagates and the previous state stays."""
        loaded = self.adopt(self.build(paths))
        self.settle()
        return loaded

    def build(self, paths: list[str]) -> LoadedProfiles | None:
        """Load, merge and map `paths` without showing them (safe on a worker thread).

        Only the workspace index is touched: the caller keeps other threads off it until done.
        """
        if not paths:
            return None
        stamps = {path: _stamp(path) for path in paths}
        profiles = [load_profile(path) for path in paths]
        merged = merge_profiles(profiles)
        threshold = self.settings.threshold
        result = map_profile(merged, self.index, self.settings.path_mappings, min_share=threshold)
        hot = hot_functions(result, threshold)
        if result.workspace_time > 0:
            # What is shown comes from the mapping; the raw records (a 50,000-function cProfile
            # file is ~45 MiB of them, every call edge twice) are needed again only to say
            # where the time went when nothing maps (`no_checked_time`).
            result.profile = summary_of(merged)
        del profiles, merged
        return LoadedProfiles(
            paths=list(paths), profile=result.profile, result=result, hot=hot, stamps=stamps
        )

    def adopt(self, loaded: LoadedProfiles | None) -> LoadedProfiles | None:
        """Show `loaded` (from `build`) from now on; `settle` it once it has been shown."""
        self.loaded = loaded
        self._unsettled = loaded is not None
        return loaded

    def settle(self) -> None:
        """Tidy memory after adopting a load (once per load; ~25-40 ms, so after publishing).

        A loaded profile is a few hundred thousand long-lived objects: without the freeze, each
        full collection walks them all (~90 ms, felt as a stutter while typing).
        """
        if not self._unsettled:
            return
        self._unsettled = False
        gc.unfreeze()  # let what the previous profile left in cycles be collected
        gc.collect()
        gc.freeze()
        # The raw records are gone (see `build`): hand their pages back (~6 MiB of RSS for
        # bench_lsp's 50,000-function profile) instead of keeping the load's high-water mark.
        release_free_memory()

    def load_key(self) -> tuple[object, ...]:
        """What a load depends on besides the files: equal keys give equal loads."""
        settings = self.settings
        return (tuple(settings.profiles), settings.threshold, repr(settings.path_mappings))

    def reload(self) -> LoadedProfiles | None:
        """Discover and load again (after settings changed or a profile was rewritten)."""
        return self.load(self.discover())

    def load_explicit(self, paths: list[str]) -> LoadedProfiles | None:
        """Load profiles the user chose; they stay until `clear`."""
        resolved = [p if os.path.isabs(p) else os.path.join(self.root, p) for p in paths]
        loaded = self.load(resolved)
        self.explicit = resolved
        return loaded

    def clear(self) -> None:
        """Forget every loaded profile and stop showing annotations until the next load."""
        self.explicit = []
        self.loaded = None

    def stale(self) -> bool:
        """Did a loaded profile change on disk, or did a newer one appear to be discovered?"""
        if self.loaded is None:
            return bool(self.discover()) and self.explicit != []
        if any(_stamp(p) != s for p, s in self.loaded.stamps.items()):
            return True
        return sorted(self.discover()) != sorted(self.loaded.paths)

    def open_document(self, path: str, text: str, version: int, encoding: str) -> LiveDocument:
        """A live document for an editor buffer, reusing the mapping's index when it matches."""
        module = self.index.cached_module(path, text)
        return LiveDocument(path, text, version, encoding, module=module)

    def watched_globs(self) -> list[str]:
        """Glob patterns (relative to the root) whose changes may change what is shown."""
        patterns = [f"{PROFILES_DIR.as_posix()}/**"]
        patterns += [p for p in self.settings.profiles if not os.path.isabs(p)]
        if self.loaded:
            patterns += [
                os.path.relpath(p, self.root).replace(os.sep, "/")
                for p in self.loaded.paths
                if _inside(p, self.root)
            ]
        return list(dict.fromkeys(patterns))


def summary_of(profile: Profile) -> Profile:
    """`profile` without its per-function records and stacks: its totals, unit and facts."""
    return Profile(
        format=profile.format,
        unit=profile.unit,
        source=profile.source,
        total=profile.total,
        duration=profile.duration,
        meta=dict(profile.meta),
        samples=profile.samples,
    )


def _stamp(path: str) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1, -1)
    return (info.st_mtime_ns, info.st_size)


def _inside(path: str, root: str) -> bool:
    return os.path.abspath(path).startswith(root.rstrip(os.sep) + os.sep)
