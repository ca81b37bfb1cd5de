"""One replayed call and its outcome (stdlib only; loaded by path from _worker.py).

How a recorded call's arguments are loaded (the module's own singletons resolved to the copy
under test, tapped iterators to iterators over what the call pulled), how a version of the
module is built, what one call did (returned or raised, the arguments afterwards, what it
printed, what a generator yielded) and how two outcomes are compared and shown.
"""

from __future__ import annotations

import importlib
import inspect
import io
import os
import pickle
import sys
import types
from collections.abc import Callable
from typing import Any


def _load_sibling(name: str) -> types.ModuleType:
    """A sibling module (`_compare`...), loaded by path so no user module can shadow it."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_perfpilot{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_compare = _load_sibling("_compare")
_fingerprint = _load_sibling("_fingerprint")

ALL_ITEMS = 100_000  # a live generator call is consumed to its end, up to this many items
TAPPED = "perfpilot-tapped-inputs-1"  # the same marker as _bootstrap.TAPPED


class Outcome:
    """What one call did: returned or raised, the arguments afterwards, what it printed.

    `items` is what a generator call yielded (None when the call returned no generator).
    """

    __slots__ = ("kind", "value", "after", "stdout", "stderr", "items")

    def __init__(
        self,
        kind: str,
        value: Any,
        after: Any,
        stdout: str,
        stderr: str,
        items: list[Any] | None = None,
    ) -> None:
        self.kind, self.value, self.after = kind, value, after
        self.stdout, self.stderr, self.items = stdout, stderr, items


class _Namespace:
    """A module's globals as attributes (a fresh copy's, for singletons recorded by path)."""

    def __init__(self, globals_: dict[str, Any]) -> None:
        self._globals = globals_

    def __getattr__(self, name: str) -> Any:
        try:
            return self._globals[name]
        except KeyError:
            raise AttributeError(name) from None


class _Unpickler(pickle.Unpickler):
    """Resolves a recorded module (`import_module(name)`, see CapturePickler in _bootstrap.py)
    to the fresh copy the version under test runs in, so its singletons are that copy's own;
    and a tapped iterator argument's persistent id to an iterator over the items it gave."""

    def __init__(self, data: bytes, home: dict[str, Any] | None, streams: list[Any]) -> None:
        super().__init__(io.BytesIO(data))
        self._home = home
        self._streams = streams
        self._made: dict[int, Any] = {}
        self.homed = False  # whether the inputs refer to the module under test (its copy)

    def find_class(self, module: str, name: str) -> Any:
        found = super().find_class(module, name)
        if found is importlib.import_module and self._home is not None:
            home = self._home

            def resolve(target: str) -> Any:
                if target == home.get("__name__"):
                    self.homed = True
                    return _Namespace(home)
                return found(target)

            return resolve
        return found

    def persistent_load(self, pid: Any) -> Any:
        if pid not in self._made:
            self._made[pid] = iter(self._streams[pid])
        return self._made[pid]


