"""A function-level profile held in columns: what a 50,000-function cProfile file costs to hold.

As objects, each function is a FunctionStats with three dicts and each call edge is stored
twice (in the callee's `callers` and the caller's `callees`), ~45 MiB for bench_lsp's 50,000
functions and 150,000 edges. Here a function is a row (one key string, two floats and a call
count) and an edge is a row of three arrays (callee, caller, inclusive time), ~11 MiB. `CallTable`
is the read-only `Mapping[FunctionKey, FunctionStats]` every consumer already uses: a lookup
gives a `TableStats`, a FunctionStats whose `callers`/`callees` dicts are built when read.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from itertools import accumulate

from perfpilot.tools.model import FunctionKey, FunctionStats

_NO_ENTRY = -1  # calls of a row seen only as a caller
_BIG = -2  # calls past a 64-bit int (only a crafted file): kept in CallTable.big_calls
_INT64_MAX = (1 << 63) - 1


class CallTable(Mapping[FunctionKey, FunctionStats]):
    """Functions (rows numbered in the order they were first seen) and call edges, read-only.

    A row's key is held as one string, "file number NUL line NUL name" (the name last, as the
    only part that may hold a NUL), not as a FunctionKey tuple with its own line int: that was
    ~5 MiB more for 50,000 functions, and the table is whole while the profile is mapped, the
    language server's high-water mark. `key(row)` builds the FunctionKey when one is asked for.
    """

    __slots__ = (
        "files",
        "file_ids",
        "texts",
        "index",
        "self_times",
        "total_times",
        "calls",
        "big_calls",
        "edge_callee",
        "edge_caller",
        "edge_time",
        "caller_start",
        "caller_end",
        "_by_caller",
    )

    def __init__(self) -> None:
        self.files: list[str] = []  # the recorded file names, each once
        self.file_ids: dict[str, int] = {}
        self.texts: list[str] = []  # row -> key string (see the class docstring)
        self.index: dict[str, int] = {}  # key string -> row
        self.self_times = array("d")
        self.total_times = array("d")
        self.calls = array("q")  # _NO_ENTRY: seen only as a caller (no entry of its own)
        self.big_calls: dict[int, int] = {}
        # Edge e: edge_callee[e] was called from edge_caller[e], inclusive time edge_time[e].
        self.edge_callee = array("i")
        self.edge_caller = array("i")
        self.edge_time = array("d")
        # A function's callers are the contiguous edges [caller_start[i], caller_end[i]).
        self.caller_start = array("i")
        self.caller_end = array("i")
        # (offsets by caller row, edge numbers ordered by caller), built on the first callees read
        self._by_caller: tuple[array[int], array[int]] | None = None

    def add(self, file: str, line: int, name: str) -> int:
        """The row of the key (file, line, name), made (no entry yet) when it is new."""
        file_id = self.file_ids.get(file)
        if file_id is None:
            file_id = self.file_ids[file] = len(self.files)
            self.files.append(file)
        text = f"{file_id}\0{line}\0{name}"
        row = self.index.get(text)
        if row is None:
            row = self.index[text] = len(self.texts)
            self.texts.append(text)
            self.self_times.append(0.0)
            self.total_times.append(0.0)
            self.calls.append(_NO_ENTRY)
            self.caller_start.append(0)
            self.caller_end.append(0)
        return row

    def row_of(self, key: object) -> int | None:
        """The row of a (file, line, name) key, None when the table has no such function."""
        try:
            file, line, name = key  # type: ignore[misc]
        except (TypeError, ValueError):
            return None
        # Tuple equality: a key with line True is the key with line 1 (bool is an int).
        if type(file) is not str or type(name) is not str or not isinstance(line, int):
            return None
        file_id = self.file_ids.get(file)
        return None if file_id is None else self.index.get(f"{file_id}\0{int(line)}\0{name}")

    def key(self, row: int) -> FunctionKey:
        """The FunctionKey of a row."""
        file_id, line, name = self.texts[row].split("\0", 2)
        return FunctionKey(self.files[int(file_id)], int(line), name)

    def has_entry(self, row: int) -> bool:
        """Did the file hold an entry for this row (not only calls from it)?"""
        return self.calls[row] != _NO_ENTRY

    def set_calls(self, row: int, calls: int) -> None:
        """Record an entry's call count (a non-negative int)."""
        if calls > _INT64_MAX:
            self.big_calls[row], calls = calls, _BIG
        self.calls[row] = calls

    def calls_of(self, row: int) -> int | None:
        """The call count of a row; None when it has no entry of its own."""
        calls = self.calls[row]
        if calls >= 0:
            return calls
        return self.big_calls[row] if calls == _BIG else None

    def without_entry(self) -> int:
        """How many rows were seen only as callers."""
        return self.calls.count(_NO_ENTRY)

    def __getitem__(self, key: FunctionKey) -> FunctionStats:
        row = self.row_of(key)
        if row is None:
            raise KeyError(key)
        stats = _new_stats(TableStats)  # not TableStats(...): its __new__ serves replace()
        stats._table, stats._row = self, row
        return stats

    def __contains__(self, key: object) -> bool:
        return self.row_of(key) is not None

    def __iter__(self) -> Iterator[FunctionKey]:
        return map(self.key, range(len(self.texts)))

    def __len__(self) -> int:
        return len(self.texts)

    def callers_of(self, row: int) -> dict[FunctionKey, float]:
        """Caller key -> inclusive time of the function of `row` when called from it."""
        key, callers, times = self.key, self.edge_caller, self.edge_time
        return {
            key(callers[e]): times[e] for e in range(self.caller_start[row], self.caller_end[row])
        }

    def callees_of(self, row: int) -> dict[FunctionKey, float]:
        """Callee key -> inclusive time of that callee when called from the function of `row`."""
        if self._by_caller is None:
            self._by_caller = self._order_by_caller()
        offsets, order = self._by_caller
        key, callees, times = self.key, self.edge_callee, self.edge_time
        return {key(callees[e]): times[e] for e in order[offsets[row] : offsets[row + 1]]}

    def _order_by_caller(self) -> tuple[array[int], array[int]]:
        """Edge numbers grouped by caller, in file order within a group (a stable sort).

        A counting sort in arrays: `sorted(range(edges), key=...)` and a Counter held ~15 MiB
        of int objects at once for 150,000 edges, the peak of a big profile's load.
        """
        callers = self.edge_caller
        counts = array("i", bytes(4 * (len(self.texts) + 1)))
        for caller in callers:
            counts[caller + 1] += 1
        offsets = array("i", accumulate(counts))
        free = array("i", offsets)  # where the next edge of each caller goes
        order = array("i", bytes(4 * len(callers)))
        for edge, caller in enumerate(callers):
            order[free[caller]] = edge
            free[caller] += 1
        return offsets, order


