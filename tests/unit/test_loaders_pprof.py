"""The pprof loader: real profiles (a run sampled here, austin2pprof, Datadog) and hostile ones.

A small sampling profiler (SAMPLER) runs a real program and writes pprof the way fleet profilers
do (leaf-first location ids, def lines in Function.start_line, qualified names), plus its raw
stacks as JSON so that every figure can be checked against an independent count.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from pathlib import Path

import pytest

from perfpilot.tools import profiles
from perfpilot.tools.model import FunctionKey, Profile, ProfileError
from perfpilot.tools.profiles import detect_format, load_bytes, load_profile, pprof, pprof_pb2
from tests.conftest import run_python

DATA = Path(__file__).resolve().parent.parent / "data"

PROGRAM = """\
import asyncio
import functools
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def logged(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)

    return wrapper


@logged
def squares(n):
    return sum([i * i for i in range(n)])


class Shape:
    def area_sum(self, n):
        return sum([(i % 7) * 1.5 for i in range(n)])


def outer(n):
    def inner(m):
        return sorted(range(m, 0, -1))[0]

    return inner(n)


async def fetch(n):
    await asyncio.sleep(0)
    return fib(n)


def main():
    deadline = time.perf_counter() + 0.6
    while time.perf_counter() < deadline:
        fib(18)
        squares(20000)
        Shape().area_sum(20000)
        outer(20000)
    asyncio.run(fetch(25))


main()
"""

# Samples the main thread every millisecond while it runs the target, then writes pprof twice
# (gzip'd with no default sample type, raw with default "samples") and the raw stacks as JSON.
SAMPLER = """\
import gzip, json, runpy, sys, threading, time
from perfpilot.tools.profiles import pprof_pb2

target, out = sys.argv[1], sys.argv[2]
main_id = threading.get_ident()
stacks = {}  # leaf-first ((file, qualname, line, def line), ...) -> [count, wall ns]
done = threading.Event()


def sample():
    last = time.perf_counter_ns()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter_ns()
        frame, stack = sys._current_frames().get(main_id), []
        while frame is not None:
            code = frame.f_code
            name = getattr(code, "co_qualname", code.co_name)
            stack.append((code.co_filename, name, frame.f_lineno, code.co_firstlineno))
            frame = frame.f_back
        entry = stacks.setdefault(tuple(stack), [0, 0])
        entry[0] += 1
        entry[1] += now - last
        last = now


start = time.time_ns()
sys.setswitchinterval(0.0005)  # the sampler needs the GIL to look at the main thread
thread = threading.Thread(target=sample, daemon=True)
thread.start()
runpy.run_path(target, run_name="__main__")
done.set()
thread.join()
duration = time.time_ns() - start

for default, name in (("", out + ".pb.gz"), ("samples", out + ".pb")):
    profile, strings, functions, locations = pprof_pb2.Profile(), {}, {}, {}

    def string(text):
        if text not in strings:
            strings[text] = len(strings)
            profile.string_table.append(text)
        return strings[text]

    string("")
    for kind, unit in (("samples", "count"), ("wall", "nanoseconds")):
        profile.sample_type.add(type=string(kind), unit=string(unit))
    for stack, (count, wall) in stacks.items():
        ids = []
        for file, qualname, line, def_line in stack:
            function = (file, qualname, def_line)
            if function not in functions:
                functions[function] = len(functions) + 1
                profile.function.add(
                    id=functions[function], name=string(qualname),
                    system_name=string(qualname.rpartition(".")[2]),
                    filename=string(file), start_line=def_line,
                )
            location = (functions[function], line)
            if location not in locations:
                locations[location] = len(locations) + 1
                loc = profile.location.add(id=locations[location])
                loc.line.add(function_id=functions[function], line=line)
            ids.append(locations[location])
        profile.sample.add(location_id=ids, value=[count, wall])
    profile.default_sample_type = string(default)
    profile.duration_nanos = duration
    profile.time_nanos = start
    profile.period_type.type, profile.period_type.unit = string("wall"), string("nanoseconds")
    profile.period = 1_000_000
    data = profile.SerializeToString()
    with open(name, "wb") as handle:
        handle.write(gzip.compress(data) if name.endswith(".gz") else data)
