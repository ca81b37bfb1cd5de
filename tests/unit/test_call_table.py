"""A cProfile file loads into columns (CallTable): small, and the same as FunctionStats records.

Exactness against the standard library's pstats is test_loaders_pstats.py's (every entry and
edge of real cProfile and profile runs); this file checks what the columns add: the memory a
big file costs, and that the read-only rows behave as the records did.
"""

from __future__ import annotations

import dataclasses
import gc
import marshal
import random
import tracemalloc

from perfpilot.tools.model import FunctionKey, FunctionStats
from perfpilot.tools.profiles import load_bytes


def big_stats(functions: int, seed: int = 7) -> bytes:
    """A stats dict shaped like a big program's: unique names, three callers per function."""
    rng = random.Random(seed)
    keys = [
        (f"/w/src/pkg{i // 500}/mod{i // 25}.py", 10 + i % 25 * 7, f"func_{i}")
        for i in range(functions)
    ]
    stats = {}
    for key in keys:
        callers = {
            rng.choice(keys): (calls := rng.randint(1, 9000), calls, rng.random(), rng.random())
            for _ in range(3)
        }
        calls = rng.randint(1, 90000)
        stats[key] = (calls, calls, rng.random(), rng.random() + 1, callers)
    return marshal.dumps(stats)


def test_a_big_profile_costs_about_twice_its_file() -> None:
    data = big_stats(10_000)
    gc.collect()
    tracemalloc.start()
    try:
        profile = load_bytes(data, "big.prof")
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(profile.functions) == 10_000
    # As FunctionStats records with both edge dicts this was 5.9x the file (bench_memory_50k).
    assert held < 2.5 * len(data), f"{held / len(data):.1f}x the file"


def test_rows_read_as_records() -> None:
    main, f, g = ("m.py", 1, "main"), ("m.py", 5, "f"), ("m.py", 9, "g")
    data = marshal.dumps(
        {
            main: (1, 1, 0.5, 3.0, {}),
            f: (2, 2, 1.0, 2.0, {main: (2, 2, 1.0, 2.0)}),
            g: (4, 4, 0.5, 0.5, {f: (3, 3, 0.25, 0.25), main: (1, 1, 0.25, 0.25)}),
        }
    )
    functions = load_bytes(data, "x").functions
    keys = {name: FunctionKey(*key) for name, key in (("main", main), ("f", f), ("g", g))}
    expected = FunctionStats(
        keys["f"], None, 1.0, 2.0, 2, {}, {keys["main"]: 2.0}, {keys["g"]: 0.25}
    )
    assert functions[keys["f"]] == expected and expected == functions[keys["f"]]
    assert functions[keys["main"]].callees == {keys["f"]: 2.0, keys["g"]: 0.25}
    assert functions[keys["main"]].callers == {} and functions[keys["g"]].callees == {}
    assert list(functions) == [keys["main"], keys["f"], keys["g"]]  # the file's order
    assert functions.get(FunctionKey("m.py", 2, "main")) is None

    # A copy made with dataclasses.replace is an ordinary record, free to change.
    copy = dataclasses.replace(functions[keys["f"]], self_time=5.0)
    assert (
        type(copy) is FunctionStats and copy.self_time == 5.0 and copy.callers == expected.callers
    )
    copy.callers[keys["g"]] = 1.0
    assert keys["g"] not in functions[keys["f"]].callers
    # Rows hand out new dicts: changing one changes nothing loaded.
    functions[keys["f"]].line_times[3] = 1.0
    assert functions[keys["f"]].line_times == {}
