"""The cProfile stats dict decoded by the strict marshal reader, with fast paths for its layouts.

`StatsDecoder` reads `{(file, firstlineno, name): (cc, nc, tt, ct, {caller: edge})}` into a
CallTable: cProfile's layouts take fast paths (a `struct` call per number tuple, keys resolved
by back-reference), anything else goes through the reader's generic `value`, which is just as
strict. It reads a whole input, or a file in windows (`more`, see pstats_loader.load_stream).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

from perfpilot.tools.model import FunctionKey, Profile, ProfileError
from perfpilot.tools.profiles._safe_marshal import (
    DICT,
    FLAG_REF,
    FLOAT,
    INT,
    INT32,
    NULL,
    REF,
    RESERVED,
    SHORT,
    SHORT_INTERNED,
    SMALL_TUPLE,
    TUPLE,
    CodeObjectError,
    MarshalReader,
)
from perfpilot.tools.profiles.call_table import CallTable

FORMAT = "cprofile"

# A number tuple as cProfile writes it: (type, int32) twice (an 'i', or an 'r' index), then
# (type, double) twice.
_NUMBERS = struct.Struct("<BiBiBdBd").unpack_from
_FAST_INTS = (INT, INT | FLAG_REF, REF)
# load_stream holds a window of the file: refilled to _WINDOW bytes when fewer than _LOW_WATER
# are left before the next entry; an entry running past it is read again in a larger one.
_WINDOW = 256 << 10
_LOW_WATER = 64 << 10


class StatsDecoder(MarshalReader):
    """The stats dict, read by the strict marshal reader with fast paths for cProfile's layouts."""

    # pstats needs 4 levels (stats dict > entry tuple > callers dict > key tuple); allow a margin.
    max_depth = 8
    expected = "cProfile stats file"

    def __init__(
        self, data: bytes, source: str, more: Callable[[int], bytes] | None = None
    ) -> None:
        super().__init__(data, source)
        # Every function seen so far, as an entry or as a caller, by row; an entry fills in its
        # numbers when it is read.
        self.table = CallTable()
        self.kinds: set[str] = set()
        # Reading a file in windows (load_stream): up to n more bytes of it (fewer at its end);
        # None once the window holds the rest of the input.
        self.more = more
        self.filling: int | None = None  # the row whose entry is being read

    def function(self, pos: int, depth: int, callee: int | None) -> tuple[int, int]:
        """Read a (file, line, name) key at `pos` (a caller of row `callee` when given): its row."""
        data, refs = self.data, self.refs
        start, code = pos, data[pos]
        slot = len(refs)
        if code == REF:
            index = INT32(data, pos + 1)[0]
            found = refs[index] if 0 <= index < len(refs) else None
            if type(found) is _KeyRef:  # a key tuple read before: refs holds its row
                return found.row, pos + 5
        if code & 0x7F == SMALL_TUPLE and data[pos + 1] == 3:
            if code & FLAG_REF:
                refs.append(RESERVED)
            pos += 2
            items: list[object] = []
            for _ in range(3):
                item_code = data[pos]
                if item_code == REF:
                    index = INT32(data, pos + 1)[0]
                    # A bad index shows as <bad back-reference> in the shape error below.
                    items.append(self.deref_key(index) if 0 <= index < len(refs) else RESERVED)
                    pos += 5
                    continue
                if item_code & 0x7F == INT:
                    items.append(INT32(data, pos + 1)[0])
                    pos += 5
                elif item_code & 0x7F in (SHORT, SHORT_INTERNED):
                    stop = pos + 2 + data[pos + 1]
                    if stop > self.end:
                        raise self.truncated()
                    items.append(self.text(data[pos + 2 : stop], pos, "ascii"))
                    pos = stop
                else:
                    item, pos = self.value(pos, depth + 1)
                    items.append(item)
                    continue
                if item_code & FLAG_REF:
                    refs.append(items[-1])
            raw: object = tuple(items)
        else:
            raw, pos = self.value(pos, depth)
        if not _is_key(raw):
            what = f"caller of {self.show(callee)}" if callee is not None else "function key"
            raise self.fail(
                f"{what} at byte {self.base + start} is {self.describe(raw)}, not (file, line, "
                "function)"
            )
        row = self.table.add(*raw)  # type: ignore[misc]
        if code & FLAG_REF:
            # Later 'r' records of this key get its row straight from refs (freed with the
            # decoder; the table holds no object per key). Anywhere else `deref` hands out the
            # key tuple, as marshal would.
            refs[slot] = _KeyRef(row)
        return row, pos

    def deref_key(self, index: int) -> object:
        """refs[index] (a valid index), a key read before handed out as its key tuple."""
        found = self.refs[index]
        return tuple(self.table.key(found.row)) if type(found) is _KeyRef else found

    def deref(self, index: int, pos: int) -> object:
        found = super().deref(index, pos)
        return tuple(self.table.key(found.row)) if type(found) is _KeyRef else found

    def show(self, row: int) -> str:
        """The (file, line, name) key of a row, as `_show` prints it."""
        return _show(tuple(self.table.key(row)))

    def describe(self, value: object) -> str:
        """`_show(value)`, a key read through refs by a fast path shown as its key."""
        return _show(_plain(value, self.table))

    def profile(self) -> Profile:
        """Decode the whole file and build the Profile."""
        data = self.data
        if self.end < 2 or data[0] & 0x7F != DICT:
            raise self.fail("not a cProfile stats file: it does not start with a marshal'd dict")
        if data[0] & FLAG_REF:
            self.refs.append(RESERVED)  # nothing may refer to the stats dict itself
        pos, total = self.entries(1)
        trailing = self.end - pos - 1
        while self.more is not None:  # counted, not held
            chunk = self.more(_WINDOW)
            trailing += len(chunk)
            if len(chunk) < _WINDOW:
                self.more = None
        if trailing:
            raise self.fail(f"{trailing} bytes of trailing data after byte {self.base + pos + 1}")
        table = self.table
        if not table:
            raise self.fail("profile holds no functions (an empty stats dict)")
        # A caller without an entry of its own (a merged or edited file) stays, with calls None,
        # so that every key of an edge can be looked up.
        missing = table.without_entry()
        meta = {"profiler": "+".join(sorted(self.kinds))} if self.kinds else {}
        if "profile" in self.kinds:
            meta["caller_times"] = "estimated from call counts (profile module)"
        if missing:
            meta["callers_without_entry"] = str(missing)
        functions = table  # a read-only Mapping[FunctionKey, FunctionStats], see call_table
        return Profile(FORMAT, "seconds", self.source, total, functions=functions, meta=meta)  # type: ignore[arg-type]

    def entries(self, pos: int) -> tuple[int, float]:
        """Read the stats dict's entries from `pos`: the position of its end and the total."""
        total, table = 0.0, self.table
        while True:
            if self.more is not None and self.end - pos < _LOW_WATER:
                pos = self.slide(pos, _WINDOW)
            if pos >= self.end:
                raise self.truncated()
            if self.data[pos] == NULL:
                return pos, total
            refs, marked, kinds = len(self.refs), table.mark(), set(self.kinds)
            try:
                row, pos_after = self.one_entry(pos)
            except CodeObjectError:
                raise
            except (ProfileError, IndexError, struct.error) as exc:
                if self.more is None:
                    if isinstance(exc, ProfileError):
                        raise
                    # Only the fast paths index without checking, and only past the data's end.
                    raise self.truncated() from None
                # Perhaps it only ran past the window: read it again from the same state in a
                # window twice as large (at the file's end, an error is the file's).
                del self.refs[refs:]
                table.rollback(marked, self.filling)
                self.kinds, self.filling = kinds, None
                pos = self.slide(pos, 2 * (self.end - pos) + _WINDOW)
                continue
            pos, self.filling = pos_after, None
            total += table.self_times[row]

    def one_entry(self, pos: int) -> tuple[int, int]:
        """Read one entry of the stats dict: its row, and the position after it."""
        start = pos
        row, pos = self.function(pos, 1, None)
        if self.table.has_entry(row):
            # marshal would keep the last; a real stats dict cannot hold a key twice.
            raise self.fail(f"function key at byte {self.base + start} repeats {self.show(row)}")
        self.filling = row
        return row, self.entry(pos, row)

    def slide(self, pos: int, size: int) -> int:
        """Drop the window's bytes before `pos` and read on to `size` bytes: `pos` is now 0."""
        kept = self.data[pos:]
        assert self.more is not None
        wanted = max(0, size - len(kept))
        chunk = self.more(wanted)
        if len(chunk) < wanted:
            self.more = None  # the file ends in this window
        self.base += pos
        self.data = kept + chunk
        self.end = len(self.data)
        return 0

    def entry(self, pos: int, row: int) -> int:
        """Read the (cc, nc, tt, ct, callers) value of the entry of `row`."""
        data, refs = self.data, self.refs
        numbers = self.numbers(pos, 5)
        if numbers is not None:
            _fill(self, row, numbers)
            return self.callers(pos + 30, row)
        # Any other layout: the same checks, item by item.
        start, kind = pos, data[pos] & 0x7F
        if kind == SMALL_TUPLE:
            self.need(pos + 1, 1)
            count, pos = data[pos + 1], pos + 2
        elif kind == TUPLE:
            self.need(pos + 1, 4)
            count, pos = INT32(data, pos + 1)[0], pos + 5
        else:
            value, pos = self.value(pos, 1)
            raise self.fail(f"entry {self.show(row)} is {self.describe(value)}, expected a 5-tuple")
        if count != 5:
            raise self.fail(f"entry {self.show(row)} has {count} fields, expected 5")
        if data[start] & FLAG_REF:
            refs.append(RESERVED)  # nothing may refer to an entry tuple
        numbers = []
        for _ in range(4):
            number, pos = self.value(pos, 2)
            numbers.append(number)
        _fill(self, row, tuple(numbers))
        if pos >= self.end or data[pos] & 0x7F != DICT:
            value, pos = self.value(pos, 2)
            raise self.fail(
                f"entry {self.show(row)} has callers {self.describe(value)}, not a dict"
            )
        return self.callers(pos, row)

    def numbers(self, pos: int, count: int) -> tuple[object, object, float, float] | None:
        """The 4 numbers of a `count`-tuple laid out as cProfile writes it, else None."""
        data, refs = self.data, self.refs
        if data[pos] != SMALL_TUPLE or data[pos + 1] != count or pos + 31 > self.end:
            return None
        ta, a, tb, b, tc, c, td, d = _NUMBERS(data, pos + 2)
        # Every type byte is checked before refs change, so that the generic reader can still
        # start over; an entry's callers dict must follow its numbers.
        if ta not in _FAST_INTS or tb not in _FAST_INTS or tc != FLOAT or td != FLOAT:
            return None
        if count == 5 and data[pos + 30] & 0x7F != DICT:
            return None
        # A bad index gives RESERVED, which the callers' type checks refuse.
        if ta == REF:
            a = refs[a] if 0 <= a < len(refs) else RESERVED
        elif ta & FLAG_REF:
            refs.append(a)
        if tb == REF:
            b = refs[b] if 0 <= b < len(refs) else RESERVED
        elif tb & FLAG_REF:
            refs.append(b)
        return a, b, c, d

    def callers(self, pos: int, row: int) -> int:
        """Read a callers dict at `pos`: the edges into `row`, contiguous in the table."""
        data, refs, table = self.data, self.refs, self.table
        callees, callers, times = table.edge_callee, table.edge_caller, table.edge_time
        table.caller_start[row] = len(times)
        if data[pos] & FLAG_REF:
            refs.append(RESERVED)  # nothing may refer to a callers dict
        pos += 1
        fast = False
        # The decoder's hot loop (one turn per call edge): few calls on the common path.
        while data[pos] != NULL:
            if data[pos] == REF:
                found = INT32(data, pos + 1)[0]
                found = refs[found] if 0 <= found < len(refs) else None
            else:
                found = None
            if type(found) is _KeyRef:
                caller = found.row
                pos += 5
            else:
                caller, pos = self.function(pos, 3, row)
            numbers = self.numbers(pos, 4)
            if numbers is not None:
                a, b, c, d = numbers
                # x - x == 0.0 fails for inf and nan only; _edge_time says what is wrong.
                if not (type(a) is type(b) is int and a >= 0 and b >= 0 and c - c == d - d):
                    d = _edge_time(self, row, caller, numbers, pos)
                pos += 30
                fast = True
            else:
                edge_pos = pos
                edge, pos = self.value(pos, 3)
                d = _edge_time(self, row, caller, edge, edge_pos)
            callees.append(row)
            callers.append(caller)
            times.append(d)
        table.caller_end[row] = len(times)
        if fast:
            self.kinds.add("cProfile")
        return pos + 1


