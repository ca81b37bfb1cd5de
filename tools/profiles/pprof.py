"""Load pprof protobuf profiles (`.pb`, gzip'd `.pb.gz`) as fleet profilers write them.

Pyroscope, Google Cloud Profiler, Datadog and `austin2pprof` write the published profile.proto
(package perftools.profiles). One sample value is used: the profile's default_sample_type when
it is a time or a count, otherwise CPU time, then wall time, then any other time, then a sample
count. Times become seconds, counts the unit "samples".
"""

from __future__ import annotations

import functools
import re
import zlib
from itertools import chain
from typing import Any

from google.protobuf.message import DecodeError

from perfpilot.tools import profiles
from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles.stacks import StackBuilder

FORMAT = "pprof"

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Seconds per unit; pprof writers spell microseconds every way ("μs" is austin2pprof's).
_TIME_UNITS = {
    "nanoseconds": 1e-9, "ns": 1e-9, "nanosecond": 1e-9,
    "microseconds": 1e-6, "us": 1e-6, "μs": 1e-6, "µs": 1e-6, "microsecond": 1e-6,
    "milliseconds": 1e-3, "ms": 1e-3, "millisecond": 1e-3,
    "seconds": 1.0, "s": 1.0, "second": 1.0,
}  # fmt: skip
_COUNT_UNITS = {"count", "samples", "sample", ""}
_CHUNK = 1 << 24  # gunzip output per step: the cap is checked between steps
# pyroscope-rs (under Pyroscope's Python SDK) names frames `path/file.py:LINE - qualname` when
# it sends folded stacks; Pyroscope keeps that as the function name, with no file name.
_FOLDED_FRAME = re.compile(r"^(?P<file>[^\s;]*\.pyw?):(?P<line>\d{1,9}) - (?P<name>\S.*)$")


def sniff(data: bytes) -> bool:
    """Accept a protobuf Profile, raw or gzip'd (checking what it inflates to), or zstd data."""
    if data[:2] == _GZIP_MAGIC:
        try:
            # Without the 8-byte trailer of a small file, its CRC is not checked here: a
            # corrupt one is for load() to report.
            prefix = zlib.decompressobj(wbits=31).decompress(data[: min(4096, len(data) - 8)], 512)
        except zlib.error:
            return False
        return _looks_like_profile(prefix, complete=False)
    if data[:4] == _ZSTD_MAGIC:
        return True  # Datadog's pprof; load() says how to read it
    return _looks_like_profile(data[:4096], complete=len(data) <= 4096)


# Wire type of each Profile field (0 varint, 2 length-delimited); comment (13) may be either.
_PROFILE_WIRE = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 0, 8: 0, 9: 0, 10: 0, 11: 2, 12: 0,
                 13: 2, 14: 0}  # fmt: skip
# The messages a profile starts with (writers begin with one of its tables), and the tags of the
# fields each may hold: ValueType, Sample, Mapping, Location, Function.
_FIRST_FIELD_TAGS = {
    1: {0x08, 0x10},
    2: {0x08, 0x0A, 0x10, 0x12, 0x1A},
    3: {0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50},
    4: {0x08, 0x10, 0x18, 0x22, 0x28},
    5: {0x08, 0x10, 0x18, 0x20, 0x28},
}


def _varint(buf: bytes, pos: int) -> tuple[int, int] | None:
    value = shift = 0
    while pos < len(buf) and shift < 64:
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None


def _looks_like_profile(buf: bytes, complete: bool) -> bool:
    """Walk the top-level fields of `buf` (a prefix unless `complete`) as a Profile message."""
    # Writers order fields differently (Go and protobuf-python begin with sample_type, Datadog
    # with sample), so every field is checked for a Profile field number and wire type, and the
    # first one must be a table whose own fields check out. Text and JSON fail at once: their
    # bytes are not such tags.
    pos, fields = 0, 0
    while pos < len(buf) and fields < 32:
        tag = _varint(buf, pos)
        if tag is None:
            return not complete and fields > 0
        number, wire, pos = tag[0] >> 3, tag[0] & 7, tag[1]
        if _PROFILE_WIRE.get(number) != wire and not (number == 13 and wire == 0):
            return False
        if fields == 0 and number not in _FIRST_FIELD_TAGS:
            return False
        value = _varint(buf, pos)
        if value is None:
            return not complete and fields > 0
        pos = value[1]
        if wire == 2:
            end = pos + value[0]
            if fields == 0 and not _fields_are(buf[pos:end], _FIRST_FIELD_TAGS[number]):
                return False
            if end > len(buf):
                return not complete
            pos = end
        fields += 1
    return fields > 0


