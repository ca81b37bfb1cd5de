"""The cProfile/profile stats loader: real runs agree with stdlib pstats; hostile files are refused.

The loader never hands the file to marshal; these tests check it against `pstats.Stats` (which
does) on files of trusted origin, and feed it crafted marshal data that would make marshal
allocate gigabytes or build code objects.
"""

from __future__ import annotations

import marshal
import pstats
import struct
import tracemalloc
from pathlib import Path

import pytest

from perfpilot.tools.model import FunctionKey, Profile, ProfileError
from perfpilot.tools.profiles import (
    detect_format,
    load_bytes,
    load_profile,
    pstats_decoder,
    pstats_loader,
)
from tests.conftest import run_python

PROGRAM = """\
import asyncio
import functools


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
        items = []
        for i in range(m):
            items.append(i)
        return len(items)

    return inner(n)


async def fetch(n):
    await asyncio.sleep(0)
    return fib(n)


def main():
    for _ in range(3):
        fib(16)
        squares(3000)
        Shape().area_sum(3000)
        outer(3000)
    asyncio.run(fetch(12))


main()
"""


def line_of(text: str) -> int:
    """1-based line of the first line of PROGRAM that starts with `text`."""
    return next(i for i, line in enumerate(PROGRAM.splitlines(), 1) if line.lstrip() == text)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """prog.py run under cProfile (relative and absolute path) and under the profile module."""
    root = tmp_path_factory.mktemp("pstats")
    (root / "prog.py").write_text(PROGRAM)
    run_python(["-m", "cProfile", "-o", "relative.prof", "prog.py"], cwd=root)
    run_python(["-m", "cProfile", "-o", "absolute.prof", str(root / "prog.py")], cwd=root)
    run_python(["-m", "profile", "-o", "pure.prof", "prog.py"], cwd=root)
    return root


def stats_of(profile: Profile, file: str, line: int, name: str):  # noqa: ANN201
    return profile.functions[FunctionKey(file, line, name)]


def named(key: tuple) -> FunctionKey:
    """The FunctionKey for a pstats key; a code object (python -m profile) goes by its repr."""
    file, line, name = key
    if not isinstance(name, str):
        name = (
            f'<code object {name.co_name}, file "{name.co_filename}", line {name.co_firstlineno}>'
        )
    return FunctionKey(file, line, name)


def assert_matches_stdlib(profile: Profile, path: Path) -> None:
    """Every number agrees exactly with pstats.Stats on the same file."""
    expected = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    assert set(profile.functions) >= {named(key) for key in expected}
    callees: dict[FunctionKey, dict[FunctionKey, float]] = {}
    for key, (_cc, nc, tt, ct, callers) in expected.items():
        stats = profile.functions[named(key)]
        assert (stats.self_time, stats.total_time, stats.calls) == (tt, ct, nc)
        assert stats.qualname is None
        for caller, edge in callers.items():
            time = stats.callers[named(caller)]
            if isinstance(edge, tuple):
                assert time == edge[3]
            else:  # the profile module keeps a call count per caller
                assert time == pytest.approx(ct * edge / nc)
            callees.setdefault(named(caller), {})[stats.key] = time
        assert len(stats.callers) == len(callers)
    for key, stats in profile.functions.items():
        assert stats.callees == callees.get(key, {})
    assert profile.total == pytest.approx(sum(value[2] for value in expected.values()))
    assert (profile.format, profile.unit, profile.stacks) == ("cprofile", "seconds", None)


def test_real_cprofile_run_matches_pstats(run_dir: Path) -> None:
    for name in ("relative.prof", "absolute.prof"):
        profile = load_profile(run_dir / name)
        assert_matches_stdlib(profile, run_dir / name)
        assert profile.meta == {"profiler": "cProfile"}


