"""A quick "certainly equal" for replay's comparisons (stdlib only; loaded by path).

Replay compares the original's outcome with the original's again, the fix's, the recorded one
and, for reuse in timing, a fresh copy of the arguments: four walks over every call's whole
state graph in Python (a parser's processor holds its whole document: ~40,000 objects). Two
values that pickle to the very same bytes are equal by that comparison too, so equal bytes
settle it at C speed; different bytes (or no bytes) leave it to the comparison, which finds the
place and applies the float tolerance. Equal bytes are only trusted when pickling shows all
state: an object whose class (outside the standard library) has its own `__reduce__`,
`__reduce_ex__` or `__getstate__`, or a copyreg entry, might leave a changed cache or counter
out, so it gives no bytes (and its hook is never called). A compiled pattern is pickled by its
pattern and flags without sharing the pattern string (re's cache makes two loads of the same
state share it differently).
"""

from __future__ import annotations

import copyreg
import io
import pickle
import re
import sys
import types
from typing import Any

_HOOKS = ("__reduce__", "__reduce_ex__", "__getstate__")
_HIDES_STATE: dict[type, bool] = {}
_PATTERN = re.Pattern


def hides_state(kind: type) -> bool:
    """Whether instances of `kind` pickle through a hook of the program's own (or copyreg)."""
    found = _HIDES_STATE.get(kind)
    if found is None:
        found = (kind in copyreg.dispatch_table and not _standard(kind)) or any(
            isinstance(klass.__dict__.get(hook), (types.FunctionType, classmethod, staticmethod))
            for klass in kind.__mro__
            if not _standard(klass)
            for hook in _HOOKS
        )
        _HIDES_STATE[kind] = found
    return found


def _standard(klass: type) -> bool:
    """Whether a class comes with Python (builtins or a standard-library module)."""
    top = (klass.__module__ or "").partition(".")[0]
    return top == "builtins" or top in sys.stdlib_module_names


class _StateHidden(Exception):
    """An object whose pickled form may not show all of its state."""


class _Fingerprinter(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is _PATTERN:
            pattern = obj.pattern
            unshared = (
                pattern.encode("utf-8", "surrogatepass")
                if isinstance(pattern, str)
                else (b"b" + pattern)
            )
            return (re.compile, (unshared, obj.flags))  # never loaded: bytes for comparing
        if hides_state(kind):
            raise _StateHidden(kind.__qualname__)
        return NotImplemented


def fingerprint(value: Any) -> bytes | None:
    """The pickled bytes of `value`, or None when they might not show all of its state."""
    buffer = io.BytesIO()
    try:
        _Fingerprinter(buffer, protocol=3).dump(value)  # no frames: plain bytes to compare
    except Exception:  # not picklable here (a class of the module's fresh copy), or hidden
        return None
    return buffer.getvalue()


_last: tuple[Any, bytes | None] = (None, None)


def certainly_equal(first: Any, second: Any) -> bool:
    """True when both pickle to the same bytes (see above); False means "compare them".

    The first value's bytes are kept for the next call (replay compares the original's
    outcome with three or four others in a row).
    """
    global _last
    if _last[0] is not first:
        _last = (None, None)  # the previous value may go now
        _last = (first, fingerprint(first))
    mine = _last[1]
    return mine is not None and mine == fingerprint(second)