def load_inputs(
    inputs: bytes, function: Callable[..., Any] | None = None
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Fresh (args, kwargs) of a recorded call, for `function` (its module's singletons).

    A tapped iterator argument becomes an iterator over the items the call pulled from it.
    """
    return _load(inputs, function)[0]


def _load(
    inputs: bytes, function: Callable[..., Any] | None
) -> tuple[tuple[tuple[Any, ...], dict[str, Any]], bool]:
    """load_inputs, and whether the inputs refer to the module under test."""
    home = getattr(function, "__globals__", None)
    unpickler = _Unpickler(inputs, home, [])
    value = unpickler.load()
    if not (isinstance(value, tuple) and len(value) == 3 and value[0] == TAPPED):
        return value, unpickler.homed
    _, body, streams = value
    unpickler = _Unpickler(body, home, streams)
    return unpickler.load(), True  # a tapped iterator is consumed by the call: never reused


def plan(saved: dict[str, Any] | None) -> int | None:
    """How many items to consume of a recorded generator call (None: not a generator call)."""
    consumed = saved.get("consumed") if isinstance(saved, dict) else None
    if consumed is None:
        return None
    return consumed if saved["kind"] == "closed" else consumed + 1


def _recorded(outcome: bytes) -> dict[str, Any] | None:
    """The recorded outcome of a call, unpickled (None when it cannot be)."""
    try:
        saved = pickle.loads(outcome)
    except Exception:
        return None
    return saved if isinstance(saved, dict) else None


def build(
    module: types.ModuleType, source: str | types.CodeType, filename: str, qualname: str
) -> Any:
    """A fresh copy of `module` run from `source` (or its compiled code); returns the function
    named `qualname`."""
    fresh = types.ModuleType(module.__name__)
    for name in ("__file__", "__package__", "__spec__", "__loader__", "__path__"):
        if hasattr(module, name):
            setattr(fresh, name, getattr(module, name))
    code = source if isinstance(source, types.CodeType) else compile(source, filename, "exec")
    exec(code, fresh.__dict__)
    owner = fresh
    parts = qualname.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part)
    name = parts[-1]
    if isinstance(owner, type) and name.startswith("__") and not name.endswith("__"):
        name = f"_{owner.__name__.lstrip('_')}{name}"  # a `__private` method, as stored
    raw = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    if isinstance(raw, (staticmethod, classmethod)):
        raw = raw.__func__  # recorded arguments hold the class (or nothing) already
    return raw


def call(function: Callable[..., Any], inputs: bytes, limit: int | None = None) -> Outcome:
    """Run one recorded call on fresh copies of its arguments (`limit`: a generator call's)."""
    args, kwargs = load_inputs(inputs, function)
    return run_call(function, args, kwargs, limit)


def run_call(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    limit: int | None = None,
) -> Outcome:
    """Run one call: what it returned or raised, its arguments afterwards, what it printed.

    `limit`: consume up to that many items of the generator the call returns.
    """
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    items = None
    try:
        value = function(*args, **kwargs)
        if limit is not None and inspect.isgenerator(value):
            generator, value, items = value, None, []
            while len(items) < limit:  # item by item: a raise still shows what came before
                try:
                    items.append(next(generator))
                except StopIteration as stop:
                    value = stop.value
                    break
            else:
                generator.close()
        kind = "return"
    except Exception as exc:
        kind = "raise"
        value = (type(exc).__module__, type(exc).__qualname__, str(exc))
    finally:
        sys.stdout, sys.stderr = saved
    return Outcome(kind, value, (args, kwargs), out.getvalue(), err.getvalue(), items)


def compare(first: Outcome, second: Outcome) -> tuple[str, str] | None:
    """(aspect, detail) of the first way two outcomes differ, or None."""
    if (first.items is None) != (second.items is None):
        return ("yielded items", "a generator vs not a generator")
    if first.items is not None:
        where = _compare.difference(first.items, second.items)
        if where:
            return ("yielded items", where)
    if first.kind != second.kind:
        return ("exception", f"{first.kind} vs {second.kind}")
    if first.kind == "raise":
        if first.value[:2] != second.value[:2]:
            return ("exception", "exception type")
    else:
        where = _compare.difference(first.value, second.value)
        if where:
            return ("return value", where)
    where = state_difference(first.after, second.after)
    if where:
        return ("argument mutation", _argument(where))
    if first.stdout != second.stdout:
        return ("output", "stdout")
    if first.stderr != second.stderr:
        return ("output", "stderr")
    return None


def state_difference(first: Any, second: Any) -> str | None:
    """_compare.difference, settled at C speed when both pickle to the same bytes (a call's
    arguments afterwards: a processor holding its whole document, see _fingerprint.py)."""
    if _fingerprint.certainly_equal(first, second):
        return None
    return _compare.difference(first, second)


def _argument(where: str) -> str:
    """'[0][1]...' in ((args), {kwargs}) -> 'argument 2...'."""
    if where.startswith("[0]["):
        index, _, rest = where[4:].partition("]")
        return f"argument {int(index) + 1}{rest}" if index.isdigit() else where
    return where.replace("[1]", "keyword argument ", 1) if where.startswith("[1]") else where


def shown(outcome: Outcome, aspect: str = "return value", detail: str = "") -> str:
    """What a person needs to see of one side of a difference."""
    if aspect == "output":
        return "printed " + _compare.short_repr(
            outcome.stderr if detail == "stderr" else outcome.stdout
        )
    if aspect == "yielded items":
        return "yielded " + _compare.short_repr(outcome.items)
    if aspect == "argument mutation":
        args, kwargs = outcome.after
        return "arguments after the call: " + _compare.short_repr(
            list(args) + ([kwargs] if kwargs else [])
        )
    if outcome.kind == "raise":
        module, name, message = outcome.value
        return _compare.short_repr(f"raised {name}: {message}")
    return _compare.short_repr(outcome.value)
