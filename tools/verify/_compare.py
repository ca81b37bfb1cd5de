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


class _Found:
    """A difference found deep in two values: the path to it, built on the way back up (so
    no path text is made for the equal parts, which are nearly all of a large state graph)."""

    __slots__ = ("segments", "message", "label")

    def __init__(self, message: str = "", label: str = "value") -> None:
        self.segments: list[str] = []  # innermost first
        self.message = message  # e.g. "length 2 vs 3"; "" when the values just differ
        self.label = label  # what to call the place when the path is empty

    def at(self, segment: str) -> _Found:
        """This difference, seen from one level up."""
        self.segments.append(segment)
        return self


_SAME = None
# Exact types compared by `==` alone (an instance of a subclass takes the general path).
_PLAIN_ATOMS = frozenset({str, bytes, int, bool, type(None)})


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
    found = _diff(a, b, depth, seen)
    if found is None:
        return None
    path = where + "".join(reversed(found.segments))
    if found.message:
        return f"{path or 'value'}: {found.message}"
    return path or found.label


def _diff(
    a: Any, b: Any, depth: int, seen: dict[tuple[int, int], tuple[Any, Any]]
) -> _Found | None:
    if a is b:
        return _SAME
    if depth > MAX_DEPTH:
        return _SAME if short_repr(a) == short_repr(b) else _Found()
    kind = type(a)
    if kind is type(b):
        if kind in _PLAIN_ATOMS:
            return _SAME if a == b else _Found()
    elif type_name(a) != type_name(b):
        return _Found(f"type {kind.__qualname__} vs {type(b).__qualname__}")
    pair = (id(a), id(b))
    if pair in seen:  # compared already, or a cycle being compared further up
        return _SAME
    what = _KINDS.get(kind) or _kind_of(kind)
    if what is _OTHER or what is _OPAQUE:
        if callable(a) and hasattr(a, "__qualname__"):
            same = getattr(a, "__qualname__", None) == getattr(b, "__qualname__", None)
            return _SAME if same else _Found()
        seen[pair] = (a, b)
        if what is _OPAQUE:  # what _containers would come to, without its checks
            return _opaque(a, b, depth, seen)
        return _containers(a, b, depth, seen)
    if what is _FLOAT:
        return _SAME if _close(a, b) else _Found()
    if what is _COMPLEX:
        ok = _close(a.real, b.real) and _close(a.imag, b.imag)
        return _SAME if ok else _Found()
    if what is _TYPE or callable(a) and hasattr(a, "__qualname__"):
        same = getattr(a, "__qualname__", None) == getattr(b, "__qualname__", None)
        return _SAME if same else _Found()
    if what is _ATOM:
        return _SAME if a == b else _Found()
    if what is _ITERATOR:  # an iterator argument: its items and position, unconsumed
        return _diff(a.__reduce__()[1:], b.__reduce__()[1:], depth + 1, seen)
    return _numpy(a, b)


# How a type's values are compared, decided once per type (the order of the checks matters:
# a float subclass is a float, a callable str subclass is compared as a callable).
_FLOAT, _COMPLEX, _TYPE, _ATOM, _ITERATOR, _NUMPY, _OPAQUE, _OTHER = (
    "float complex type atom iter numpy opaque other".split()
)
_KINDS: dict[type, str] = {}


def _kind_of(kind: type) -> str:
    if issubclass(kind, float):
        what = _FLOAT
    elif issubclass(kind, complex):
        what = _COMPLEX
    elif issubclass(kind, type):
        what = _TYPE
    elif issubclass(kind, (str, bytes, int, bool, type(None), range, bytearray)):
        what = _ATOM
    elif kind is _LIST_ITERATOR:
        what = _ITERATOR
    elif kind.__module__ == "numpy" or kind.__module__.startswith("numpy."):
        what = _NUMPY
    elif _opaque_type(kind):
        what = _OPAQUE
    else:
        what = _OTHER
    _KINDS[kind] = what
    return what


def _opaque_type(kind: type) -> bool:
    """Whether values of `kind` are compared by _opaque: no attributes (no `__dict__`, no
    slots, no `__getattr__` that could make one), identity `==`, not a container (etree's
    Element, StringIO: nearly every node of an XML or HTML parser's state)."""
    return (
        kind.__dictoffset__ == 0
        and not _slot_names(kind)
        and getattr(kind, "__getattr__", None) is None
        and kind.__eq__ is object.__eq__
        and not issubclass(kind, (list, tuple, dict, set, frozenset, BaseException))
    )