class _KeyRef:
    """What refs holds for a key tuple read before: its row in the table."""

    __slots__ = ("row",)

    def __init__(self, row: int) -> None:
        self.row = row


def _plain(value: object, table: CallTable) -> object:
    """`value` with every _KeyRef in it (the fast paths read refs) shown as its key."""
    if type(value) is _KeyRef:
        return table.key(value.row)
    if type(value) is tuple:
        return tuple(_plain(item, table) for item in value)
    if type(value) is dict:
        return {_plain(k, table): _plain(v, table) for k, v in value.items()}
    return value


def _is_key(key: object) -> bool:
    if type(key) is not tuple or len(key) != 3:
        return False
    return type(key[0]) is str and type(key[1]) is int and type(key[2]) is str


def _show(value: object) -> str:
    """A short repr; a function shows as the (file, line, name) key of the file."""
    if type(value) is FunctionKey:
        value = tuple(value)
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _bad_numbers(numbers: tuple[object, ...]) -> bool:
    """(calls, calls, self time, total time): two non-negative ints, then two finite times."""
    cc, nc, tt, ct = numbers
    if type(cc) is not int or type(nc) is not int or cc < 0 or nc < 0:
        return True
    return (
        type(tt) not in (int, float) or type(ct) not in (int, float) or not math.isfinite(tt + ct)
    )


