"""A function-level profile held in columns: what a 50,000-function cProfile file costs to hold.

As objects, each function is a FunctionStats with three dicts and each call edge is stored
twice (in the callee's `callers` and the caller's `callees`), ~45 MiB for bench_lsp's 50,000
functions and 150,000 edges. Here a function is a row (its key as bytes in one buffer, two
floats and a call count) and an edge is a row of three arrays (callee, caller, inclusive time),
~7 MiB. `CallTable` is the read-only `Mapping[FunctionKey, FunctionStats]` every consumer
already uses: a lookup gives a `TableStats`, a FunctionStats whose `callers`/`callees` dicts
are built when read.
"""

from __future__ import annotations

from array import array
from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from itertools import accumulate

from perfpilot.tools.model import FunctionKey, FunctionStats

_NO_ENTRY = -1  # calls of a row seen only as a caller
_BIG = -2  # calls past a 64-bit int (only a crafted file): kept in CallTable.big_calls
_INT64_MAX = (1 << 63) - 1
_FIRST_SLOTS = 1024  # the hash table's first size (a power of two)
_INT64_MIN = -(1 << 63)  # in _lines: the line is in _big_lines


class CallTable(Mapping[FunctionKey, FunctionStats]):
    """Functions (rows numbered in the order they were first seen) and call edges, read-only.

    A row's key is held in columns: its file's number and its line in arrays, its name as
    UTF-8 bytes packed end to end in one buffer; rows are found through an open-addressing
    hash table of row numbers. No object per function: as a FunctionKey tuple (with its line
    int and a dict of rows) each cost ~150 bytes, 7 MiB for 50,000 functions, and the table is
    whole while the profile is mapped, the language server's high-water mark; as Python objects
    it also left pymalloc's arenas fragmented once freed (~4 MiB of RSS that stayed).
    `key(row)` builds the FunctionKey when one is asked for.
    """

    __slots__ = (
        "files",
        "file_ids",
        "_file_of",
        "_lines",
        "_big_lines",
        "_names",
        "_name_ends",
        "_hashes",
        "_slots",
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
        self._file_of = array("i")  # row -> index in files
        self._lines = array("q")  # row -> line; _INT64_MIN: in _big_lines (a crafted file)
        self._big_lines: dict[int, int] = {}
        self._names = bytearray()  # every row's name, UTF-8, end to end
        self._name_ends = array("q")  # row r's name ends at _name_ends[r] (starts at r - 1's end)
        self._hashes = array("q")  # hash((file number, line, name)) of each row
        self._slots = array("i", bytes(4 * _FIRST_SLOTS))  # row + 1 by hash; 0: empty
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
        digest = hash((file_id, line, name))
        row, slot = self._find(file_id, line, name, digest)
        if row < 0:
            row = len(self._name_ends)
            # surrogatepass: marshal keeps an undecodable name's lone surrogates.
            self._names += name.encode("utf-8", "surrogatepass")
            self._name_ends.append(len(self._names))
            self._file_of.append(file_id)
            if _INT64_MIN < line <= _INT64_MAX:
                self._lines.append(line)
            else:
                self._lines.append(_INT64_MIN)
                self._big_lines[row] = line
            self._hashes.append(digest)
            self._slots[slot] = row + 1
            if 2 * (row + 1) > len(self._slots):
                self._grow()
            self.self_times.append(0.0)
            self.total_times.append(0.0)
            self.calls.append(_NO_ENTRY)
            self.caller_start.append(0)
            self.caller_end.append(0)
        return row

    def _find(self, file_id: int, line: int, name: str, digest: int) -> tuple[int, int]:
        """(row of the key or -1, the slot where it is or would go); linear probing."""
        slots, hashes, mask = self._slots, self._hashes, len(self._slots) - 1
        slot = digest & mask
        while True:
            row = slots[slot] - 1
            if row < 0:
                return -1, slot
            if (
                hashes[row] == digest
                and self._file_of[row] == file_id
                and self._line(row) == line
                and self._name(row) == name
            ):
                return row, slot
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        """Double the hash table (kept at most half full) and place every row again."""
        slots = array("i", bytes(8 * len(self._slots)))
        mask = len(slots) - 1
        for row, digest in enumerate(self._hashes):
            slot = digest & mask
            while slots[slot]:
                slot = (slot + 1) & mask
            slots[slot] = row + 1
        self._slots = slots

    def _line(self, row: int) -> int:
        line = self._lines[row]
        return self._big_lines[row] if line == _INT64_MIN else line

    def _name(self, row: int) -> str:
        ends = self._name_ends
        name = self._names[ends[row - 1] if row else 0 : ends[row]]
        return name.decode("utf-8", "surrogatepass")

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
        if file_id is None:
            return None
        line = int(line)
        row, _ = self._find(file_id, line, name, hash((file_id, line, name)))
        return row if row >= 0 else None

    def key(self, row: int) -> FunctionKey:
        """The FunctionKey of a row."""
        line = self._lines[row]
        if line == _INT64_MIN:
            line = self._big_lines[row]
        ends = self._name_ends
        name = self._names[ends[row - 1] if row else 0 : ends[row]]
        file = self.files[self._file_of[row]]
        return _new_key(FunctionKey, (file, line, name.decode("utf-8", "surrogatepass")))

    def stats(self, row: int) -> FunctionStats:
        """The FunctionStats of a row."""
        stats = _new_stats(TableStats)  # not TableStats(...): its __new__ serves replace()
        stats._table, stats._row = self, row
        return stats

    def items(self) -> ItemsView[FunctionKey, FunctionStats]:
        """(key, stats) of every row, in row order, without looking any key up."""
        return _Items(self)

    def values(self) -> ValuesView[FunctionStats]:
        """The stats of every row, in row order."""
        return _Values(self)

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

    def mark(self) -> tuple[int, int]:
        """(rows, edges) now, for `rollback`."""
        return len(self._name_ends), len(self.edge_time)

    def rollback(self, mark: tuple[int, int], entry: int | None) -> None:
        """Forget the rows and edges added since `mark`, and the entry of row `entry` if given.

        The decoder reads an entry again when it ran past the window of the file it holds.
        """
        rows, edges = mark
        slots, mask = self._slots, len(self._slots) - 1
        # Undone newest first, a row is the last of its probe chain: emptying its slot keeps
        # every other row findable.
        for row in range(len(self._name_ends) - 1, rows - 1, -1):
            slot = self._hashes[row] & mask
            while slots[slot] != row + 1:
                slot = (slot + 1) & mask
            slots[slot] = 0
            self.big_calls.pop(row, None)
            self._big_lines.pop(row, None)
        del self._names[self._name_ends[rows - 1] if rows else 0 :]
        for column in (self._name_ends, self._hashes, self.self_times, self.total_times):
            del column[rows:]
        for column in (self._file_of, self._lines):
            del column[rows:]
        for column in (self.calls, self.caller_start, self.caller_end):
            del column[rows:]
        for column in (self.edge_callee, self.edge_caller, self.edge_time):
            del column[edges:]
        if entry is not None and entry < rows:
            self.calls[entry], self.self_times[entry], self.total_times[entry] = _NO_ENTRY, 0, 0
            self.caller_start[entry] = self.caller_end[entry] = 0
            self.big_calls.pop(entry, None)

    def __getitem__(self, key: FunctionKey) -> FunctionStats:
        row = self.row_of(key)
        if row is None:
            raise KeyError(key)
        return self.stats(row)

    def __contains__(self, key: object) -> bool:
        return self.row_of(key) is not None

    def __iter__(self) -> Iterator[FunctionKey]:
        return map(self.key, range(len(self._name_ends)))

    def __len__(self) -> int:
        return len(self._name_ends)

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
        counts = array("i", bytes(4 * (len(self._name_ends) + 1)))
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
_new_key = tuple.__new__  # FunctionKey(...) less its argument handling: a row's key is valid


class _Items(ItemsView[FunctionKey, FunctionStats]):
    """A CallTable's items, read row by row (Mapping's own looks every key up again)."""

    _mapping: CallTable

    def __iter__(self) -> Iterator[tuple[FunctionKey, FunctionStats]]:
        table = self._mapping
        for row in range(len(table)):
            yield table.key(row), table.stats(row)


class _Values(ValuesView[FunctionStats]):
    """A CallTable's stats, read row by row."""

    _mapping: CallTable

    def __iter__(self) -> Iterator[FunctionStats]:
        return map(self._mapping.stats, range(len(self._mapping)))


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
