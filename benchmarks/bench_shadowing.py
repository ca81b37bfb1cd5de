"""What the one shadowing check (skills/cst_helpers.shadowed_builtins) costs per function.

Run: .venv/bin/python benchmarks/bench_shadowing.py [--repeats N]

Over every function of a few standard-library modules (parsed once with libcst), times the
shadowing check as the skills now make it (parameters, own-scope bindings, `del`, match
captures) against the narrower check most of them made before (parameters and own-scope
bindings only), interleaved, median of N; prints microseconds per function.
"""

from __future__ import annotations

import argparse
import statistics
import sysconfig
import time
from pathlib import Path

import libcst as cst

from perfpilot.skills.cst_helpers import (
    all_nodes,
    bound_names,
    local_names,
    parameter_names,
    shadowed_builtins,
)
from perfpilot.tools.module_facts import facts_of_source

MODULES = ("json/decoder.py", "email/_header_value_parser.py", "argparse.py", "difflib.py")
NAMES = ("any", "all", "sorted", "min", "max", "len")


def main() -> None:
    """Time both checks over the same functions, interleaved; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    work = []
    for name in MODULES:
        text = (stdlib / name).read_text()
        facts = facts_of_source(text)
        module = cst.parse_module(text)
        work += [(n, facts) for n in all_nodes(module) if isinstance(n, cst.FunctionDef)]

    def before() -> None:
        for function, facts in work:
            local = set(parameter_names(function)) | bound_names(function.body)
            _ = {n for n in NAMES if n in local or n in facts.rebound or n in facts.imports}

    def now() -> None:
        for function, facts in work:
            shadowed_builtins(function, facts, NAMES)

    times: dict[str, list[float]] = {
        "before (params + bindings)": [],
        "now (shadowed_builtins)": [],
    }
    for _ in range(args.repeats):
        for label, run in zip(times, (before, now)):
            started = time.perf_counter()
            run()
            times[label].append(time.perf_counter() - started)
    differ = sum(
        1
        for function, _ in work
        if local_names(function) != set(parameter_names(function)) | bound_names(function.body)
    )
    print(f"{len(work)} functions of {', '.join(MODULES)}; {differ} bind more than before sees")
    print(f"{'check':30} {'median µs/function':>19}")
    for label, values in times.items():
        print(f"{label:30} {statistics.median(values) / len(work) * 1e6:19.1f}")


if __name__ == "__main__":
    main()
