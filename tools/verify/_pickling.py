"""Pickling for the capture bootstrap (stdlib only): tapped iterator arguments, and modules
and module-level singletons recorded by reference. Loaded by path from _bootstrap.py."""

from __future__ import annotations

import importlib
import io
import operator
import pickle
import sys
import types
from collections.abc import Iterator
from typing import Any

PROTOCOL = pickle.HIGHEST_PROTOCOL
TAPPED = "perfpilot-tapped-inputs-1"  # inputs with iterator arguments recorded as they were pulled


class Tap:
    """An iterator argument (a generator...) passed on item by item, keeping what was pulled.

    The call gets the tap instead of the iterator; it pulls the same items in the same order.
    In the recorded inputs the tap becomes a list iterator over the items the call pulled.
    """

    def __init__(self, source: Iterator[Any], limit: int) -> None:
        self.source = source
        self.items = []
        self.limit = limit
        self.overflow = False
        self.recording = True

    def __iter__(self) -> Tap:
        return self

    def __next__(self) -> Any:
        item = next(self.source)
        if self.recording:
            self.items.append(item)
            if len(self.items) > self.limit:
                self.overflow, self.recording, self.items = True, False, []
        return item

    def __reduce__(self) -> Any:
        return (iter, ([],))  # what a replayed argument is after the call: used up

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)  # send(), close(), gi_frame...: the real iterator's


class Tapped:
    """Inputs pickled at entry with the taps left as persistent ids, and the taps."""

    def __init__(self, body: bytes, taps: list[Tap]) -> None:
        self.body = body
        self.taps = taps

    def __len__(self) -> int:
        return len(self.body)

    def final(self) -> bytes:
        """The recorded inputs: the entry pickle and the items each tap saw."""
        for tap in self.taps:
            tap.recording = False
        return dumps((TAPPED, self.body, [tap.items for tap in self.taps]))


_PLAIN = frozenset(
    (str, bytes, int, float, bool, type(None), tuple, list, dict, set, frozenset, complex)
)
_SINGLETONS: dict[type, dict[int, tuple[Any, str]]] = {}


def singletons(kind: type) -> dict[int, tuple[Any, str]]:
    """Instances of `kind` that its module holds as globals, or under their attributes.

    Token types (pygments, sqlparse: `Token.Literal.String`) are such singletons, compared
    with `is`; pickled by value they would come back as look-alikes and the replay would take
    other paths. id -> (the object, kept alive so the id stays its own; its attribute path).
    """
    found = _SINGLETONS.get(kind)
    if found is not None:
        return found
    found = _SINGLETONS[kind] = {}
    module = sys.modules.get(kind.__module__)
    if module is None or kind.__module__ == "builtins":
        return found
    pending = [(name, value) for name, value in vars(module).items() if type(value) is kind]
    while pending and len(found) < 20000:
        path, value = pending.pop()
        if id(value) in found:
            continue
        found[id(value)] = (value, path)
        attributes = getattr(value, "__dict__", None)
        if isinstance(attributes, dict):
            pending += [(f"{path}.{k}", v) for k, v in attributes.items() if type(v) is kind]
    return found


# Modules whose functions are being captured (the bootstrap adds them): a sentinel they hold
# is recorded through them, so the replay resolves it in the fresh copy the fix runs in.
HOMES: set[str] = set()
_SENTINELS: dict[int, tuple[Any, str, str]] = {}
_SCANNED = [-1]  # len(sys.modules) at the last scan


def sentinels() -> dict[int, tuple[Any, str, str]]:
    """Bare `object()` sentinels held as module globals: id -> (object, module, attribute).

    `PROCESS_AS_KEYWORD = object()` (sqlparse's lexer table), `_MISSING = object()`: compared
    with `is`, they cannot be found through their class (it is `object`), so every loaded
    module is scanned (again when modules were imported since). A capture module's holding
    wins over another module's re-export.
    """
    if _SCANNED[0] == len(sys.modules):
        return _SENTINELS
    _SENTINELS.clear()
    for name, module in list(sys.modules.items()):
        if name == "__main__" or type(module) is not types.ModuleType:
            continue  # the replay imports holders by name: the program's script is not one
        attributes = module.__dict__
        if attributes.get("__spec__") is None:
            continue
        for attribute, value in list(attributes.items()):
            if type(value) is not object:
                continue
            held = _SENTINELS.get(id(value))
            if held is None or (name in HOMES and held[1] not in HOMES):
                _SENTINELS[id(value)] = (value, name, attribute)
    _SCANNED[0] = len(sys.modules)
    return _SENTINELS


class CapturePickler(pickle.Pickler):
    """A pickler that records modules and module-level singletons by reference."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN or isinstance(obj, type):
            return NotImplemented
        if kind is types.ModuleType:
            return (importlib.import_module, (obj.__name__,))
        if kind is object:
            held = sentinels().get(id(obj))
            if held is None or held[0] is not obj:
                return NotImplemented
            return (operator.attrgetter(held[2]), (sys.modules[held[1]],))
        entry = singletons(kind).get(id(obj))
        if entry is None or entry[0] is not obj:
            return NotImplemented
        return (operator.attrgetter(entry[1]), (sys.modules[kind.__module__],))


def dumps(value: Any) -> bytes:
    """`pickle.dumps` with singletons by reference (see CapturePickler)."""
    buffer = io.BytesIO()
    CapturePickler(buffer, PROTOCOL).dump(value)
    return buffer.getvalue()


class TapPickler(CapturePickler):
    """Pickles a call's arguments with its taps as persistent ids (their items come later)."""

    def __init__(self, file: io.BytesIO, taps: list[Tap]) -> None:
        super().__init__(file, PROTOCOL)
        self.ids = {id(tap): index for index, tap in enumerate(taps)}

    def persistent_id(self, obj: Any) -> Any:
        return self.ids.get(id(obj)) if type(obj) is Tap else None