def test_profile_module_run_matches_pstats(run_dir: Path) -> None:
    # python -m profile keys the script's run by its code object: the loader has it named in a
    # sandboxed interpreter (marshal alone may build code objects) and reads the rest itself.
    data = (run_dir / "pure.prof").read_bytes()
    with pytest.raises(ProfileError, match=r"marshal type 'c' \(code object\)"):
        pstats_decoder.StatsDecoder(data, "pure.prof").profile()
    profile = load_profile(run_dir / "pure.prof")
    assert_matches_stdlib(profile, run_dir / "pure.prof")
    assert profile.meta["profiler"] == "profile"
    assert "estimated" in profile.meta["caller_times"]
    script = FunctionKey("profile", 0, '<code object <module>, file "prog.py", line 1>')
    assert script in profile.functions


def test_keys_are_what_cprofile_records(run_dir: Path) -> None:
    relative = load_profile(run_dir / "relative.prof")
    absolute = load_profile(run_dir / "absolute.prof")
    # Started with a relative path: keys keep it; with an absolute one, they are absolute.
    fib = stats_of(relative, "prog.py", line_of("def fib(n):"), "fib")
    stats_of(absolute, str(run_dir / "prog.py"), line_of("def fib(n):"), "fib")
    # Recursion: ct counts it once, the recursive calls show as fib calling itself.
    assert fib.calls is not None and fib.calls > 3 * 1000
    assert FunctionKey("prog.py", line_of("def fib(n):"), "fib") in fib.callers
    assert fib.total_time <= relative.total
    # A decorated function is keyed by its first decorator line, the wrapper by its own def.
    squares = stats_of(relative, "prog.py", line_of("@logged"), "squares")
    wrapper = FunctionKey("prog.py", line_of("@functools.wraps(func)"), "wrapper")
    assert set(squares.callers) == {wrapper}
    # Methods, nested functions and coroutines go by their bare name.
    stats_of(relative, "prog.py", line_of("def area_sum(self, n):"), "area_sum")
    inner = stats_of(relative, "prog.py", line_of("def inner(m):"), "inner")
    assert set(inner.callers) == {FunctionKey("prog.py", line_of("def outer(n):"), "outer")}
    fetch = stats_of(relative, "prog.py", line_of("async def fetch(n):"), "fetch")
    assert FunctionKey("prog.py", line_of("def fib(n):"), "fib") in fetch.callees
    # Built-ins have the file '~' and line 0.
    append = stats_of(relative, "~", 0, "<method 'append' of 'list' objects>")
    assert append.calls is not None and append.calls >= 3 * 3000
    assert inner.key in append.callers


def test_every_marshal_version_and_a_pstats_dump_load_the_same(run_dir: Path) -> None:
    # Versions < 3 have no back-references, < 4 no short strings, < 2 no binary floats (those
    # are refused: no pstats file has them since Python 2); pstats.Stats.dump_stats writes
    # keys shared between entries and callers. All go through the generic reader in places.
    path = run_dir / "relative.prof"
    reference = load_profile(path)
    stats = marshal.loads(path.read_bytes())
    dump = run_dir / "redumped.prof"
    pstats.Stats(str(path)).dump_stats(str(dump))
    variants = [marshal.dumps(stats, version) for version in (2, 3, 4)] + [dump.read_bytes()]
    for data in variants:
        profile = load_bytes(data, "variant")
        assert profile.functions == reference.functions
        assert profile.total == reference.total
    with pytest.raises(ProfileError, match=r"marshal type 'f' \(text float\)"):
        load_bytes(marshal.dumps(stats, 1), "old")


