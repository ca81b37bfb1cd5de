"""Mutated real pstats and pprof files: the loaders return a Profile or raise ProfileError, quickly.

Seeds are real: a cProfile run of a small program (made once per session) and the checked-in
pprof files. Mutations: truncation, flipped, inserted and deleted bytes, and 4-byte lengths
overwritten with huge values. Where the pstats decoder accepts a mutant, marshal (safe to call
then: every declared size was checked) must read the same numbers from it.
"""

from __future__ import annotations

import functools
import gzip
import marshal
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfpilot.tools.model import FunctionKey, Profile, ProfileError
from perfpilot.tools.profiles import load_bytes, pstats_loader

DATA = Path(__file__).resolve().parent.parent / "data"

PROGRAM = """\
import functools


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@functools.lru_cache
def cached(n):
    return [i * 2 for i in range(n)]


class Box:
    def total(self, n):
        return sum(cached(n)) + fib(12)


Box().total(100)
"""

SETTINGS = settings(
    max_examples=300,
    deadline=2000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HUGE = [struct.pack("<I", value) for value in (0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0x10000000)]


@functools.cache
def pstats_seeds() -> tuple[bytes, bytes]:
    """PROGRAM run under cProfile, and under the profile module (which writes a code object)."""
    seeds = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "prog.py").write_text(PROGRAM)
        for module in ("cProfile", "profile"):
            subprocess.run(
                [sys.executable, "-m", module, "-o", f"{module}.prof", "prog.py"],
                cwd=tmp,
                check=True,
                capture_output=True,
                timeout=120,
            )
            seeds.append((Path(tmp) / f"{module}.prof").read_bytes())
    return seeds[0], seeds[1]


@functools.cache
def pprof_seeds() -> tuple[bytes, ...]:
    wall = (DATA / "austin-wall.pprof").read_bytes()
    datadog = (DATA / "datadog.pprof").read_bytes()
    return wall, datadog, gzip.compress(wall, mtime=0)


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "huge"]))
        if kind == "truncate":
            del data[where:]
        elif kind == "flip" and data:
            data[where] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[where : where + draw(st.integers(1, 16))]
        else:
            data[where : where + 4] = draw(st.sampled_from(HUGE))
    return bytes(data)


def load_or_refuse(data: bytes) -> Profile | None:
    try:
        return load_bytes(data, "x")
    except ProfileError:
        return None


def named(key: tuple) -> FunctionKey:
    file, line, name = key
    if not isinstance(name, str):  # a code object: python -m profile writes one
        name = (
            f'<code object {name.co_name}, file "{name.co_filename}", line {name.co_firstlineno}>'
        )
    return FunctionKey(file, line, name)


def same_as_marshal(profile: Profile, data: bytes) -> None:
    """What the decoder accepted, marshal reads alike (keys, calls, times, callers)."""
    stats = marshal.loads(data)
    assert len(stats) == sum(1 for s in profile.functions.values() if s.calls is not None)
    for key, (_cc, nc, tt, ct, callers) in stats.items():
        function = profile.functions[named(key)]
        assert (function.calls, function.self_time, function.total_time) == (nc, tt, ct)
        assert {named(k) for k in callers} == set(function.callers)


@SETTINGS
@given(data=st.data())
def test_mutated_pstats(data: st.DataObject) -> None:
    mutant = data.draw(mutated(pstats_seeds()))
    profile = load_or_refuse(mutant)
    if profile is not None and profile.format == "cprofile":
        same_as_marshal(profile, mutant)


@SETTINGS
@given(data=st.data())
def test_mutated_pstats_lengths(data: st.DataObject) -> None:
    # Aim at the bytes right after a type code that carries a length or a count.
    seed = bytearray(data.draw(st.sampled_from(pstats_seeds())))
    spots = [i + 1 for i, byte in enumerate(seed) if byte & 0x7F in b"()uta{r"]
    where = data.draw(st.sampled_from(spots))
    seed[where : where + 4] = data.draw(st.sampled_from(HUGE))
    profile = load_or_refuse(bytes(seed))
    if profile is not None and profile.format == "cprofile":
        same_as_marshal(profile, bytes(seed))


@SETTINGS
@given(data=st.data())
def test_mutated_pprof(data: st.DataObject) -> None:
    load_or_refuse(data.draw(mutated(pprof_seeds())))


def test_seeds_load() -> None:
    for seed in pstats_seeds():
        assert pstats_loader.sniff(seed)
        same_as_marshal(load_bytes(seed, "seed"), seed)
    for seed in pprof_seeds():
        assert load_bytes(seed, "seed").format == "pprof"
