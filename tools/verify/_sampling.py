"""Which calls of a running program the verification subprocesses keep (stdlib only; loaded by
path from _bootstrap.py and _live.py, never imported through perfpilot): the function a target
names in its module, and a reservoir sample of its outermost calls spread over the whole run."""

from __future__ import annotations

import functools
import random
import threading
import types
from collections.abc import Callable
from typing import Any

# A sampled call handed to the caller's keeper: (function, slot, call index, args, kwargs).
Sampled = Callable[[Callable[..., Any], int, int, tuple[Any, ...], dict[str, Any]], Any]


class Reservoir:
    """Algorithm R over a function's outermost calls, with a cost budget.

    `spent` is what keeping the sampled calls has cost so far (seconds of pickling or copying,
    added by the keeper); past `budget` sampling stops, so a function with huge arguments does
    not slow the program down further, and `stopped_at` says where (reported to the user).
    """

    def __init__(self, limit: int, seed: int, budget: float) -> None:
        self.limit = limit
        self.random = random.Random(seed)  # never the program's own random state
        self.budget = budget
        self.spent = 0.0
        self.seen = 0
        self.stopped_at = 0  # the call index where sampling stopped (0: it never did)
        self.local = threading.local()

    def slot(self, index: int) -> int | None:
        """The reservoir slot call `index` goes to, or None."""
        if index < self.limit:
            return index
        if self.spent > self.budget:
            self.stopped_at = self.stopped_at or index
            return None
        choice = self.random.randrange(index + 1)
        return choice if choice < self.limit else None

    def outermost(self, function: Callable[..., Any], keeper: Sampled) -> Callable[..., Any]:
        """A wrapper that hands each outermost call the reservoir keeps to `keeper`, which makes
        the call; recursive calls (inside an outer one) and calls not kept run unchanged."""
        reservoir = self

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            local = reservoir.local
            if getattr(local, "depth", 0):  # a recursive call: part of the outer one
                return function(*args, **kwargs)
            index = reservoir.seen
            reservoir.seen += 1
            slot = reservoir.slot(index)
            local.depth = 1
            try:
                if slot is None:
                    return function(*args, **kwargs)
                return keeper(function, slot, index, args, kwargs)
            finally:
                local.depth = 0

        return wrapper


class Target:
    """The function a dotted qualname names in a freshly run module, or why it cannot be used."""

    def __init__(self, module: types.ModuleType, qualname: str, verb: str) -> None:
        self.owner: Any = None
        self.name = ""
        self.method: type | None = None  # staticmethod or classmethod, to re-wrap with
        self.function: Any = None
        self.problem = ""
        parts = qualname.split(".")
        if "<locals>" in parts:
            self.problem = f"a nested function cannot be {verb}"
            return
        owner: Any = module
        try:
            for part in parts[:-1]:
                owner = getattr(owner, part)
            name = mangled(owner, parts[-1])
            raw = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        except (AttributeError, KeyError):
            self.problem = "not found in its module after import"
            return
        self.method = type(raw) if isinstance(raw, (staticmethod, classmethod)) else None
        self.owner, self.name = owner, name
        self.function = raw.__func__ if self.method else raw

    def replace(self, wrapped: Callable[..., Any]) -> None:
        """Put `wrapped` where the function was, as the same kind of method."""
        setattr(self.owner, self.name, self.method(wrapped) if self.method else wrapped)


def mangled(owner: Any, name: str) -> str:
    """The attribute a `__private` method is stored under in its class (`_Class__private`)."""
    if isinstance(owner, type) and name.startswith("__") and not name.endswith("__"):
        return f"_{owner.__name__.lstrip('_')}{name}"
    return name