with open(out + ".json", "w") as handle:
    json.dump([[list(stack), count, wall] for stack, (count, wall) in stacks.items()], handle)
"""


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(PROGRAM.splitlines(), 1) if line.lstrip() == text)


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pprof")
    (root / "prog.py").write_text(PROGRAM)
    (root / "sampler.py").write_text(SAMPLER)
    run_python(["sampler.py", str(root / "prog.py"), "run"], cwd=root)
    return root


def expected_counts(root: Path) -> tuple[Counter, Counter, int, int]:
    """Self and total sample counts per (file, qualname, def line), straight from the stacks."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    samples = wall = 0
    for stack, count, ns in json.loads((root / "run.json").read_text()):
        functions = [(file, name, def_line) for file, name, _line, def_line in stack]
        own[functions[0]] += count
        for function in set(functions):
            inclusive[function] += count
        samples += count
        wall += ns
    return own, inclusive, samples, wall


def function(profile: Profile, file: str, qualname: str, def_line: int):  # noqa: ANN201
    return profile.functions[FunctionKey(file, def_line, qualname.rpartition(".")[2])]


def test_sampled_run_matches_its_raw_stacks(sampled: Path) -> None:
    profile = load_profile(sampled / "run.pb")
    own, inclusive, samples, _ = expected_counts(sampled)
    assert (profile.format, profile.unit, profile.total) == ("pprof", "samples", samples)
    assert profile.meta["sample_type"] == "samples/count"  # the declared default wins
    assert len(profile.functions) == len(inclusive)
    for (file, qualname, def_line), total in inclusive.items():
        stats = function(profile, file, qualname, def_line)
        assert (stats.self_time, stats.total_time) == (own[(file, qualname, def_line)], total)
        assert stats.qualname == (qualname if "." in qualname else None)
    prog = str(sampled / "prog.py")
    # co_firstlineno of a decorated function is its first decorator line.
    squares = function(profile, prog, "squares", line_of("@logged"))
    assert squares.total_time > 0
    area = function(profile, prog, "Shape.area_sum", line_of("def area_sum(self, n):"))
    assert area.qualname == "Shape.area_sum"
    # Hot lines come from the samples where the method itself ran (its list comprehension is
    # its own frame in 3.11, so a run may give it none): they add up to its self time.
    assert sum(area.line_times.values()) == area.self_time
    assert all(line > area.key.line for line in area.line_times)
    # A nested function is keyed by its bare name; a run's samples may miss this short one
    # (its time is mostly inside `sorted`), which the raw stacks then show too.
    inner_line = line_of("def inner(m):")
    if (prog, "outer.<locals>.inner", inner_line) in inclusive:
        assert function(profile, prog, "outer.<locals>.inner", inner_line).key.name == "inner"
    else:
        assert not any(k.line == inner_line for k in profile.functions)
    fetch = function(profile, prog, "fetch", line_of("async def fetch(n):"))
    fib = function(profile, prog, "fib", line_of("def fib(n):"))
    assert fib.key in fetch.callees  # a coroutine's callee
    assert fib.total_time <= profile.total  # deep recursion is counted once per stack
    # Stacks are root first: every one starts at the sampler's own module.
    assert profile.stacks is not None
    roots = {profile.stacks.frames[stack[0]].name for stack in profile.stacks.stacks}
    assert roots == {"<module>"}
    assert profile.duration is not None and profile.duration > 0.5


def test_sampled_run_gzip_prefers_wall_time_in_seconds(sampled: Path) -> None:
    profile = load_profile(sampled / "run.pb.gz")
    _, _, samples, wall = expected_counts(sampled)
    assert profile.unit == "seconds"
    assert profile.meta["sample_type"] == "wall/nanoseconds"
    assert profile.meta["period"] == "1000000 nanoseconds"
    assert profile.total == pytest.approx(wall / 1e9)
    counted = load_profile(sampled / "run.pb")
    assert counted.functions.keys() == profile.functions.keys()


