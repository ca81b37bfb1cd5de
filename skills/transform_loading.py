"""Import a trusted skill's transform.py, on first use: a check needs only the skills it triggers.

Importing the 23 built-in transforms (and the helpers they share) costs ~35 ms of CPU, a
quarter of what `perfpilot check` adds to Python's start-up; most runs trigger a handful.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from perfpilot.tools.model import Applicability

if TYPE_CHECKING:  # libcst loads with the first transform, not with a skill listing
    from perfpilot.skills.api import Transform

LOADED_PACKAGE = "perfpilot.skills._loaded"  # the packages made for trusted skill folders
# Imports of skill packages touch sys.modules in several steps: one at a time, whichever thread
# (the language server's skill worker, its event loop) asks first.
_IMPORTING = threading.RLock()


class TransformError(Exception):
    """A transform.py that cannot be used; the message names the file."""


class TransformLoader:
    """One skill's transform: imported when first asked for, then kept (or its error kept)."""

    def __init__(
        self,
        path: Path,
        name: str,
        code: str,
        applicability: Applicability,
        effect: float | None = None,
    ) -> None:
        self.path = path
        self._settings = (name, code, applicability, effect)
        self._transform: Transform | None = None
        self.error: str | None = None  # why it could not be imported, once it was tried

    @classmethod
    def of(cls, transform: Transform, path: Path | None = None) -> TransformLoader:
        """A loader holding an already made transform (tests, a skill with changed settings)."""
        loader = cls(
            path or Path("<memory>"), transform.name, transform.code, transform.applicability
        )
        loader._transform = transform
        return loader

    @property
    def loaded(self) -> bool:
        """Whether the transform was imported (or given) already."""
        return self._transform is not None

    def get(self) -> Transform:
        """The transform, imported on the first call; raises TransformError if it cannot be."""
        if self._transform is not None:
            return self._transform
        if self.error is not None:
            raise TransformError(self.error)
        with _IMPORTING:
            if self._transform is None and self.error is None:
                try:
                    self._transform = self._load()
                except TransformError as exc:
                    self.error = str(exc)
        if self._transform is None:
            raise TransformError(self.error or f"{self.path}: not loaded")
        return self._transform

    def _load(self) -> Transform:
        name, code, applicability, effect = self._settings
        transform = replace(
            load_transform(self.path, name), name=name, code=code, applicability=applicability
        )
        return replace(transform, effect=effect) if effect is not None else transform


def load_transform(path: Path, name: str) -> Transform:
    """Import a transform.py as `<package>.transform` of a package made for its skill folder.

    Skill folders are kebab-case, not importable names: the folder becomes the package
    `perfpilot.skills._loaded.<name_underscored>` (so a transform can import its sibling
    modules relatively), reused while it is the same folder, replaced when it is another.
    """
    package_name = f"{LOADED_PACKAGE}.{name.replace('-', '_')}"
    module_name = f"{package_name}.transform"
    with _IMPORTING:
        package, module = sys.modules.get(package_name), sys.modules.get(module_name)
        if module is None or getattr(package, "__path__", None) != [str(path.parent)]:
            _forget(package_name)
            spec = importlib.machinery.ModuleSpec(package_name, None, is_package=True)
            spec.submodule_search_locations = [str(path.parent)]
            sys.modules[package_name] = importlib.util.module_from_spec(spec)
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # noqa: BLE001 - a broken transform must not stop the others
                _forget(package_name)
                raise TransformError(
                    f"{path}: import failed: {type(exc).__name__}: {exc}"
                ) from None
        return _transform_of(module, path)


def _forget(package_name: str) -> None:
    """Drop a loaded skill package and its modules, so that the next load starts afresh."""
    for loaded in [m for m in sys.modules if m == package_name or m.startswith(f"{package_name}.")]:
        del sys.modules[loaded]


def _transform_of(module: ModuleType, path: Path) -> Transform:
    from perfpilot.skills.api import Transform

    transform = getattr(module, "TRANSFORM", None)
    if not isinstance(transform, Transform):
        raise TransformError(f"{path}: defines no TRANSFORM (an instance of skills.api.Transform)")
    return transform
