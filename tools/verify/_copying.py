"""Independent copies of live call arguments for in-process verification (stdlib only).

Loaded by path from _live.py. `copy.deepcopy` with two departures, both guarded:
- objects held by a module's globals (a sentinel such as jinja2's `missing`, pygments' token
  types, a module's registry; not the script's `__main__`) are shared, not copied: code
  compares them with `is`;
- an object deepcopy cannot copy (a jinja2 `Template` in a cache, a lock) is shared too, up
  to MAX_SHARED of them; beyond that the arguments cannot be copied.
What is shared is fingerprinted (every object reachable from it, by identity of its parts)
before and after each compared call: a call that changes a shared object makes the
comparison meaningless, and verification says so instead of judging.
"""

from __future__ import annotations

import copy
import gc
import sys
import types
from typing import Any

MAX_SHARED = 32
MAX_WALK = 200_000  # objects fingerprinted below the shared ones
_ATOMIC = (str, bytes, int, float, bool, complex, type(None), type, types.ModuleType)
_PLAIN_CONTAINERS = (list, dict, set, bytearray)
_NO_DESCENT = (
    types.ModuleType,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.CodeType,
    types.FrameType,
    types.MethodType,
)


class CopyError(Exception):
    """The arguments cannot be copied; the message says which object and why."""


class _Memo(dict):
    """deepcopy's memo, seeded with objects to share; remembers which of them were met."""

    def __init__(self, seed: dict[int, Any]) -> None:
        super().__init__(seed)
        self.seeded = seed
        self.met: dict[int, Any] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        found = super().get(key, default)
        if found is not default and key in self.seeded:
            self.met[key] = found
        return found


class Copier:
    """Makes copies of call arguments that share module-level and uncopyable objects."""

    def __init__(self) -> None:
        self._seed: dict[int, Any] = {}
        self._modules = -1
        self.uncopyable: dict[int, Any] = {}  # objects deepcopy failed on: shared from now on
        self.first_failure = ""  # "jinja2.environment.Template: TypeError: ..."

    def _globals(self) -> dict[int, Any]:
        """Module-level objects of every loaded module, refreshed when modules were added."""
        if len(sys.modules) != self._modules:
            seed: dict[int, Any] = {}
            for name, module in list(sys.modules.items()):
                if name == "__main__":  # the program's script: its globals are its data
                    continue
                for value in list(getattr(module, "__dict__", {}).values()):
                    if not isinstance(value, _ATOMIC + _PLAIN_CONTAINERS):
                        seed[id(value)] = value
            self._seed, self._modules = seed, len(sys.modules)
        return self._seed

    def copy(self, value: Any) -> tuple[Any, list[Any]]:
        """A deep copy of `value` and the objects it shares with it; CopyError if impossible."""
        for _ in range(MAX_SHARED + 1):
            seed = dict(self._globals())
            seed.update(self.uncopyable)
            memo = _Memo(seed)
            try:
                copied = copy.deepcopy(value, memo)
            except RecursionError:
                raise CopyError("the arguments are nested too deeply to copy") from None
            except Exception as exc:
                culprit = _failing_object(exc)
                if culprit is None or id(culprit) in self.uncopyable:
                    raise CopyError(f"{type(exc).__name__}: {exc}"[:200]) from None
                if not self.first_failure:
                    kind = type(culprit)
                    self.first_failure = (
                        f"{kind.__module__}.{kind.__qualname__}: {type(exc).__name__}: {exc}"
                    )[:200]
                if len(self.uncopyable) >= MAX_SHARED:
                    break
                self.uncopyable[id(culprit)] = culprit
                continue
            shared = list(memo.met.values())
            return copied, [s for s in shared if not isinstance(s, _NO_DESCENT)]
        raise CopyError(
            f"more than {MAX_SHARED} objects cannot be deep-copied (first: {self.first_failure})"
        )


def _failing_object(error: BaseException) -> Any:
    """The object the innermost `copy.deepcopy` frame was copying when `error` was raised."""
    found = None
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code is copy.deepcopy.__code__:
            found = frame.f_locals.get("x")
        trace = trace.tb_next
    return found


def fingerprint(roots: list[Any]) -> tuple[Any, ...] | None:
    """The identity structure of everything reachable from `roots` (None: too large).

    Any change a call makes to those objects' Python-level state (an attribute rebound, an
    item added, a list reordered) changes the fingerprint.
    """
    seen: set[int] = set()
    parts: list[tuple[int, tuple[int, ...]]] = []
    stack = list(roots)
    keep = []
    while stack:
        value = stack.pop()
        if id(value) in seen or isinstance(value, _ATOMIC):
            continue
        seen.add(id(value))
        if len(seen) > MAX_WALK:
            return None
        keep.append(value)
        if isinstance(value, _NO_DESCENT) or _is_module_dict(value):
            continue
        referents = gc.get_referents(value)
        parts.append((id(value), tuple(id(r) for r in referents)))
        stack.extend(referents)
    del keep
    parts.sort()
    return tuple(parts)


def _is_module_dict(value: Any) -> bool:
    return type(value) is dict and "__name__" in value and "__builtins__" in value