def test_checked_in_fleet_profiles() -> None:
    # austin2pprof: wall time in μs, no def lines, qualified names.
    wall = load_profile(DATA / "austin-wall.pprof")
    message = pprof_pb2.Profile.FromString((DATA / "austin-wall.pprof").read_bytes())
    assert wall.unit == "seconds" and wall.meta["sample_type"] == "Wall time/μs"
    assert wall.total == pytest.approx(
        sum(s.value[0] for s in message.sample if s.location_id) / 1e6
    )
    hottest = max(wall.functions.values(), key=lambda stats: stats.self_time)
    assert hottest.key.name == "fib" and hottest.key.line == 0 and hottest.line_times
    assert wall.stacks is not None
    area = {(f.name, f.def_line) for f in wall.stacks.frames if f.qualname == "Shape.area_sum"}
    assert area == {("area_sum", 0)}
    # austin -f: CPU time is preferred to wall time and to the memory values.
    full = load_profile(DATA / "austin-full.pprof.gz")
    assert full.meta["sample_type"] == "CPU time/μs"
    assert "Allocated memory/B" in full.meta["sample_types"]
    # Datadog (ddtrace): 19 sample types, fields not in number order, labels, a duration.
    datadog = load_profile(DATA / "datadog.pprof")
    assert datadog.meta["sample_type"] == "cpu-time/nanoseconds"
    assert datadog.duration == pytest.approx(1.0, abs=0.2)
    top = sorted(datadog.functions.values(), key=lambda stats: -stats.self_time)[:3]
    assert {stats.qualname or stats.key.name for stats in top} == {
        "fib",
        "squares",
        "Shape.area_sum",
    }
    with pytest.raises(ProfileError, match=r"zstd-compressed data .*\(zstd -d FILE\)"):
        load_profile(DATA / "datadog.pprof.zst")


def build(
    *,
    types: tuple[tuple[str, str], ...] = (("cpu", "nanoseconds"),),
    samples: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (((1,), (10,)),),
    default: str = "",
) -> pprof_pb2.Profile:
    """A small profile: functions 1-3 (leaf, mid, root) in a.py, one location each."""
    message = pprof_pb2.Profile()
    strings = ["", "a.py", "leaf", "Mid.mid", "root", default]
    strings += [text for pair in types for text in pair]
    message.string_table.extend(strings)
    for kind, unit in types:
        message.sample_type.add(type=strings.index(kind), unit=strings.index(unit))
    message.default_sample_type = strings.index(default)
    for number, name in ((1, "leaf"), (2, "Mid.mid"), (3, "root")):
        message.function.add(id=number, name=strings.index(name), filename=1, start_line=number)
        message.location.add(id=number).line.add(function_id=number, line=10 * number)
    for ids, values in samples:
        message.sample.add(location_id=ids, value=values)
    return message


def load_message(message: pprof_pb2.Profile) -> Profile:
    return load_bytes(message.SerializeToString(), "built.pb")


def test_leaf_first_ids_and_inlined_lines_become_root_first_stacks() -> None:
    message = build(samples=(((1, 2, 3), (1_000_000_000,)),))
    profile = load_message(message)
    keys = {name: FunctionKey("a.py", line, name) for name, line in (("leaf", 1), ("mid", 2))}
    keys["root"] = FunctionKey("a.py", 3, "root")
    assert profile.functions[keys["root"]].callees == {keys["mid"]: 1.0}
    assert profile.functions[keys["leaf"]].self_time == 1.0
    assert profile.functions[keys["leaf"]].line_times == {10: 1.0}
    assert profile.functions[keys["mid"]].qualname == "Mid.mid"
    # One location holding leaf inlined into mid (the last line is the outermost caller).
    message.location[0].line.add(function_id=2, line=25)
    profile = load_message(message)
    assert profile.stacks is not None
    (stack,) = profile.stacks.stacks
    frames = [profile.stacks.frames[i] for i in stack]
    assert [(f.name, f.line, f.def_line) for f in frames] == [
        ("root", 30, 3),
        ("mid", 20, 2),
        ("mid", 25, 2),
        ("leaf", 10, 1),
    ]


