"""A cProfile file longer than STREAM_AFTER is decoded as it is read, never whole in memory.

load_profile streams it (pstats_loader.load_stream, a window of the file at a time); the
answer must be load_bytes' on the same bytes exactly, corrupt files included: the same error
at the same byte offset, wherever the damage falls (inside a window, across a window's edge,
in an entry larger than a window).
"""

from __future__ import annotations

import gc
import marshal
import random
import tracemalloc
from pathlib import Path

import pytest

import perfpilot.tools.profiles
from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles import (
    STREAM_AFTER,
    load_bytes,
    load_profile,
    pstats_decoder,
    pstats_loader,
)
from tests.conftest import run_python

FUNCTIONS = 6000  # a real run's stats file of ~1 MiB, several windows long


def program(functions: int) -> str:
    """A module of `functions` functions, each calling the next two, run once."""
    lines = ["import sys", "sys.setrecursionlimit(10000)"]
    for i in range(functions):
        body = f"f_{i + 1}(n - 1) + f_{i + 2}(0)" if i + 2 < functions else "n"
        lines += [f"def f_{i}(n):", f"    return {body} if n > 0 else 1", ""]
    lines += ["for start in range(0, FUNCTIONS - 2, 40):", "    globals()[f'f_{start}'](40)"]
    return "\n".join(lines).replace("FUNCTIONS", str(functions)) + "\n"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real cProfile stats file of a program with FUNCTIONS functions."""
    root = tmp_path_factory.mktemp("stream")
    (root / "prog.py").write_text(program(FUNCTIONS))
    run_python(["-m", "cProfile", "-o", "big.prof", "prog.py"], cwd=root)
    path = root / "big.prof"
    assert path.stat().st_size > 3 * STREAM_AFTER
    return path


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> int:
    """Windows of 16 KiB (refilled below 4 KiB) from a file's 16th KiB: many window edges."""
    monkeypatch.setattr(perfpilot.tools.profiles, "STREAM_AFTER", 16 << 10)
    monkeypatch.setattr(pstats_decoder, "_WINDOW", 16 << 10)
    monkeypatch.setattr(pstats_decoder, "_LOW_WATER", 4 << 10)
    return 16 << 10


def figures(profile: Profile) -> dict[object, object]:
    """Everything a loaded profile says, as plain values."""
    return {
        key: (s.self_time, s.total_time, s.calls, s.callers, s.callees)
        for key, s in profile.functions.items()
    }


def outcome(load: object) -> object:
    """A profile's figures and meta, or the error it raised."""
    try:
        profile = load()  # type: ignore[operator]
    except ProfileError as exc:
        return f"error: {exc}"
    return figures(profile), profile.total, profile.meta


@pytest.mark.parametrize("windows", ["default", "small"])
def test_a_streamed_load_is_the_whole_file_load(
    big: Path, windows: str, request: pytest.FixtureRequest
) -> None:
    if windows == "small":
        request.getfixturevalue("small_windows")
    data = big.read_bytes()
    streamed, whole = load_profile(big), load_bytes(data, str(big))
    assert len(streamed.functions) > FUNCTIONS
    assert figures(streamed) == figures(whole)
    assert (streamed.total, streamed.meta) == (whole.total, whole.meta)


def test_damage_anywhere_gives_the_whole_file_error(
    big: Path, tmp_path: Path, small_windows: int
) -> None:
    data = big.read_bytes()
    rng = random.Random(15)
    first = small_windows  # the first window's end; the others end wherever entries do
    cuts = [first - 1, first, first + 1, len(data) - 1, len(data) - 30]
    cuts += rng.sample(range(2, len(data)), 12)
    flips = [first - 2, first + 3, 2 * first + 17]
    flips += rng.sample(range(first, len(data)), 14)
    cases = [data[:cut] for cut in cuts]
    cases.append(data + b"\x00" * 70_000)  # trailing data past the last window
    cases += [data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :] for at in flips]
    results = []
    for number, case in enumerate(cases):
        path = tmp_path / f"case{number}.prof"
        path.write_bytes(case)
        streamed = outcome(lambda path=path: load_profile(path))
        assert streamed == outcome(lambda c=case, p=path: load_bytes(c, str(p))), number
        results.append(streamed)
    damaged = len(cuts) + 1
    assert all(isinstance(r, str) for r in results[:damaged])  # truncated, trailing data
    # A flipped byte of a time may leave a valid file; most flips do not.
    assert sum(isinstance(r, str) for r in results[damaged:]) >= len(flips) // 2


def test_an_entry_larger_than_a_window_is_read_whole(tmp_path: Path) -> None:
    assert STREAM_AFTER == pstats_decoder._WINDOW == 256 << 10  # the default windows
    # One function called from 20,000 places: its callers dict alone is ~700 KiB.
    callers = {(f"/w/mod{i}.py", i, f"g{i}"): (1, 1, 0.5, 0.5) for i in range(20_000)}
    stats = {("/w/hot.py", 1, "hot"): (20_000, 20_000, 1.0, 2.0, callers)}
    stats.update({key: (1, 1, 0.5, 0.5, {}) for key in callers})
    data = marshal.dumps(stats)
    path = tmp_path / "wide.prof"
    path.write_bytes(data)
    assert outcome(lambda: load_profile(path)) == outcome(lambda: load_bytes(data, "x"))
    assert len(load_profile(path).functions) == 20_001
    cut = tmp_path / "wide-cut.prof"
    cut.write_bytes(data[: len(data) // 3])  # truncated inside that entry
    assert outcome(lambda: load_profile(cut)) == outcome(
        lambda: load_bytes(data[: len(data) // 3], str(cut))
    )


def traced_peak(load: object) -> int:
    """The peak of traced memory while `load()` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        load()  # type: ignore[operator]
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_the_file_is_never_whole_in_memory(big: Path, small_windows: int) -> None:
    size = big.stat().st_size
    streamed = traced_peak(lambda: load_profile(big))
    whole = traced_peak(lambda: load_bytes(big.read_bytes(), str(big)))
    # Read whole, the file's bytes are held while it is decoded; streamed, a window of them.
    assert streamed < whole - 0.8 * size, f"{streamed / size:.2f}x vs {whole / size:.2f}x"


def test_code_objects_in_a_long_file_still_go_to_the_sandbox(tmp_path: Path) -> None:
    stats = {(f"/w/m{i}.py", i, f"f{i}"): (1, 1, 0.5, 0.5, {}) for i in range(9000)}
    # `python -m profile` keys the script's run by its code object; here the last key, past
    # the first window.
    stats[("~", 0, compile("pass", "script.py", "exec"))] = (1, 1, 0.1, 0.1, {})  # type: ignore[index]
    data = marshal.dumps(stats)
    path = tmp_path / "code.prof"
    path.write_bytes(data)
    assert len(data) > STREAM_AFTER and pstats_loader.sniff(data)
    assert outcome(lambda: load_profile(path)) == outcome(lambda: load_bytes(data, str(path)))
    assert len(load_profile(path).functions) == 9001
