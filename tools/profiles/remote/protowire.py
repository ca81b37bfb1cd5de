"""The few protobuf wire-format operations the query APIs need: encode a request, pick fields.

The request messages are small and fixed, and of each answer only one field is read (the pprof
bytes), so hand encoding beats shipping generated code for two foreign .proto trees.
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT, LEN = 0, 2
_FIXED_SIZES = {1: 8, 5: 4}  # wire types I64 and I32


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def varint(value: int) -> bytes:
    """Encode a non-negative integer (or a negative int64, as 10 bytes) as a varint."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def int_field(number: int, value: int) -> bytes:
    """A varint field (int64, int32, enum, bool); proto3 leaves zero out."""
    return varint(number << 3 | VARINT) + varint(value) if value else b""


def bytes_field(number: int, value: bytes | str) -> bytes:
    """A length-delimited field: a string, bytes or an encoded sub-message."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return varint(number << 3 | LEN) + varint(len(data)) + data


def _read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("a varint runs past the end of the message")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise WireError("a varint is longer than 10 bytes")


def fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Yield (field number, wire type, value) for each top-level field; LEN values are views."""
    view = memoryview(buf)
    pos = 0
    while pos < len(view):
        tag, pos = _read_varint(view, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == VARINT:
            value, pos = _read_varint(view, pos)
            yield number, wire, value
        elif wire == LEN:
            size, pos = _read_varint(view, pos)
            if pos + size > len(view):
                raise WireError(f"field {number} claims {size} bytes, {len(view) - pos} remain")
            yield number, wire, view[pos : pos + size]
            pos += size
        elif wire in _FIXED_SIZES:
            size = _FIXED_SIZES[wire]
            if pos + size > len(view):
                raise WireError(f"field {number} is cut short")
            yield number, wire, view[pos : pos + size]
            pos += size
        else:
            raise WireError(f"field {number} has wire type {wire}, which no message uses")


def find_bytes(buf: bytes | memoryview, number: int) -> memoryview | None:
    """The last occurrence of length-delimited field `number` (proto3's rule), or None."""
    found = None
    for field_number, wire, value in fields(buf):
        if field_number == number and wire == LEN:
            assert isinstance(value, memoryview)
            found = value
    return found


def has_field(buf: bytes | memoryview, number: int) -> bool:
    """Whether `buf` holds field `number`; stops at the first one."""
    return any(field_number == number for field_number, _, _ in fields(buf))