def test_sample_type_choice_and_units() -> None:
    types = (("alloc", "bytes"), ("samples", "count"), ("wall", "milliseconds"), ("cpu", "us"))
    values = ((1,), (5, 1, 7, 3000))
    profile = load_message(build(types=types, samples=(values,)))
    assert (profile.meta["sample_type"], profile.total) == ("cpu/us", pytest.approx(0.003))
    profile = load_message(build(types=types, samples=(values,), default="wall"))
    assert (profile.meta["sample_type"], profile.total) == ("wall/milliseconds", 0.007)
    # A default that is not a time or a count (bytes) is passed over.
    profile = load_message(build(types=types, samples=(values,), default="alloc"))
    assert profile.meta["sample_type"] == "cpu/us"
    with pytest.raises(ProfileError, match="no time or sample count .*alloc/bytes"):
        load_message(build(types=(("alloc", "bytes"),), samples=(((1,), (5,)),)))


def test_names_and_unsymbolized_locations() -> None:
    message = build(samples=(((1, 2, 3), (5,)), ((4,), (5,))))
    message.string_table.extend(["<built-in method time.sleep>", "sleep_c"])
    message.function[0].name = len(message.string_table) - 2
    message.function[2].name = 0  # no name: the system name is used
    message.function[2].system_name = len(message.string_table) - 1
    message.location.add(id=4, address=0xBEEF)
    profile = load_message(message)
    names = {(key.name, stats.qualname) for key, stats in profile.functions.items()}
    assert ("<built-in method time.sleep>", None) in names
    assert ("sleep_c", None) in names
    assert FunctionKey("<unknown>", 0, "0xbeef") in profile.functions


def test_sniffing() -> None:
    raw = (DATA / "austin-wall.pprof").read_bytes()
    for data in (raw, gzip.compress(raw), (DATA / "datadog.pprof").read_bytes()):
        assert pprof.sniff(data)
        fmt = detect_format(data)
        assert fmt is not None and fmt.name == "pprof"
    others = [path.read_bytes() for path in DATA.iterdir() if "pprof" not in path.name]
    others += [
        b'{"a": 1}',
        b'\n{"a": 1}\n',
        b'"abc"',
        b"main;fib 3\n",
        b"\n\n\n",
        b"2to3;main 5\n",
        gzip.compress(b'{"shared": {"frames": []}}'),
        b"\x1f\x8b\x08\x00" + bytes(range(256)),
    ]
    for data in others:
        assert not pprof.sniff(data), data[:40]


# --- hostile and malformed inputs ------------------------------------------------------------


def refused(data: bytes, match: str) -> None:
    with pytest.raises(ProfileError, match=match) as info:
        load_bytes(data, "bad.pb")
    assert info.value.source == "bad.pb"