def test_marshal_is_never_called(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("marshal was handed the file")

    monkeypatch.setattr(marshal, "loads", refuse)
    monkeypatch.setattr(marshal, "load", refuse)
    assert load_profile(run_dir / "relative.prof").functions


def test_sniffing(run_dir: Path) -> None:
    real = (run_dir / "relative.prof").read_bytes()
    fmt = detect_format(real)
    assert fmt is not None and fmt.name == "cprofile"
    for data in (real, marshal.dumps({}), marshal.dumps({("a.py", 1): (1, 1, 0.0, 0.0, {})})):
        assert pstats_loader.sniff(data)
    for data in (
        b'{"a": 1}',
        b"{}",
        b"{)\n",
        b"{(foo)}",
        marshal.dumps({"a": 1}),
        marshal.dumps([1, 2]),
        b"\x0a\x04\x08\x01\x10\x02",
    ):
        assert not pstats_loader.sniff(data), data


# --- hostile and malformed inputs ------------------------------------------------------------

ENTRY = {("a.py", 3, "f"): (1, 1, 0.5, 0.5, {})}


def refused(data: bytes, match: str) -> ProfileError:
    with pytest.raises(ProfileError, match=match) as info:
        load_bytes(data, "bad.prof")
    assert info.value.source == "bad.prof"
    return info.value


def small_key(file: str = "a.py", line: int = 3, name: str = "f") -> bytes:
    """A (file, line, name) key as marshal version 4 writes it, without back-references."""
    return (
        b")\x03"
        + b"z"
        + bytes([len(file)])
        + file.encode()
        + b"i"
        + struct.pack("<i", line)
        + b"z"
        + bytes([len(name)])
        + name.encode()
    )


NUMBERS = b")\x05" + (b"i" + struct.pack("<i", 1)) * 2 + (b"g" + struct.pack("<d", 0.5)) * 2
# A valid start of a file up to the value of its first caller edge, where hostile data goes.
TO_EDGE = b"{" + small_key() + NUMBERS + b"{" + small_key("g.py", 2, "g")


def test_truncated_anywhere_says_truncated(run_dir: Path) -> None:
    data = (run_dir / "relative.prof").read_bytes()
    for cut in range(6, len(data), max(1, len(data) // 400)):
        # Cut inside a string, the string's declared length is what no longer fits.
        refused(data[:cut], f"truncated at byte {cut}|exceeds the [0-9]+ bytes left")


def test_trailing_data_and_repeated_keys() -> None:
    data = marshal.dumps(ENTRY, 2)  # no back-references: the entry can be repeated as it is
    refused(data + b"xy", "2 bytes of trailing data")
    entry = data[1:-1]  # the key and its value, between '{' and the closing '0'
    refused(b"{" + entry + entry + b"0", r"function key at byte \d+ repeats \('a.py', 3, 'f'\)")


def test_code_object_is_refused_with_its_offset() -> None:
    code = compile("x = 1", "evil", "exec")
    data = marshal.dumps({("a.py", 3, "f"): (1, 1, 0.5, 0.5, {("b.py", 1, "g"): code})})
    error = refused(data, r"not a cProfile stats file: marshal type 'c' \(code object\) at byte")
    offset = int(error.message.rsplit(" ", 1)[1])
    assert data[offset] & 0x7F == ord("c")


def test_huge_declared_sizes_are_refused_before_allocating() -> None:
    claim = struct.pack("<i", 2**31 - 1)
    cases = {
        TO_EDGE + b"(" + claim + b"N" * 100: "declared length 2147483647 at byte",
        TO_EDGE + b"(" + struct.pack("<i", -5): "negative declared length -5",
        TO_EDGE + b"[" + claim + b"N" * 100: r"marshal type '\[' \(list\)",
        b"{" + small_key() + b"(" + claim: r"has 2147483647 fields, expected 5",
        b"{" + small_key() + b")\x05" + b"l" + claim + b"\x01\x00": "integer of 2147483647 digits",
        b"{)\x03"
        + b"u"
        + claim
        + b"x" * 120: "declared length 2147483647 at byte 3 exceeds the 120 bytes left",
    }
    for data, match in cases.items():
        # marshal.loads would allocate 16 GiB for the tuple at once; here nothing big is made.
        tracemalloc.start()
        try:
            refused(data, match)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1 << 20, (match, peak)


def test_deep_nesting_is_refused() -> None:
    data = TO_EDGE + b")\x01" * 100_000 + b"N" + b"0"
    refused(data, r"nested deeper than 8 levels at byte \d+")


def test_wrong_shapes_say_what_is_wrong() -> None:
    cases = {
        ("a.py", 3, "f"): ((1, 1, 0.5, 0.5), r"entry \('a.py', 3, 'f'\) has 4 fields, expected 5"),
        ("b.py", 1, "g"): ((1, 1, 0.5, 0.5, None), r"has callers None, not a dict"),
        ("c.py", 1, "h"): ((1, 1, "x", 0.5, {}), r"has \(1, 1, 'x', 0.5\), expected two call"),
        ("d.py", 1, "i"): ((1, -1, 0.5, 0.5, {}), r"expected two call counts"),
        ("e.py", 1, "j"): ((1, 1, float("nan"), 0.5, {}), r"finite times"),
        ("f.py", 1, "k"): (
            (1, 1, 0.5, 0.5, {("g.py", 2, "l"): (1, 2)}),
            r"called from \('g.py', 2, 'l'\) has \(1, 2\) \(at byte \d+\)",
        ),
        ("h.py", 1, "m"): ((1, 1, 0.5, 0.5, {("g.py", "2", "l"): 1}), r"caller of"),
        ("i.py", 1, "n"): (
            (1, 1, 0.5, 0.5, {("g.py", 2, "l"): (1, 1, 0.1, float("inf"))}),
            r"0\.1, inf\)",
        ),
        ("j.py", 1, "o"): ((1, 1, 0.5, 0.5, {("g.py", 2, "l"): -3}), r"negative call count|has -3"),
    }
    for key, (value, match) in cases.items():
        refused(marshal.dumps({key: value}), match)
    refused(marshal.dumps({("a.py", 3): (1, 1, 0.5, 0.5, {})}), r"is \('a.py', 3\), not \(file")
    refused(marshal.dumps({("a.py", 3, 4): (1, 1, 0.5, 0.5, {})}), r"not \(file, line, function")
    refused(marshal.dumps({(1, 3, "f"): 1}), "unrecognised content")  # not sniffed: no str


def test_bad_strings_and_references() -> None:
    refused(b"{" + b")\x03z\x02\xff\xfei\x01\x00\x00\x00z\x01f" + NUMBERS, "not valid ascii")
    bad_ref = b"{)\x03r\x07\x00\x00\x00i\x01\x00\x00\x00z\x01f" + NUMBERS + b"{00"
    refused(bad_ref, r"<bad back-reference>")
    refused(b"{" + small_key() + b"r\xff\xff\xff\x7f" + b"0", "bad back-reference 2147483647")
    # A flagged tuple that refers to itself: marshal would hand back None there.
    refused(b"{\xa9\x03r\x00\x00\x00\x00" + b"N" * 20, r"is \(<bad back-reference>, None, None\)")


def test_empty_stats_dict_is_an_error() -> None:
    for data in (marshal.dumps({}), b"{0"):
        refused(data, "profile holds no functions")


def test_caller_without_entry_and_surrogates_and_longs() -> None:
    key = ("\udcff.py", 1, "f")  # an undecodable file name, as os.fsdecode gives it
    big = 2**40  # a call count past 2**31 is a marshal 'l' (long)
    data = marshal.dumps({key: (big, big, 0.5, 1.5, {("m.py", 9, "main"): (big, big, 0.5, 1.5)})})
    profile = load_bytes(data, "x")
    stats = profile.functions[FunctionKey(*key)]
    assert stats.calls == big
    caller = profile.functions[FunctionKey("m.py", 9, "main")]
    assert caller.calls is None and caller.callees == {stats.key: 1.5}
    assert profile.meta["callers_without_entry"] == "1"