_new_stats = object.__new__


class TableStats(FunctionStats):
    """One row of a CallTable seen as a FunctionStats (read-only; dicts built when read)."""

    __slots__ = ("_table", "_row")

    def __new__(cls, *args: object, **fields: object) -> FunctionStats:  # type: ignore[misc]
        if fields:  # dataclasses.replace(stats, ...): a plain FunctionStats, free to change
            return FunctionStats(**fields)  # type: ignore[arg-type]
        return super().__new__(cls)

    def __init__(self, table: CallTable, row: int) -> None:
        self._table = table
        self._row = row

    @property  # type: ignore[override]
    def key(self) -> FunctionKey:
        return self._table.key(self._row)

    @property  # type: ignore[override]
    def qualname(self) -> str | None:
        return None  # pstats keys hold the bare name only

    @property  # type: ignore[override]
    def self_time(self) -> float:
        return self._table.self_times[self._row]

    @property  # type: ignore[override]
    def total_time(self) -> float:
        return self._table.total_times[self._row]

    @property  # type: ignore[override]
    def calls(self) -> int | None:
        return self._table.calls_of(self._row)

    @property  # type: ignore[override]
    def line_times(self) -> dict[int, float]:
        return {}  # cProfile records no lines; a new dict, so that nobody shares one

    @property  # type: ignore[override]
    def callers(self) -> dict[FunctionKey, float]:
        return self._table.callers_of(self._row)

    @property  # type: ignore[override]
    def callees(self) -> dict[FunctionKey, float]:
        return self._table.callees_of(self._row)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FunctionStats):
            return NotImplemented
        return _fields(self) == _fields(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TableStats{_fields(self)!r}"


def _fields(stats: FunctionStats) -> tuple[object, ...]:
    return (
        stats.key,
        stats.qualname,
        stats.self_time,
        stats.total_time,
        stats.calls,
        stats.line_times,
        stats.callers,
        stats.callees,
    )
