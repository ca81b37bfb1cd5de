"""Decode untrusted marshal bytes without trusting marshal with them.

marshal trusts declared sizes (a tuple header claiming 2**31 items allocates 16 GiB first) and
builds code objects, so `MarshalReader` decodes a subset itself: every count is checked against
the bytes left, nesting is bounded, other types are refused with their offset. A format that
meets a code object may hand the bytes to `sandboxed_marshal`, which lets marshal read them in a
throwaway interpreter with an address-space limit and a timeout.
"""

from __future__ import annotations

import struct
import sys

from perfpilot.tools.model import ProfileError

FLAG_REF = 0x80  # set on an object that later 'r' records may refer back to, by its index
# A long is 15-bit digits: 8 of them exceed 2**119, far past any count a profile holds.
MAX_LONG_DIGITS = 8

INT32 = struct.Struct("<i").unpack_from
DOUBLE = struct.Struct("<d").unpack_from

# Type codes of the subset read here (see Python/marshal.c).
NULL, NONE, FALSE, TRUE, INT, LONG, FLOAT = 0x30, 0x4E, 0x46, 0x54, 0x69, 0x6C, 0x67
TUPLE, SMALL_TUPLE, DICT, REF, SHORT, SHORT_INTERNED = 0x28, 0x29, 0x7B, 0x72, 0x7A, 0x5A
CODE = 0x63
FIXED = {INT: (4, INT32), FLOAT: (8, DOUBLE)}  # size, unpacker
# String types: width of the length field, encoding ('u' and 't' may hold surrogates).
STRINGS = {SHORT: (1, "ascii"), SHORT_INTERNED: (1, "ascii"), 0x61: (4, "ascii"),
           0x41: (4, "ascii"), 0x75: (4, "utf-8"), 0x74: (4, "utf-8")}  # fmt: skip
CONSTANTS = {NONE: None, TRUE: True, FALSE: False}
REFUSED = {"c": "code object", "[": "list", "<": "set", ">": "frozenset", "s": "bytes",
           "y": "complex", "x": "complex", "f": "text float", "S": "StopIteration",
           ".": "Ellipsis", "0": "NULL outside a dict"}  # fmt: skip