def _fill(decoder: StatsDecoder, row: int, numbers: tuple[object, ...]) -> None:
    """Set an entry's calls (nc), self time (tt) and total time (ct)."""
    if _bad_numbers(numbers):
        raise decoder.fail(
            f"entry {decoder.show(row)} has {decoder.describe(numbers)}, expected two call "
            "counts and two "
            "finite times"
        )
    table = decoder.table
    _, calls, tt, ct = numbers
    table.set_calls(row, calls)  # type: ignore[arg-type]
    table.self_times[row], table.total_times[row] = float(tt), float(ct)  # type: ignore[arg-type]


def _edge_time(decoder: StatsDecoder, row: int, caller: int, edge: object, pos: int) -> float:
    """The inclusive time of `row` when called from row `caller`, from one callers-dict value."""
    if type(edge) is int and edge >= 0:
        # The profile module keeps only a call count per caller: share the inclusive time out
        # in proportion to it, which is what its own callers view implies.
        decoder.kinds.add("profile")
        calls = decoder.table.calls_of(row)
        return decoder.table.total_times[row] * edge / calls if calls else 0.0
    if type(edge) is tuple and len(edge) == 4 and not _bad_numbers(edge):
        decoder.kinds.add("cProfile")
        return float(edge[3])
    raise decoder.fail(
        f"entry {decoder.show(row)} called from {decoder.show(caller)} has "
        f"{decoder.describe(edge)} "
        f"(at byte {decoder.base + pos}), expected (calls, calls, self time, total time) or a "
        "call count"
    )
