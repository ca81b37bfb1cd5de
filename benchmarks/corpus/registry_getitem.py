"""markdown's `Registry.__getitem__` before and after PP111 (check-guard-before-call), in-process.

Run with the repository's venv (markdown is pure Python: its pristine corpus sources are put
first on sys.path):
    PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/registry_getitem.py

`perfpilot verify` cannot judge this fix (the method returns processor objects whose state holds
the whole Markdown instance: replay calls it nondeterministic), so this measures the two
versions on a live registry the way markdown's inline processor uses it: `inlinePatterns[i]` for
every pattern index, then lookups by name. The fixed method is the skill's own rewrite, compiled
in markdown.util's namespace. Rounds alternate A/B/B/A; per-round times; median and spread.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_config import load_libraries  # noqa: E402

sys.path.insert(0, str(load_libraries(["markdown"])[0].root))


def fixed_getitem() -> object:
    """The rewritten `Registry.__getitem__`, built by the real skill and compiled."""
    import markdown.util

    from perfpilot.skills.registry import discover
    from perfpilot.skills.runner import Target, build_fix, find_opportunities
    from perfpilot.tools.edits import apply_edits
    from perfpilot.tools.module_facts import facts_of_source
    from perfpilot.tools.source_index import index_source

    path = Path(markdown.util.__file__)
    text = path.read_text()
    skill = discover(packages=False).by_name("check-guard-before-call")
    assert skill is not None
    targets = [Target(f) for f in index_source(text, str(path)).functions if not f.is_lambda]
    found = [
        f
        for f in find_opportunities(text, str(path), targets, [skill], facts_of_source(text))
        if f.function.qualname == "Registry.__getitem__"
    ]
    fix = build_fix(text, found[0])
    after = apply_edits(text, fix.edits).splitlines(keepends=True)
    function = found[0].function
    length = function.end_line - function.first_line + 2  # one line longer: the `if`
    body = "".join(after[function.first_line - 1 : function.first_line - 1 + length])
    namespace = dict(vars(markdown.util))
    exec(compile("class _Fixed:\n" + body, str(path), "exec"), namespace)
    return namespace["_Fixed"].__dict__["__getitem__"]


def main() -> int:
    """Time both versions, interleaved, and print a table."""
    import markdown

    assert Path(markdown.__file__).is_relative_to(load_libraries(["markdown"])[0].root)
    registry = markdown.Markdown().inlinePatterns
    original = type(registry).__getitem__
    fixed = fixed_getitem()
    keys = list(range(len(registry))) * 20 + [item for item in registry._data] * 5
    assert [original(registry, k) for k in keys] == [fixed(registry, k) for k in keys]
    times: dict[str, list[float]] = {"original": [], "fixed": []}
    for round_ in range(41):
        order = [("original", original), ("fixed", fixed)]
        for name, function in order if round_ % 2 else reversed(order):
            started = time.perf_counter()
            for _ in range(200):
                for key in keys:
                    function(registry, key)
            times[name].append((time.perf_counter() - started) / (200 * len(keys)) * 1e9)
    print("| Registry.__getitem__ | ns per call (median) | ±half-range |")
    print("|---|---|---|")
    for name, values in times.items():
        spread = (max(values) - min(values)) / 2
        print(f"| {name} | {statistics.median(values):.1f} | {spread:.1f} |")
    speedup = statistics.median(times["original"]) / statistics.median(times["fixed"])
    print(f"\nspeedup: {speedup:.2f}x over {len(keys)} lookups x 200, 41 rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