class _Reserved:
    """Marks a flagged container still being read (marshal would hand back None for it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<bad back-reference>"


RESERVED = _Reserved()


class CodeObjectError(ProfileError):
    """A code object, which the reader never builds (see `sandboxed_marshal`)."""


class MarshalReader:
    """A strict reader for a subset of marshal; every error names a byte offset.

    `value` reads any allowed value; a format subclasses it with fast paths for its own layouts,
    which must agree with it, and sets `max_depth` and `expected` for its errors.
    """

    max_depth = 8  # containers nested deeper than this are refused
    expected = "marshal data"  # what the data should be: "not a {expected}: marshal type ..."

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.end = len(data)
        # The offset of data[0] in the whole input: a reader that decodes a file in windows
        # (pstats_loader) moves it on; every position in an error is counted from the start.
        self.base = 0
        self.source = source
        self.refs: list[object] = []

    def fail(self, message: str) -> ProfileError:
        return ProfileError(self.source, message)

    def truncated(self) -> ProfileError:
        return self.fail(f"truncated at byte {self.base + self.end} (the data ends inside a value)")

    def need(self, pos: int, count: int, declared: str = "", at: int = 0) -> None:
        """Refuse a length or count (`declared` at byte `at`) that the bytes left from `pos`
        cannot hold, before allocating it; a fixed size that does not fit is a truncation."""
        left = self.end - pos
        if 0 <= count <= left:
            return
        if not declared:
            raise self.truncated()
        if count < 0:
            raise self.fail(f"negative {declared} {count} at byte {self.base + at}")
        raise self.fail(
            f"{declared} {count} at byte {self.base + at} exceeds the {max(left, 0)} bytes left"
        )

    def deref(self, index: int, pos: int) -> object:
        if not 0 <= index < len(self.refs) or self.refs[index] is RESERVED:
            raise self.fail(f"bad back-reference {index} at byte {self.base + pos}")
        return self.refs[index]

    def value(self, pos: int, depth: int) -> tuple[object, int]:
        """Read any allowed value at `pos`; return it and the position after it."""
        data, refs = self.data, self.refs
        if pos >= self.end:
            raise self.truncated()
        start, kind, flagged = pos, data[pos] & 0x7F, data[pos] & FLAG_REF
        pos += 1
        value: object
        if kind == REF:
            self.need(pos, 4)
            return self.deref(INT32(data, pos)[0], start), pos + 4
        if kind in FIXED:
            size, unpack = FIXED[kind]
            self.need(pos, size)
            value, pos = unpack(data, pos)[0], pos + size
        elif kind in STRINGS:
            width, encoding = STRINGS[kind]
            self.need(pos, width)
            size, pos = (data[pos] if width == 1 else INT32(data, pos)[0]), pos + width
            self.need(pos, size, "declared length", start)
            value, pos = self.text(data[pos : pos + size], start, encoding), pos + size
        elif kind == LONG:
            value, pos = self.long(pos)
        elif kind in CONSTANTS:
            value = CONSTANTS[kind]
        elif kind in (TUPLE, SMALL_TUPLE, DICT):
            if depth >= self.max_depth:
                raise self.fail(
                    f"nested deeper than {self.max_depth} levels at byte {self.base + start}"
                )
            slot = len(refs)
            if flagged:
                refs.append(RESERVED)  # marshal numbers a container before its contents
            value, pos = self.container(kind, pos, depth + 1)
            if flagged:
                refs[slot] = value
            return value, pos
        else:
            name = REFUSED.get(chr(kind), "unknown type")
            error = CodeObjectError if kind == CODE else ProfileError
            raise error(
                self.source,
                f"not a {self.expected}: marshal type {chr(kind)!r} ({name})"
                f" at byte {self.base + start}",
            )
        if flagged:
            refs.append(value)
        return value, pos

    def container(self, kind: int, pos: int, depth: int) -> tuple[object, int]:
        data = self.data
        if kind == DICT:
            result: dict[object, object] = {}
            while True:
                if pos >= self.end:
                    raise self.truncated()
                if data[pos] == NULL:
                    return result, pos + 1
                key_pos = pos
                key, pos = self.value(pos, depth)
                result_value, pos = self.value(pos, depth)
                try:
                    result[key] = result_value
                except TypeError:
                    raise self.fail(f"unhashable dict key at byte {self.base + key_pos}") from None
        start = pos - 1
        if kind == SMALL_TUPLE:
            self.need(pos, 1)
            count, pos = data[pos], pos + 1
        else:
            self.need(pos, 4)
            count, pos = INT32(data, pos)[0], pos + 4
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
            raise self.fail(f"string at byte {self.base + start} is not valid {encoding}") from None

    def long(self, pos: int) -> tuple[int, int]:
        self.need(pos, 4)
        count = INT32(self.data, pos)[0]
        size = abs(count)
        if size > MAX_LONG_DIGITS:
            raise self.fail(
                f"integer of {size} digits at byte {self.base + pos - 1} is implausibly large"
            )
        self.need(pos + 4, 2 * size, "declared length", pos - 1)
        digits = struct.unpack_from(f"<{size}H", self.data, pos + 4)
        if any(digit >> 15 for digit in digits) or (size and not digits[-1]):
            raise self.fail(f"malformed integer at byte {self.base + pos - 1}")
        value = sum(digit << (15 * i) for i, digit in enumerate(digits))
        return (-value if count < 0 else value), pos + 4 + 2 * size


# Building objects from untrusted bytes (code objects above all) is marshal's job alone, so it is
# done in a throwaway interpreter with an address-space limit and a timeout. The caller's
# `transform` (Python source defining `transform(obj)`) turns what marshal read into plain
# values, which are sent back re-marshalled for a MarshalReader to read as any other data.
_CHILD = """
import marshal, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]),) * 2)
{transform}
sys.stdout.buffer.write(marshal.dumps(transform(marshal.loads(sys.stdin.buffer.read()))))
"""
_CHILD_TIMEOUT = 60.0


def sandboxed_marshal(data: bytes, source: str, transform: str, why: str) -> bytes:
    """marshal.dumps(transform(marshal.loads(data))), run in a sandboxed child interpreter.

    `why` says why marshal is needed; it starts the ProfileError raised when there is no
    sandbox on this system or marshal fails in it (bad data, the memory limit, the timeout).
    """
    import subprocess  # only for a code object, which a profile seldom holds

    try:
        import resource  # noqa: F401  (POSIX only; without a memory limit there is no child)
    except ImportError:
        raise ProfileError(source, f"{why}, and this system cannot sandbox it") from None
    limit = (512 << 20) + 32 * len(data)
    script = _CHILD.format(transform=transform)
    command = [sys.executable, "-I", "-S", "-c", script, str(limit)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=_CHILD_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProfileError(source, f"{why}, and marshal failed in a sandbox ({exc})") from None
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        reason = last[0] if last else f"exit status {done.returncode}"
        raise ProfileError(source, f"{why}, and marshal failed in a sandbox ({reason})")
    return done.stdout
