"""Load cProfile and profile stats files (a marshal'd dict) without trusting marshal with them.

The file is `{(file, firstlineno, name): (cc, nc, tt, ct, {caller: edge})}`, `edge` a 4-tuple
ending with the inclusive time (cProfile) or a call count (the `profile` module). marshal trusts
declared sizes (a tuple header claiming 2**31 items allocates 16 GiB first) and builds code
objects, so the subset pstats uses is decoded here: every count is checked against the bytes
left, nesting is bounded, other types are refused with their offset. cProfile's layouts take fast
paths (a `struct` call per number tuple, keys resolved by back-reference); the rest, a generic
reader that is just as strict.
"""

from __future__ import annotations

import gc
import math
import struct
import subprocess
import sys

from perfpilot.tools.model import FunctionKey, FunctionStats, Profile, ProfileError

FORMAT = "cprofile"

_FLAG_REF = 0x80  # set on an object that later 'r' records may refer back to, by its index
# pstats needs 4 levels (stats dict > entry tuple > callers dict > key tuple); allow a margin.
_MAX_DEPTH = 8
# A long is 15-bit digits: 8 of them exceed 2**119, far past any call count.
_MAX_LONG_DIGITS = 8

_INT32 = struct.Struct("<i").unpack_from
_DOUBLE = struct.Struct("<d").unpack_from
# A number tuple as cProfile writes it: (type, int32) twice (an 'i', or an 'r' index), then
# (type, double) twice.
_NUMBERS = struct.Struct("<BiBiBdBd").unpack_from

# Type codes of the marshal subset pstats uses (see Python/marshal.c).
_NULL, _NONE, _FALSE, _TRUE, _INT, _LONG, _FLOAT = 0x30, 0x4E, 0x46, 0x54, 0x69, 0x6C, 0x67
_TUPLE, _SMALL_TUPLE, _DICT, _REF, _SHORT, _SHORT_INTERNED = 0x28, 0x29, 0x7B, 0x72, 0x7A, 0x5A
_FIXED = {_INT: (4, _INT32), _FLOAT: (8, _DOUBLE)}  # size, unpacker
# String types: width of the length field, encoding ('u' and 't' may hold surrogates).
_STRINGS = {_SHORT: (1, "ascii"), _SHORT_INTERNED: (1, "ascii"), 0x61: (4, "ascii"),
            0x41: (4, "ascii"), 0x75: (4, "utf-8"), 0x74: (4, "utf-8")}  # fmt: skip
_CONSTANTS = {_NONE: None, _TRUE: True, _FALSE: False}
_FAST_INTS = (_INT, _INT | _FLAG_REF, _REF)
_REFUSED = {"c": "code object", "[": "list", "<": "set", ">": "frozenset", "s": "bytes",
            "y": "complex", "x": "complex", "f": "text float", "S": "StopIteration",
            ".": "Ellipsis", "0": "NULL outside a dict"}  # fmt: skip


class _Reserved:
    """Marks a flagged container still being read (marshal would hand back None for it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<bad back-reference>"


_RESERVED = _Reserved()


def sniff(data: bytes) -> bool:
    """Accept a marshal'd dict whose first key is a small tuple starting with a string."""
    # JSON and text also start with '{', but never go on with a tuple header (')' or '(' and a
    # count) and a string type code. Any arity sniffs, for load() to say what is wrong with it.
    if len(data) < 2 or data[0] not in (_DICT, _DICT | _FLAG_REF):
        return False
    if data[1] == _NULL:
        return len(data) == 2
    if data[1] & 0x7F == _SMALL_TUPLE:
        count, item = data[2:3], data[3:4]
    elif data[1] & 0x7F == _TUPLE and data[3:6] == b"\x00\x00\x00":
        count, item = data[2:3], data[6:7]
    else:
        return False
    return bool(count and item) and 1 <= count[0] <= 8 and item[0] & 0x7F in (*_STRINGS, _REF)


def load(data: bytes, source: str) -> Profile:
    """Load a cProfile/profile stats file; times are in seconds."""
    # A 50k-function file makes ~500k small objects; the cyclic GC would scan them again and
    # again (a third of the time) although none of them can be part of a cycle.
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            return _Decoder(data, source).profile()
        except _CodeObjectError as first:
            cleaned = _replace_code_objects(data, source)
            try:
                return _Decoder(cleaned, source).profile()
            except _CodeObjectError:
                raise first from None
            except ProfileError as exc:
                raise ProfileError(
                    source, f"{exc.message} (once code objects were named)"
                ) from None
    finally:
        if enabled:
            gc.enable()