def _fields_are(body: bytes, tags: set[int]) -> bool:
    """Every field of `body` (maybe cut short) has one of `tags`; fields are varint or LEN."""
    pos = 0
    while pos < len(body):
        tag = body[pos]
        if tag not in tags:
            return False
        value = _varint(body, pos + 1)
        if value is None:
            return True  # cut short by the prefix
        pos = value[1] + (value[0] if tag & 7 == 2 else 0)
    return True


def load(data: bytes, source: str) -> Profile:
    """Load a pprof profile, gzip'd or not."""
    if data[:4] == _ZSTD_MAGIC:
        raise ProfileError(
            source,
            "zstd-compressed data (Datadog writes pprof so): perfpilot reads raw or gzip'd pprof; "
            "decompress it first (zstd -d FILE)",
        )
    raw = _gunzip(data, source) if data[:2] == _GZIP_MAGIC else data
    try:
        message = _profile_message().FromString(raw)
    except DecodeError as exc:
        raise ProfileError(source, f"corrupt pprof protobuf ({exc})") from None
    return _Converter(message, source).profile()


@functools.cache
def _profile_message() -> Any:
    """The Profile message class; another package's copy of profile.proto does as well."""
    try:
        from perfpilot.tools.profiles import pprof_pb2
    except TypeError:
        # Importing registers perftools.profiles in protobuf's default pool, which refuses a
        # second copy of its symbols (austin-python ships one, for instance): use that copy.
        from google.protobuf import descriptor_pool, message_factory

        found = descriptor_pool.Default().FindMessageTypeByName("perftools.profiles.Profile")
        return message_factory.GetMessageClass(found)
    return pprof_pb2.Profile


def _gunzip(data: bytes, source: str) -> bytes:
    """Inflate gzip members, refusing output beyond MAX_PROFILE_BYTES (a gzip bomb)."""
    cap = profiles.MAX_PROFILE_BYTES
    chunks: list[bytes] = []
    total = 0
    pending = data
    while pending:
        inflater = zlib.decompressobj(wbits=31)
        while not inflater.eof:
            try:
                out = inflater.decompress(pending, min(_CHUNK, cap + 1 - total))
            except zlib.error as exc:
                raise ProfileError(source, f"corrupt gzip data ({exc})") from None
            pending = inflater.unconsumed_tail
            total += len(out)
            if total > cap:
                raise ProfileError(source, f"gzip data inflates to more than {cap} bytes")
            if not out and not pending:
                raise ProfileError(source, f"truncated gzip data (it ends after {len(data)} bytes)")
            chunks.append(out)
        # Another gzip member may follow (concatenated .gz files); zero padding may too.
        pending = inflater.unused_data
        if not pending.strip(b"\0"):
            break
        if pending[:2] != _GZIP_MAGIC:
            raise ProfileError(source, f"{len(pending)} bytes of trailing data after the gzip data")
    return b"".join(chunks)


