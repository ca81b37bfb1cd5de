"""Deep comparison of two results for replay (stdlib only; runs in the replay subprocess).

Documented tolerance: floats (and complex parts) are equal when
`math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)`, and NaN equals NaN; everything else
must match exactly. Types are compared by module and qualified name (the fixed function lives
in a fresh copy of its module, so its classes are new objects with the same names). Objects
without their own `__eq__` are compared by state (`__dict__` and `__slots__`); numpy arrays by
shape, dtype and values (with the float tolerance).
"""

from __future__ import annotations

import math
import re
import reprlib
from typing import Any

REL_TOL = 1e-9
ABS_TOL = 1e-12
MAX_DEPTH = 200
_LIST_ITERATOR = type(iter([]))
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = 8
_short.maxlevel = 4


def short_repr(value: object, limit: int = 200) -> str:
    """A repr cut to `limit` characters, that never raises."""
    try:
        text = _short.repr(value)
    except Exception as exc:  # a user __repr__ may fail
        text = f"<{type(value).__qualname__}: repr failed: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(value: object) -> str:
    """`module.QualName` of a value's type."""
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def difference(
    a: Any,
    b: Any,
    where: str = "",
    depth: int = 0,
    seen: dict[tuple[int, int], tuple[Any, Any]] | None = None,
) -> str | None:
    """Where `a` and `b` first differ (a path such as "[2].name"), or None when they agree."""
    if seen is None:
        # Pairs already compared or being compared. Kept for the whole comparison (a pair that
        # differs ends it), so graphs with back-references (parent links) are walked once, not
        # once per path; the values keep the objects alive, so an id cannot be reused.
        seen = {}
    if a is b:
        return None
    if depth > MAX_DEPTH:
        return None if short_repr(a) == short_repr(b) else where or "value"
    if type_name(a) != type_name(b):
        return f"{where or 'value'}: type {type(a).__qualname__} vs {type(b).__qualname__}"
    pair = (id(a), id(b))
    if pair in seen:  # compared already, or a cycle being compared further up
        return None
    if isinstance(a, float):
        return None if _close(a, b) else where or "value"
    if isinstance(a, complex):
        ok = _close(a.real, b.real) and _close(a.imag, b.imag)
        return None if ok else where or "value"
    if isinstance(a, type) or callable(a) and hasattr(a, "__qualname__"):
        same = getattr(a, "__qualname__", None) == getattr(b, "__qualname__", None)
        return None if same else where or "value"
    if isinstance(a, (str, bytes, int, bool, type(None), range, bytearray)):
        return None if a == b else where or "value"
    if type(a) is _LIST_ITERATOR:  # an iterator argument: its items and position, unconsumed
        return difference(a.__reduce__()[1:], b.__reduce__()[1:], where, depth + 1, seen)
    if type(a).__module__ == "numpy" or type(a).__module__.startswith("numpy."):
        return _numpy(a, b, where)
    seen[pair] = (a, b)
    return _containers(a, b, where, depth, seen)


def _containers(
    a: Any, b: Any, where: str, depth: int, seen: dict[tuple[int, int], tuple[Any, Any]]
) -> str | None:
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{where or 'value'}: length {len(a)} vs {len(b)}"
        for index, (x, y) in enumerate(zip(a, b)):
            found = difference(x, y, f"{where}[{index}]", depth + 1, seen)
            if found:
                return found
        return None
    if isinstance(a, dict):
        if len(a) != len(b):
            return f"{where or 'value'}: {len(a)} keys vs {len(b)}"
        if any(key not in b for key in a):
            # Keys that hash by identity (Elements, plain objects) are new objects in every
            # replay: match the entries in insertion order instead (a replay keeps the order).
            return _containers(list(a.items()), list(b.items()), where, depth, seen)
        for key, value in a.items():
            found = difference(value, b[key], f"{where}[{short_repr(key, 60)}]", depth + 1, seen)
            if found:
                return found
        return None
    if isinstance(a, (set, frozenset)):
        if len(a) != len(b):
            return f"{where or 'value'}: {len(a)} items vs {len(b)}"
        if a == b:
            return None
        rest = list(b)  # elements of fresh-module classes: match by state, pairwise
        for item in a:
            match = next(
                (
                    i
                    for i, y in enumerate(rest)  # a trial: its pairs must not count as compared
                    if not difference(item, y, "", depth + 1, dict(seen))
                ),
                None,
            )
            if match is None:
                return f"{where or 'value'}: {short_repr(item, 60)} only in one"
            rest.pop(match)
        return None
    if isinstance(a, BaseException):
        return None if type_name(a) == type_name(b) else where or "exception"
    state_a, state_b = _state(a), _state(b)
    if state_a is None or state_b is None:
        if type(a).__eq__ is object.__eq__:  # `==` would only say whether it is the same object
            return _opaque(a, b, where, depth, seen)
        try:
            return None if bool(a == b) else where or "value"
        except Exception:
            return None if short_repr(a) == short_repr(b) else where or "value"
    if set(state_a) != set(state_b):
        return f"{where or 'value'}: attributes {sorted(state_a)} vs {sorted(state_b)}"
    for name, value in state_a.items():
        found = difference(value, state_b[name], f"{where}.{name}", depth + 1, seen)
        if found:
            return found
    return None


def _opaque(
    a: Any, b: Any, where: str, depth: int, seen: dict[tuple[int, int], tuple[Any, Any]]
) -> str | None:
    """Objects with no attributes and no `==` (C types such as etree's Element, StringIO):
    by the state they pickle, else by their repr without memory addresses."""
    getstate = getattr(type(a), "__getstate__", None)
    if getstate is not None and getstate is not object.__getstate__:
        try:
            state_a, state_b = a.__getstate__(), b.__getstate__()
        except Exception:
            pass
        else:
            return difference(state_a, state_b, where, depth + 1, seen)
    same = _ADDRESS.sub("", short_repr(a)) == _ADDRESS.sub("", short_repr(b))
    return None if same else where or "value"


def _state(value: object) -> dict[str, Any] | None:
    """An object's state (dict of attributes), or None when it has none to compare."""
    state = {}
    if hasattr(value, "__dict__") and isinstance(value.__dict__, dict):
        state.update(value.__dict__)
    for kind in type(value).__mro__:
        slots = kind.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and hasattr(value, name):
                state[name] = getattr(value, name)
    if not state and not hasattr(value, "__dict__"):
        return None
    return state


def _close(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _numpy(a: Any, b: Any, where: str) -> str | None:
    import numpy

    if not isinstance(a, numpy.ndarray):
        return None if a == b or (a != a and b != b) else where or "value"
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"{where or 'value'}: shape/dtype {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    if a.dtype.kind in "fc":
        ok = numpy.allclose(a, b, rtol=REL_TOL, atol=ABS_TOL, equal_nan=True)
    else:
        ok = bool(numpy.array_equal(a, b))
    return None if ok else where or "array"