class _CodeObjectError(ProfileError):
    """A code object, which the pure decoder never builds; `python -m profile` writes one."""


# `python -m profile` keys the run of the script by the script's code object (profile.py's
# simulate_call(cmd)), so a real file can hold code objects, nested ones included. Building
# them from untrusted bytes is marshal's job alone, so it is done in a throwaway interpreter
# with an address-space limit and a timeout; it sends back the same dict with every code object
# in a key named by a string, re-marshalled, for the strict decoder to read as any other file.
_CHILD = """
import marshal, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]),) * 2)
Code = type(compile("", "", "exec"))
def name(item):
    if type(item) is not Code:
        return item
    return f'<code object {item.co_name}, file "{item.co_filename}", line {item.co_firstlineno}>'
def key(item):
    return tuple(map(name, item)) if type(item) is tuple else item
stats = marshal.loads(sys.stdin.buffer.read())
out = {}
for k, v in stats.items() if type(stats) is dict else ():
    if type(v) is tuple and len(v) == 5 and type(v[4]) is dict:
        v = v[:4] + ({key(c): e for c, e in v[4].items()},)
    out[key(k)] = v
sys.stdout.buffer.write(marshal.dumps(out))
"""
_CHILD_TIMEOUT = 60.0


def _replace_code_objects(data: bytes, source: str) -> bytes:
    """Have a sandboxed marshal name the code objects in keys; ProfileError if it cannot."""
    why = "it holds code objects (python -m profile writes one), which only marshal reads"
    try:
        import resource  # noqa: F401  (POSIX only; without a memory limit there is no child)
    except ImportError:
        raise ProfileError(source, f"{why}, and this system cannot sandbox it") from None
    limit = (512 << 20) + 32 * len(data)
    command = [sys.executable, "-I", "-S", "-c", _CHILD, str(limit)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=_CHILD_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProfileError(source, f"{why}, and marshal failed in a sandbox ({exc})") from None
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        reason = last[0] if last else f"exit status {done.returncode}"
        raise ProfileError(source, f"{why}, and marshal failed in a sandbox ({reason})")
    return done.stdout


class _Decoder:
    """A strict reader for the marshal subset pstats uses; every error names a byte offset."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.end = len(data)
        self.source = source
        self.refs: list[object] = []
        # Every function seen so far, as an entry or as a caller; an entry fills in its numbers
        # when it is read. FunctionKey is a NamedTuple, so a plain key tuple looks it up.
        self.functions: dict[FunctionKey, FunctionStats] = {}
        self.kinds: set[str] = set()

    def fail(self, message: str) -> ProfileError:
        return ProfileError(self.source, message)

    def truncated(self) -> ProfileError:
        return self.fail(f"truncated at byte {self.end} (the data ends inside a value)")

    def need(self, pos: int, count: int, declared: str = "", at: int = 0) -> None:
        """Refuse a length or count (`declared` at byte `at`) that the bytes left from `pos`
        cannot hold, before allocating it; a fixed size that does not fit is a truncation."""
        left = self.end - pos
        if 0 <= count <= left:
            return
        if not declared:
            raise self.truncated()
        if count < 0:
            raise self.fail(f"negative {declared} {count} at byte {at}")
        raise self.fail(f"{declared} {count} at byte {at} exceeds the {max(left, 0)} bytes left")

    def deref(self, index: int, pos: int) -> object:
        if not 0 <= index < len(self.refs) or self.refs[index] is _RESERVED:
            raise self.fail(f"bad back-reference {index} at byte {pos}")
        return self.refs[index]

    # -- the generic reader: the specification the fast paths below must agree with ------------
    def value(self, pos: int, depth: int) -> tuple[object, int]:
        """Read any allowed value at `pos`; return it and the position after it."""
        data, refs = self.data, self.refs
        if pos >= self.end:
            raise self.truncated()
        start, kind, flagged = pos, data[pos] & 0x7F, data[pos] & _FLAG_REF
        pos += 1
        value: object
        if kind == _REF:
            self.need(pos, 4)
            return self.deref(_INT32(data, pos)[0], start), pos + 4
        if kind in _FIXED:
            size, unpack = _FIXED[kind]
            self.need(pos, size)
            value, pos = unpack(data, pos)[0], pos + size
        elif kind in _STRINGS:
            width, encoding = _STRINGS[kind]
            self.need(pos, width)
            size, pos = (data[pos] if width == 1 else _INT32(data, pos)[0]), pos + width
            self.need(pos, size, "declared length", start)
            value, pos = self.text(data[pos : pos + size], start, encoding), pos + size
        elif kind == _LONG:
            value, pos = self.long(pos)
        elif kind in _CONSTANTS:
            value = _CONSTANTS[kind]
        elif kind in (_TUPLE, _SMALL_TUPLE, _DICT):
            if depth >= _MAX_DEPTH:
                raise self.fail(f"nested deeper than {_MAX_DEPTH} levels at byte {start}")
            slot = len(refs)
            if flagged:
                refs.append(_RESERVED)  # marshal numbers a container before its contents
            value, pos = self.container(kind, pos, depth + 1)
            if flagged:
                refs[slot] = value
            return value, pos
        else:
            name = _REFUSED.get(chr(kind), "unknown type")
            error = _CodeObjectError if kind == 0x63 else ProfileError
            raise error(
                self.source,
                f"not a cProfile stats file: marshal type {chr(kind)!r} ({name}) at byte {start}",
            )
        if flagged:
            refs.append(value)
        return value, pos

    def container(self, kind: int, pos: int, depth: int) -> tuple[object, int]:
        data = self.data
        if kind == _DICT:
            result: dict[object, object] = {}
            while True:
                if pos >= self.end:
                    raise self.truncated()
                if data[pos] == _NULL:
                    return result, pos + 1
                key_pos = pos
                key, pos = self.value(pos, depth)
                result_value, pos = self.value(pos, depth)
                try:
                    result[key] = result_value
                except TypeError:
                    raise self.fail(f"unhashable dict key at byte {key_pos}") from None
        start = pos - 1
        if kind == _SMALL_TUPLE:
            self.need(pos, 1)
            count, pos = data[pos], pos + 1
        else:
            self.need(pos, 4)
            count, pos = _INT32(data, pos)[0], pos + 4
        # Every item takes at least one byte, so this bounds the allocation by the input size.
        self.need(pos, count, "declared length", start)
        items = []
        for _ in range(count):
            item, pos = self.value(pos, depth)
            items.append(item)
        return tuple(items), pos

    def text(self, raw: bytes, start: int, encoding: str) -> str:
        try:
            # marshal writes lone surrogates (undecodable file names) with surrogatepass.
            return raw.decode(encoding, "surrogatepass" if encoding == "utf-8" else "strict")
        except UnicodeDecodeError:
            raise self.fail(f"string at byte {start} is not valid {encoding}") from None

    def long(self, pos: int) -> tuple[int, int]:
        self.need(pos, 4)
        count = _INT32(self.data, pos)[0]
        size = abs(count)
        if size > _MAX_LONG_DIGITS:
            raise self.fail(f"integer of {size} digits at byte {pos - 1} is implausibly large")
        self.need(pos + 4, 2 * size, "declared length", pos - 1)
        digits = struct.unpack_from(f"<{size}H", self.data, pos + 4)
        if any(digit >> 15 for digit in digits) or (size and not digits[-1]):
            raise self.fail(f"malformed integer at byte {pos - 1}")
        value = sum(digit << (15 * i) for i, digit in enumerate(digits))
        return (-value if count < 0 else value), pos + 4 + 2 * size

    # -- pstats shapes, with fast paths for the layouts cProfile writes -------------------------
    def function(
        self, pos: int, depth: int, callee: FunctionStats | None
    ) -> tuple[FunctionStats, int]:
        """Read a (file, line, name) key at `pos` (a caller of `callee` when that is given)."""
        data, refs = self.data, self.refs
        start, code = pos, data[pos]
        slot = len(refs)
        if code == _REF:
            found = self.deref(_INT32(data, pos + 1)[0], pos)
            if type(found) is FunctionStats:  # a key tuple read before: refs holds its stats
                return found, pos + 5
        if code & 0x7F == _SMALL_TUPLE and data[pos + 1] == 3:
            if code & _FLAG_REF:
                refs.append(_RESERVED)
            pos += 2
            items: list[object] = []
            for _ in range(3):
                item_code = data[pos]
                if item_code == _REF:
                    index = _INT32(data, pos + 1)[0]
                    # A bad index shows as <bad back-reference> in the shape error below.
                    items.append(refs[index] if 0 <= index < len(refs) else _RESERVED)
                    pos += 5
                    continue
                if item_code & 0x7F == _INT:
                    items.append(_INT32(data, pos + 1)[0])
                    pos += 5
                elif item_code & 0x7F in (_SHORT, _SHORT_INTERNED):
                    stop = pos + 2 + data[pos + 1]
                    if stop > self.end:
                        raise self.truncated()
                    items.append(self.text(data[pos + 2 : stop], pos, "ascii"))
                    pos = stop
                else:
                    item, pos = self.value(pos, depth + 1)
                    items.append(item)
                    continue
                if item_code & _FLAG_REF:
                    refs.append(items[-1])
            raw: object = tuple(items)
        else:
            raw, pos = self.value(pos, depth)
        try:
            stats = self.functions.get(raw)  # type: ignore[call-overload]
        except TypeError:  # an unhashable item, e.g. a dict: not a key either
            stats = None
        if stats is None:  # only a key not seen before needs checking
            if not _is_key(raw):
                what = f"caller of {_show(callee)}" if callee else "function key"
                raise self.fail(
                    f"{what} at byte {start} is {_show(raw)}, not (file, line, function)"
                )
            key = FunctionKey(*raw)  # type: ignore[misc]
            stats = self.functions[key] = FunctionStats(key)
        if code & _FLAG_REF:
            # Later 'r' records of this key get its stats straight from refs. Nothing else may
            # refer to a key tuple: anywhere else, a FunctionStats fails the type checks.
            refs[slot] = stats
        return stats, pos

    def profile(self) -> Profile:
        """Decode the whole file and build the Profile."""
        data = self.data
        if self.end < 2 or data[0] & 0x7F != _DICT:
            raise self.fail("not a cProfile stats file: it does not start with a marshal'd dict")
        if data[0] & _FLAG_REF:
            self.refs.append(_RESERVED)  # nothing may refer to the stats dict itself
        pos, total = 1, 0.0
        try:
            while data[pos] != _NULL:
                start = pos
                stats, pos = self.function(pos, 1, None)
                if stats.calls is not None:
                    # marshal would keep the last; a real stats dict cannot hold a key twice.
                    raise self.fail(f"function key at byte {start} repeats {_show(stats)}")
                pos = self.entry(pos, stats)
                total += stats.self_time
        except (IndexError, struct.error):
            # Only the fast paths index without checking, and only past the end of the data.
            raise self.truncated() from None
        if pos + 1 != self.end:
            raise self.fail(f"{self.end - pos - 1} bytes of trailing data after byte {pos + 1}")
        if not self.functions:
            raise self.fail("profile holds no functions (an empty stats dict)")
        # A caller without an entry of its own (a merged or edited file) stays, with calls None,
        # so that every key of an edge can be looked up.
        missing = sum(1 for stats in self.functions.values() if stats.calls is None)
        meta = {"profiler": "+".join(sorted(self.kinds))} if self.kinds else {}
        if "profile" in self.kinds:
            meta["caller_times"] = "estimated from call counts (profile module)"
        if missing:
            meta["callers_without_entry"] = str(missing)
        return Profile(FORMAT, "seconds", self.source, total, functions=self.functions, meta=meta)

    def entry(self, pos: int, stats: FunctionStats) -> int:
        """Read the (cc, nc, tt, ct, callers) value of an entry into `stats`."""
        data, refs = self.data, self.refs
        numbers = self.numbers(pos, 5)
        if numbers is not None:
            _fill(self, stats, numbers)
            return self.callers(pos + 30, stats)
        # Any other layout: the same checks, item by item.
        start, kind = pos, data[pos] & 0x7F
        if kind == _SMALL_TUPLE:
            self.need(pos + 1, 1)
            count, pos = data[pos + 1], pos + 2
        elif kind == _TUPLE:
            self.need(pos + 1, 4)
            count, pos = _INT32(data, pos + 1)[0], pos + 5
        else:
            value, pos = self.value(pos, 1)
            raise self.fail(f"entry {_show(stats)} is {_show(value)}, expected a 5-tuple")
        if count != 5:
            raise self.fail(f"entry {_show(stats)} has {count} fields, expected 5")
        if data[start] & _FLAG_REF:
            refs.append(_RESERVED)  # nothing may refer to an entry tuple
        numbers = []
        for _ in range(4):
            number, pos = self.value(pos, 2)
            numbers.append(number)
        _fill(self, stats, tuple(numbers))
        if pos >= self.end or data[pos] & 0x7F != _DICT:
            value, pos = self.value(pos, 2)
            raise self.fail(f"entry {_show(stats)} has callers {_show(value)}, not a dict")
        return self.callers(pos, stats)

    def numbers(self, pos: int, count: int) -> tuple[object, object, float, float] | None:
        """The 4 numbers of a `count`-tuple laid out as cProfile writes it, else None."""
        data, refs = self.data, self.refs
        if data[pos] != _SMALL_TUPLE or data[pos + 1] != count or pos + 31 > self.end:
            return None
        ta, a, tb, b, tc, c, td, d = _NUMBERS(data, pos + 2)
        # Every type byte is checked before refs change, so that the generic reader can still
        # start over; an entry's callers dict must follow its numbers.
        if ta not in _FAST_INTS or tb not in _FAST_INTS or tc != _FLOAT or td != _FLOAT:
            return None
        if count == 5 and data[pos + 30] & 0x7F != _DICT:
            return None
        # A bad index gives _RESERVED, which the callers' type checks refuse.
        if ta == _REF:
            a = refs[a] if 0 <= a < len(refs) else _RESERVED
        elif ta & _FLAG_REF:
            refs.append(a)
        if tb == _REF:
            b = refs[b] if 0 <= b < len(refs) else _RESERVED
        elif tb & _FLAG_REF:
            refs.append(b)
        return a, b, c, d

    def callers(self, pos: int, stats: FunctionStats) -> int:
        """Read a callers dict at `pos` into `stats.callers` and the callers' `callees`."""
        data, refs, edges, key = self.data, self.refs, stats.callers, stats.key
        if data[pos] & _FLAG_REF:
            refs.append(_RESERVED)  # nothing may refer to a callers dict
        pos += 1
        fast = False
        # The decoder's hot loop (one turn per call edge): few calls on the common path.
        while data[pos] != _NULL:
            if data[pos] == _REF:
                caller = _INT32(data, pos + 1)[0]
                caller = refs[caller] if 0 <= caller < len(refs) else None
            else:
                caller = None
            if type(caller) is FunctionStats:
                pos += 5
            else:
                caller, pos = self.function(pos, 3, stats)
            numbers = self.numbers(pos, 4)
            if numbers is not None:
                a, b, c, d = numbers
                # x - x == 0.0 fails for inf and nan only; _edge_time says what is wrong.
                if not (type(a) is type(b) is int and a >= 0 and b >= 0 and c - c == d - d):
                    d = _edge_time(self, stats, caller, numbers, pos)
                edges[caller.key] = caller.callees[key] = d
                pos += 30
                fast = True
                continue
            edge_pos = pos
            edge, pos = self.value(pos, 3)
            edges[caller.key] = caller.callees[key] = _edge_time(
                self, stats, caller, edge, edge_pos
            )
        if fast:
            self.kinds.add("cProfile")
        return pos + 1


def _is_key(key: object) -> bool:
    if type(key) is not tuple or len(key) != 3:
        return False
    return type(key[0]) is str and type(key[1]) is int and type(key[2]) is str


def _show(value: object) -> str:
    """A short repr; a function shows as the (file, line, name) key of the file."""
    if isinstance(value, FunctionStats):
        value = (value.key.file, value.key.line, value.key.name)
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


def _fill(decoder: _Decoder, stats: FunctionStats, numbers: tuple[object, ...]) -> None:
    """Set an entry's calls (nc), self time (tt) and total time (ct)."""
    if _bad_numbers(numbers):
        raise decoder.fail(
            f"entry {_show(stats)} has {_show(numbers)}, expected two call counts and two "
            "finite times"
        )
    _, stats.calls, tt, ct = numbers  # type: ignore[assignment]
    stats.self_time, stats.total_time = float(tt), float(ct)  # type: ignore[arg-type]


def _edge_time(
    decoder: _Decoder, stats: FunctionStats, caller: FunctionStats, edge: object, pos: int
) -> float:
    """The inclusive time of `stats` when called from `caller`, from one callers-dict value."""
    if type(edge) is int and edge >= 0:
        # The profile module keeps only a call count per caller: share the inclusive time out
        # in proportion to it, which is what its own callers view implies.
        decoder.kinds.add("profile")
        return stats.total_time * edge / stats.calls if stats.calls else 0.0
    if type(edge) is tuple and len(edge) == 4 and not _bad_numbers(edge):
        decoder.kinds.add("cProfile")
        return float(edge[3])
    raise decoder.fail(
        f"entry {_show(stats)} called from {_show(caller)} has {_show(edge)} "
        f"(at byte {pos}), expected (calls, calls, self time, total time) or a call count"
    )