class _Converter:
    """Turns a decoded Profile message into perfpilot's model, checking every reference."""

    def __init__(self, message: Any, source: str) -> None:
        self.message = message
        self.source = source
        self.strings = list(message.string_table)

    def fail(self, message: str) -> ProfileError:
        return ProfileError(self.source, message)

    def string(self, index: int, what: str) -> str:
        if 0 <= index < len(self.strings):
            return self.strings[index]
        raise self.fail(
            f"{what} refers to string {index}, but the string table has {len(self.strings)}"
        )

    def profile(self) -> Profile:
        message = self.message
        if not self.strings or self.strings[0] != "":
            raise self.fail('not a valid pprof profile: string_table[0] must be ""')
        self.check_unused_strings()
        types = [
            (self.string(vt.type, f"sample_type[{i}].type"), self.string(vt.unit, "its unit"))
            for i, vt in enumerate(message.sample_type)
        ]
        if not types:
            raise self.fail("pprof profile declares no sample types")
        default = self.string(message.default_sample_type, "default_sample_type")
        index = _choose(types, default)
        if index is None:
            listed = ", ".join(f"{kind}/{unit}" for kind, unit in types)
            raise self.fail(f"pprof profile holds no time or sample count (it has {listed})")
        kind, unit = types[index]
        factor = _TIME_UNITS.get(unit.lower(), 1.0)
        builder = StackBuilder()
        locations = self.locations(builder)
        stacks: dict[tuple[int, ...], tuple[int, ...]] = {}
        for number, sample in enumerate(message.sample):
            values = sample.value
            if len(values) != len(types):
                raise self.fail(
                    f"sample {number} has {len(values)} values for {len(types)} sample types"
                )
            ids = tuple(sample.location_id)
            stack = stacks.get(ids)
            if stack is None:
                try:  # pprof lists the leaf first; each location's frames are root first
                    stack = tuple(chain.from_iterable(map(locations.__getitem__, reversed(ids))))
                except KeyError as missing:
                    raise self.fail(
                        f"sample {number} refers to location {missing.args[0]}, "
                        "which is not defined"
                    ) from None
                stacks[ids] = stack
            if values[index] > 0:
                builder.add(stack, values[index] * factor)
        if not builder.stacks.stacks:
            raise self.fail(f"pprof profile holds no samples with a positive {kind}/{unit} value")
        meta = {
            "sample_type": f"{kind}/{unit}",
            "sample_types": ", ".join(f"{k}/{u}" for k, u in types),
        }
        period_kind = self.string(message.period_type.type, "period_type.type")
        period_unit = self.string(message.period_type.unit, "period_type.unit")
        if message.period:
            meta["period"] = f"{message.period} {period_unit}".rstrip()
        if period_kind:
            meta["period_type"] = f"{period_kind}/{period_unit}"
        comments = [self.string(i, "comment") for i in message.comment]
        if comments:
            meta["comments"] = "; ".join(comments)
        duration = message.duration_nanos / 1e9 if message.duration_nanos > 0 else None
        unit_name = "seconds" if unit.lower() in _TIME_UNITS else "samples"
        return builder.build(FORMAT, unit_name, self.source, duration=duration, meta=meta)

    def check_unused_strings(self) -> None:
        """Check the string indexes perfpilot does not otherwise read (a corrupt file shows)."""
        message, limit = self.message, len(self.strings)
        self.string(message.drop_frames, "drop_frames")
        self.string(message.keep_frames, "keep_frames")
        for mapping in message.mapping:
            self.string(mapping.filename, f"mapping {mapping.id} filename")
            self.string(mapping.build_id, f"mapping {mapping.id} build_id")
        for number, sample in enumerate(message.sample):
            for label in sample.label:
                if not (0 <= label.key < limit and 0 <= label.str < limit):
                    bad = label.key if not 0 <= label.key < limit else label.str
                    self.string(bad, f"a label of sample {number}")
                if not 0 <= label.num_unit < limit:
                    self.string(label.num_unit, f"a label unit of sample {number}")

    def locations(self, builder: StackBuilder) -> dict[int, tuple[int, ...]]:
        """Map each location id to its frames (root first), as builder frame indexes."""
        functions: dict[int, tuple[str, str, str | None, int, int]] = {}
        for function in self.message.function:
            if function.id == 0 or function.id in functions:
                raise self.fail(f"function id {function.id} is zero or repeated")
            what = f"function {function.id}"
            name = self.string(function.name, f"{what} name")
            system_name = self.string(function.system_name, f"{what} system_name")
            file = self.string(function.filename, f"{what} filename")
            name_line = 0
            folded = _FOLDED_FRAME.match(name) if not file else None
            if folded:  # Pyroscope's Python SDK folds `file:line - name` into the name
                file, name, name_line = folded["file"], folded["name"], int(folded["line"])
            bare, qualname = _split_name(name or system_name or "<unknown>")
            start_line = max(function.start_line, 0)
            functions[function.id] = (file, bare, qualname, start_line, name_line)
        locations: dict[int, tuple[int, ...]] = {}
        for location in self.message.location:
            if location.id == 0 or location.id in locations:
                raise self.fail(f"location id {location.id} is zero or repeated")
            frames = []
            for line in location.line:
                function = functions.get(line.function_id)
                if function is None:
                    raise self.fail(
                        f"location {location.id} refers to function {line.function_id}, "
                        "which is not defined"
                    )
                file, bare, qualname, def_line, name_line = function
                executing = line.line if line.line > 0 else name_line
                frames.append(builder.frame(file, bare, executing, def_line, qualname))
            if not frames:  # not symbolized: all that is known is the address
                frames.append(builder.frame("<unknown>", f"0x{location.address:x}"))
            # Several lines are inlined frames, the last one the outermost caller.
            locations[location.id] = tuple(reversed(frames))
        return locations


def _choose(types: list[tuple[str, str]], default: str) -> int | None:
    """Index of the sample value to use, or None when none is a time or a count."""

    def rank(kind: str, unit: str) -> int | None:
        kind, unit = kind.lower(), unit.lower()
        if unit in _TIME_UNITS:
            return 0 if "cpu" in kind else 1 if "wall" in kind else 2
        if unit in _COUNT_UNITS:
            return 3 if "cpu" in kind else 4 if "wall" in kind else 5
        return None

    usable = [(r, i) for i, (kind, unit) in enumerate(types) if (r := rank(kind, unit)) is not None]
    for _, i in usable:
        if default and types[i][0] == default:
            return i
    return min(usable)[1] if usable else None


def _split_name(name: str) -> tuple[str, str | None]:
    """('area_sum', 'Shape.area_sum') for a dotted name; dots inside <...> do not count."""
    depth = 0
    for index in range(len(name) - 1, 0, -1):
        char = name[index]
        if char == ">":
            depth += 1
        elif char == "<":
            depth -= 1
        elif char == "." and depth == 0 and index < len(name) - 1:
            return name[index + 1 :], name
    return name, None
