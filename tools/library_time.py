"""How much of a library function's time is library work (not workspace code it calls back)."""

from __future__ import annotations

from collections.abc import Callable

from perfpilot.tools.model import FunctionKey, FunctionStats
from perfpilot.tools.paths import PathKind, ResolvedPath

_NOT_OURS = frozenset({PathKind.LIBRARY, PathKind.PSEUDO})
# (self time, total time, [(library callee, inclusive time)]) of one function
_Figures = tuple[float, float, list[tuple[FunctionKey, float]]]


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
        # A library function's figures, read once: the rounds read them again, and a cProfile
        # table (profiles/call_table.py) builds a function's callees on each read.
        self._figures: dict[FunctionKey, _Figures] = {}

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
            for callee, _ in self._read(pending.pop())[2]:
                if callee not in self.fractions:
                    self.fractions[callee] = self._self_fraction(callee)
                    component.append(callee)
                    pending.append(callee)
        for _ in range(self.ROUNDS):
            for key in component:
                self.fractions[key] = self._fraction(key)

    def _self_fraction(self, key: FunctionKey) -> float:
        self_time, total_time, _ = self._read(key)
        if total_time <= 0:
            return 1.0
        return min(1.0, self_time / total_time)

    def _fraction(self, key: FunctionKey) -> float:
        library, total_time, callees = self._read(key)
        if total_time <= 0:
            return 1.0
        for callee, time in callees:
            if callee != key:
                library += time * self.fractions.get(callee, 1.0)
        return max(0.0, min(1.0, library / total_time))

    def _read(self, key: FunctionKey) -> _Figures:
        """(self time, total time, library callees with their times) of `key`, read once."""
        found = self._figures.get(key)
        if found is None:
            stats = self.functions.get(key)
            if stats is None:
                found = (0.0, 0.0, [])
            else:
                library = [(c, t) for c, t in stats.callees.items() if self.is_library(c.file)]
                found = (stats.self_time, stats.total_time, library)
            self._figures[key] = found
        return found
