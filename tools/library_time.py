"""How much of a library function's time is library work (not workspace code it calls back)."""

from __future__ import annotations

from collections.abc import Callable

from perfpilot.tools.model import FunctionKey, FunctionStats
from perfpilot.tools.paths import PathKind, ResolvedPath

_NOT_OURS = frozenset({PathKind.LIBRARY, PathKind.PSEUDO})


def is_library(resolved: ResolvedPath) -> bool:
    """Is a resolved path library or built-in code (not the user's)?"""
    return resolved.kind in _NOT_OURS


class LibraryFractions:
    """For a library function, the share of its inclusive time spent in library code.

    cProfile's edge from a workspace function to `sorted` or `asyncio.run` includes any
    workspace code called back from there; only the library part belongs to the caller.
    Library call graphs are cyclic (importlib, recursion), so the fractions are computed by a
    few rounds of fixed-point iteration from the lower bound self/total, not by recursion.
    """

    ROUNDS = 4

    def __init__(
        self, functions: dict[FunctionKey, FunctionStats], is_library: Callable[[str], bool]
    ) -> None:
        self.functions = functions
        self.is_library = is_library
        self.fractions: dict[FunctionKey, float] = {}

    def __call__(self, key: FunctionKey) -> float:
        fraction = self.fractions.get(key)
        if fraction is None:
            self._solve_from(key)
            fraction = self.fractions[key]
        return fraction

    def _solve_from(self, start: FunctionKey) -> None:
        component = [start]
        self.fractions[start] = self._self_fraction(start)
        pending = [start]
        while pending:
            stats = self.functions.get(pending.pop())
            for callee in stats.callees if stats else ():
                if callee not in self.fractions and self.is_library(callee.file):
                    self.fractions[callee] = self._self_fraction(callee)
                    component.append(callee)
                    pending.append(callee)
        for _ in range(self.ROUNDS):
            for key in component:
                self.fractions[key] = self._fraction(key)

    def _self_fraction(self, key: FunctionKey) -> float:
        stats = self.functions.get(key)
        if stats is None or stats.total_time <= 0:
            return 1.0
        return min(1.0, stats.self_time / stats.total_time)

    def _fraction(self, key: FunctionKey) -> float:
        stats = self.functions.get(key)
        if stats is None or stats.total_time <= 0:
            return 1.0
        library = stats.self_time
        for callee, time in stats.callees.items():
            if callee != key and self.is_library(callee.file):
                library += time * self.fractions.get(callee, 1.0)
        return max(0.0, min(1.0, library / stats.total_time))