def bomb(inflated: int) -> bytes:
    """A gzip member that inflates to a Profile whose last string is `inflated` zero bytes."""
    head = build().SerializeToString() + b"\x32" + _varint(inflated)
    chunk = bytes(64 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)]
    # After a full flush the history is empty, so every zero chunk compresses the same.
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    parts += [block] * (inflated // len(chunk))
    parts.append(deflate.compress(bytes(inflated % len(chunk))) + deflate.flush())
    crc = zlib.crc32(head)
    for _ in range(inflated // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(bytes(inflated % len(chunk)), crc)
    size = (len(head) + inflated) & 0xFFFFFFFF
    trailer = crc.to_bytes(4, "little") + size.to_bytes(4, "little")
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + b"".join(parts) + trailer


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def test_gzip_bomb_is_refused_at_the_cap() -> None:
    data = bomb(2 << 30)  # 2 GiB of zeros in a 2 MB file
    assert len(data) < 4 << 20 and pprof.sniff(data)
    refused(data, f"gzip data inflates to more than {profiles.MAX_PROFILE_BYTES} bytes")


def test_the_cap_is_read_when_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    data = bomb(64 << 20)
    assert zlib.decompress(data, 31).startswith(build().SerializeToString())  # a valid gzip
    monkeypatch.setattr(profiles, "MAX_PROFILE_BYTES", 1 << 20)
    refused(data, "inflates to more than 1048576 bytes")


def test_broken_gzip() -> None:
    good = gzip.compress(build().SerializeToString())
    refused(good[: len(good) // 2], "truncated gzip data")
    refused(good[:-3], "truncated gzip data")
    flipped = bytearray(good)
    flipped[-6] ^= 0xFF  # the CRC
    refused(bytes(flipped), "corrupt gzip data")
    refused(good + b"garbage", "7 bytes of trailing data after the gzip data")
    # Concatenated members and zero padding are valid gzip.
    raw = build().SerializeToString()
    joined = load_bytes(gzip.compress(raw[:5]) + gzip.compress(raw[5:]) + b"\0\0", "x")
    assert joined.functions == load_bytes(raw, "y").functions


def test_string_indexes_are_checked() -> None:
    def broken(edit) -> pprof_pb2.Profile:  # noqa: ANN001
        message = build()
        edit(message)
        return message

    size = len(build().string_table)
    cases = [
        (lambda m: setattr(m.function[1], "name", 999), "function 2 name refers to string 999"),
        (lambda m: setattr(m.function[0], "filename", -1), "function 1 filename refers to"),
        (lambda m: setattr(m.sample_type[0], "unit", size), f"string {size}, but the string"),
        (lambda m: setattr(m, "default_sample_type", 77), "default_sample_type refers to"),
        (lambda m: m.comment.append(50), "comment refers to string 50"),
        (lambda m: m.mapping.add(id=1, filename=60), "mapping 1 filename refers to"),
        (lambda m: m.sample[0].label.add(key=1, str=70), "a label of sample 0 refers to"),
        (lambda m: m.sample[0].label.add(key=1, num=3, num_unit=71), "label unit of sample 0"),
        (lambda m: setattr(m, "drop_frames", 80), "drop_frames refers to"),
        (lambda m: m.string_table.__setitem__(0, "x"), r'string_table\[0\] must be ""'),
    ]
    for edit, match in cases:
        refused(broken(edit).SerializeToString(), match)
    assert load_message(build()).total > 0


def test_structural_errors() -> None:
    cases = [
        (build(samples=(((9,), (1,)),)), "sample 0 refers to location 9, which is not defined"),
        (build(samples=(((1,), (1, 2)),)), "sample 0 has 2 values for 1 sample types"),
        (build(samples=()), r"holds no samples with a positive cpu/nanoseconds value"),
        (build(samples=(((1,), (0,)), ((), (5,)))), "holds no samples"),
        (build(types=()), "declares no sample types"),
    ]
    for message, match in cases:
        refused(message.SerializeToString(), match)
    message = build()
    message.location[0].line[0].function_id = 42
    refused(message.SerializeToString(), "location 1 refers to function 42")
    message = build()
    message.function.add(id=2, name=1)
    refused(message.SerializeToString(), "function id 2 is zero or repeated")
    message = build()
    message.location.add(id=0)
    refused(message.SerializeToString(), "location id 0 is zero or repeated")
    raw = build().SerializeToString()
    refused(raw[:-3] + b"\xff\xff\xff", "corrupt pprof protobuf")


def test_another_copy_of_profile_proto_in_the_process(tmp_path: Path) -> None:
    # Packages that ship their own profile_pb2 (austin-python does) register the same
    # perftools.profiles symbols first; protobuf then refuses ours, and the loader uses theirs.
    from google.protobuf import descriptor_pb2

    copy = descriptor_pb2.FileDescriptorProto.FromString(pprof_pb2.DESCRIPTOR.serialized_pb)
    copy.name = "some/other/profile.proto"
    script = (
        "import sys\n"
        "from google.protobuf import descriptor_pool\n"
        "descriptor_pool.Default().AddSerializedFile(bytes.fromhex(sys.argv[1]))\n"
        "try:\n"
        "    import perfpilot.tools.profiles.pprof_pb2\n"
        "except TypeError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('expected a duplicate symbol')\n"
        "from perfpilot.tools.profiles import load_profile\n"
        "print(load_profile(sys.argv[2]).meta['sample_type'])\n"
    )
    done = run_python(
        ["-c", script, copy.SerializeToString().hex(), str(DATA / "datadog.pprof")], cwd=tmp_path
    )
    assert done.stdout.strip() == "cpu-time/nanoseconds"