def _containers(
    a: Any, b: Any, depth: int, seen: dict[tuple[int, int], tuple[Any, Any]]
) -> _Found | None:
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return _Found(f"length {len(a)} vs {len(b)}")
        deeper = depth + 1
        for index, (x, y) in enumerate(zip(a, b)):
            if x is not y:
                kind = type(x)
                if kind in _PLAIN_ATOMS and kind is type(y) and depth < MAX_DEPTH:
                    if x == y:
                        continue
                    return _Found().at(f"[{index}]")
                found = _diff(x, y, deeper, seen)
                if found is not None:
                    return found.at(f"[{index}]")
        return _SAME
    if isinstance(a, dict):
        if len(a) != len(b):
            return _Found(f"{len(a)} keys vs {len(b)}")
        if a.keys() != b.keys():
            # Keys that hash by identity (Elements, plain objects) are new objects in every
            # replay: match the entries in insertion order instead (a replay keeps the order).
            return _containers(list(a.items()), list(b.items()), depth, seen)
        return _entries(a, b, depth, seen, attributes=False)
    if isinstance(a, (set, frozenset)):
        if len(a) != len(b):
            return _Found(f"{len(a)} items vs {len(b)}")
        if a == b:
            return _SAME
        rest = list(b)  # elements of fresh-module classes: match by state, pairwise
        for item in a:
            match = next(
                (
                    i
                    for i, y in enumerate(rest)  # a trial: its pairs must not count as compared
                    if _diff(item, y, depth + 1, dict(seen)) is None
                ),
                None,
            )
            if match is None:
                return _Found(f"{short_repr(item, 60)} only in one")
            rest.pop(match)
        return _SAME
    if isinstance(a, BaseException):
        return _SAME if type_name(a) == type_name(b) else _Found(label="exception")
    state_a, state_b = _state(a), _state(b)
    if state_a is None or state_b is None:
        if type(a).__eq__ is object.__eq__:  # `==` would only say whether it is the same object
            return _opaque(a, b, depth, seen)
        try:
            return _SAME if bool(a == b) else _Found()
        except Exception:
            return _SAME if short_repr(a) == short_repr(b) else _Found()
    if state_a.keys() != state_b.keys():
        return _Found(f"attributes {sorted(state_a)} vs {sorted(state_b)}")
    return _entries(state_a, state_b, depth, seen, attributes=True)


def _entries(
    a: dict[Any, Any],
    b: dict[Any, Any],
    depth: int,
    seen: dict[tuple[int, int], tuple[Any, Any]],
    attributes: bool,
) -> _Found | None:
    """The first difference between the values of two mappings with the same keys."""
    deeper = depth + 1
    for key, value in a.items():
        other = b[key]
        if value is not other:
            kind = type(value)
            if kind in _PLAIN_ATOMS and kind is type(other) and depth < MAX_DEPTH:
                if value == other:  # plain values compared inline: no call per item
                    continue
                found: _Found | None = _Found()
            else:
                found = _diff(value, other, deeper, seen)
            if found is not None:
                return found.at(f".{key}" if attributes else f"[{short_repr(key, 60)}]")
    return _SAME


def _opaque(
    a: Any, b: Any, depth: int, seen: dict[tuple[int, int], tuple[Any, Any]]
) -> _Found | None:
    """Objects with no attributes and no `==` (C types such as etree's Element, StringIO):
    by the state they pickle, else by their repr without memory addresses."""
    getstate = getattr(type(a), "__getstate__", None)
    if getstate is not None and getstate is not object.__getstate__:
        try:
            state_a, state_b = a.__getstate__(), b.__getstate__()
        except Exception:
            pass
        else:
            return _diff(state_a, state_b, depth + 1, seen)
    same = _ADDRESS.sub("", short_repr(a)) == _ADDRESS.sub("", short_repr(b))
    return _SAME if same else _Found()


def _state(value: object) -> dict[str, Any] | None:
    """An object's state (dict of attributes), or None when it has none to compare."""
    state = {}
    has_dict = hasattr(value, "__dict__")
    if has_dict and isinstance(value.__dict__, dict):
        state.update(value.__dict__)
    for name in _slot_names(type(value)):
        if hasattr(value, name):
            state[name] = getattr(value, name)
    if not state and not has_dict:
        return None
    return state


_SLOTS: dict[type, tuple[str, ...]] = {}


def _slot_names(kind: type) -> tuple[str, ...]:
    """The `__slots__` names of a type and its bases (remembered per type)."""
    names = _SLOTS.get(kind)
    if names is None:
        found = []
        for klass in kind.__mro__:
            slots = klass.__dict__.get("__slots__", ())
            for name in (slots,) if isinstance(slots, str) else slots:
                if name not in ("__dict__", "__weakref__"):
                    found.append(name)
        names = _SLOTS[kind] = tuple(found)
    return names


def _close(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _numpy(a: Any, b: Any) -> _Found | None:
    import numpy

    if not isinstance(a, numpy.ndarray):
        return _SAME if a == b or (a != a and b != b) else _Found()
    if a.shape != b.shape or a.dtype != b.dtype:
        return _Found(f"shape/dtype {a.shape} {a.dtype} vs {b.shape} {b.dtype}")
    if a.dtype.kind in "fc":
        ok = numpy.allclose(a, b, rtol=REL_TOL, atol=ABS_TOL, equal_nan=True)
    else:
        ok = bool(numpy.array_equal(a, b))
    return _SAME if ok else _Found(label="array")
