"""Import hook for the verification subprocesses (stdlib only; loaded by path, never imported
through perfpilot): runs callbacks on chosen modules right after their code ran, so every
caller sees what the callbacks installed (a recording wrapper)."""

from __future__ import annotations

import importlib.abc
import os
import sys
import types
from collections.abc import Callable
from typing import Any

Installer = Callable[[types.ModuleType], None]


class Loader(importlib.abc.Loader):
    """Runs the real loader, then the installers on the fresh module."""

    def __init__(self, loader: Any, installers: list[Installer]) -> None:
        self._loader = loader
        self._installers = installers

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        for install in self._installers:
            install(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class Finder(importlib.abc.MetaPathFinder):
    """Finds modules like the next finders do, and wraps the loader of the chosen files."""

    def __init__(self, by_file: dict[str, list[Installer]]) -> None:
        self._by_file = by_file

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        origin = spec.origin and os.path.realpath(spec.origin)
        installers = self._by_file.get(origin)
        if installers and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = Loader(spec.loader, installers)
        return spec


def load_sibling(name: str) -> types.ModuleType:
    """A module of this folder loaded by path (`_perfpilot<name>`), so no user module can
    shadow it."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_perfpilot{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
