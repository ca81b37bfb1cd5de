"""The ceiling of local fixes in sqlparse 0.5.1's hot functions, on the workload's own calls.

Records real calls of `Token.match`, `utils.imt` and `grouping._group_matching` while the
corpus workload runs once (in this process), then times the original against each candidate
rewrite on the same calls, interleaved, in batches (no per-call timer overhead), the fastest
of 60 rounds (a loaded machine preempts some rounds; the minimum is the least disturbed):
`Token.match` and `imt` do not change their arguments, so every version runs the same
objects; `_group_matching` groups its argument in place, so each call gets a fresh copy
(unpickled just before it runs, outside the timing).

These are the fixes perfpilot's skills offer there (PP115, PP124) and the loop a
"membership test on a generator" skill would write: their speedups say whether any local,
provable rewrite can clear the 10 % bar of functions under 10 us a call.

    $PERFPILOT_CORPUS_DIR/venvs/sqlparse/bin/python benchmarks/corpus/bench_sqlparse_fixes.py
"""

from __future__ import annotations

import gc
import inspect
import pickle
import random
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlparse  # noqa: F401  (the corpus venv's editable install)
from sqlparse import sql, utils
from sqlparse.engine import grouping

WORKLOAD = Path(__file__).resolve().parent / "workloads" / "sqlparse_workload.py"
SAMPLE = 256
ROUNDS = 60

CASES: dict[str, tuple[Any, str, str, list[tuple[str, str]]]] = {
    # label: (module, attribute path, mode, [(old, new) edits of the function's source])
    "Token.match: `in` generator as a loop": (
        sql,
        "Token.match",
        "shared",
        [
            (
                "            values = (v.upper() for v in values)\n",
                "            normalized = self.normalized\n"
                "            for v in values:\n"
                "                upper = v.upper()\n"
                "                if upper is normalized or upper == normalized:\n"
                "                    return True\n"
                "            return False\n",
            )
        ],
    ),
    "imt: PP115 on `any(token.match(*pattern) ...)`": (
        utils,
        "imt",
        "shared",
        [
            (
                "            if any(token.match(*pattern) for pattern in m):\n"
                "                return True\n",
                "            for pattern in m:\n"
                "                if token.match(*pattern):\n"
                "                    return True\n",
            )
        ],
    ),
    "imt: PP115 on `any(token.ttype in ttype ...)`": (
        utils,
        "imt",
        "shared",
        [
            (
                "            if any(token.ttype in ttype for ttype in t):\n"
                "                return True\n",
                "            for ttype in t:\n"
                "                if token.ttype in ttype:\n"
                "                    return True\n",
            )
        ],
    ),
    "_group_matching: PP124 (cls.M_OPEN, cls.M_CLOSE read once)": (
        grouping,
        "_group_matching",
        "copied",
        [
            (
                "    for idx, token in enumerate(list(tlist)):\n",
                "    m_open = cls.M_OPEN\n    m_close = cls.M_CLOSE\n"
                "    for idx, token in enumerate(list(tlist)):\n",
            ),
            ("token.match(*cls.M_OPEN)", "token.match(*m_open)"),
            ("token.match(*cls.M_CLOSE)", "token.match(*m_close)"),
        ],
    ),
}


def _resolve(module: Any, path: str) -> tuple[Any, str, Any]:
    owner = module
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    return owner, name, owner.__dict__[name]


def _compiled(module: Any, function: Callable[..., Any], edits: list[tuple[str, str]]) -> Any:
    """The function's source with the edits applied, defined in (a copy of) its module's globals."""
    source = inspect.getsource(function)  # edits are written as the file indents them
    for old, new in edits:
        if old not in source:
            sys.exit(f"{function.__qualname__}: edit not applicable: {old!r}")
        source = source.replace(old, new, 1)
    source = textwrap.dedent(source)
    namespace = dict(vars(module))
    exec(compile(source, module.__file__, "exec"), namespace)
    return namespace[function.__name__]


def _record(module: Any, path: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The outermost calls of the function during one workload run (args; pickled if copied)."""
    owner, name, original = _resolve(module, path)
    calls: list[Any] = []
    depth = [0]

    def recording(*args: Any, **kwargs: Any) -> Any:
        if depth[0] == 0:
            calls.append((args, kwargs))
        depth[0] += 1
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1

    setattr(owner, name, recording)
    for holder in (utils, sql, grouping, *_importers(module, name)):
        if holder.__dict__.get(name) is original:
            setattr(holder, name, recording)
    try:
        code = WORKLOAD.read_text().replace("range(6)", "range(1)")
        exec(compile(code, str(WORKLOAD), "exec"), {"__name__": "__workload__"})
    finally:
        setattr(owner, name, original)
        for holder in (utils, sql, grouping, *_importers(module, name)):
            if holder.__dict__.get(name) is recording:
                setattr(holder, name, original)
    return calls


def _importers(module: Any, name: str) -> list[Any]:
    return [m for m in list(sys.modules.values()) if getattr(m, "__dict__", {}).get(name)]


def _time(functions: dict[str, Any], calls: list[Any], copied: bool) -> dict[str, list[float]]:
    names = list(functions)
    times: dict[str, list[float]] = {n: [] for n in names}
    blobs = [pickle.dumps(c) for c in calls] if copied else None
    clock = time.perf_counter
    for round_number in range(ROUNDS + 1):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in order:
            function = functions[name]
            gc.collect()
            gc.disable()
            total = 0.0
            if blobs is None:
                started = clock()
                for args, kwargs in calls:
                    function(*args, **kwargs)
                total = clock() - started
            else:
                for blob in blobs:
                    args, kwargs = pickle.loads(blob)
                    started = clock()
                    function(*args, **kwargs)
                    total += clock() - started
            gc.enable()
            if round_number:  # round 0 warms up
                times[name].append(total)
    return times


def main() -> None:
    """Record, time, print the table."""
    sys.setrecursionlimit(10_000)
    random.seed(1)
    print("| function: fix | calls timed | original us/call | fixed us/call | speedup |")
    print("|---|---|---|---|---|")
    for label, (module, path, mode, edits) in CASES.items():
        calls = _record(module, path)
        sample = random.sample(calls, min(SAMPLE, len(calls)))
        _, _, original = _resolve(module, path)
        fixed = _compiled(module, original, edits)
        again = _compiled(module, original, [])
        if mode == "shared":
            assert [fixed(*a, **k) for a, k in sample] == [original(*a, **k) for a, k in sample]
        functions = {"original": again, "fixed": fixed}
        times = _time(functions, sample, copied=mode == "copied")
        before = min(times["original"]) / len(sample) * 1e6
        after = min(times["fixed"]) / len(sample) * 1e6
        print(f"| {label} | {len(sample)} | {before:.3f} | {after:.3f} | {before / after:.3f}x |")


if __name__ == "__main__":
    main()
