"""A/B timing of one skill's fix in a corpus function that `perfpilot verify` cannot replay.

Run: PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/bench_fix_ab.py [CASE...]
     [--rounds 31]

`verify` replays recorded calls; a generator (pygments' lexers and formatters) cannot be
recorded yet. This builds the fix exactly as `perfpilot check` offers it (same skill, same
validation), loads the original and the fixed module side by side under their own names, and
times a workload call of each, interleaved (A, B, A' per round, order rotating), GC off during
a round. Prints the median per-round A/B speedup with a 95% bootstrap interval, the ratio of
the best times (robust on a loaded machine) and the A/A' noise, after checking that both
return the same result.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from perfpilot.skills.registry import discover
from perfpilot.skills.runner import Target, build_fix, find_opportunities
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_config import load_libraries  # noqa: E402


def _json_text() -> str:
    rows = [{"id": i, "name": f"n{i}", "tags": ["a", "b"], "ok": i % 2 == 0} for i in range(800)]
    return json.dumps(rows, indent=2)


@dataclass(frozen=True)
class Case:
    """A function of a corpus library, the skill fixing it, and a call that exercises it."""

    library: str
    path: str  # inside the unpacked sdist
    qualname: str
    code: str
    run: Callable[[ModuleType], object]  # called with the module; its result is compared


CASES = {
    # pygments' JSON lexer, the workload's JSON (benchmarks/corpus/workloads/pygments_workload.py)
    "pygments-json-lexer": Case(
        "pygments",
        "pygments/lexers/data.py",
        "JsonLexer.get_tokens_unprocessed",
        "PP120",
        lambda module: list(module.JsonLexer().get_tokens_unprocessed(_JSON)),
    ),
}
_JSON = _json_text()


def fixed_text(root: Path, case: Case) -> str:
    """The module's text with the first applicable fix of `case.code` in `case.qualname`."""
    path = root / case.path
    text = path.read_text(encoding="utf-8")
    skills = [s for s in discover(workspace=None, packages=False).skills if s.code == case.code]
    index = index_source(text, str(path))
    targets = [Target(f) for f in index.functions if f.qualname == case.qualname]
    found = find_opportunities(text, str(path), targets, skills, facts_of_source(text))
    for item in found:
        fix = build_fix(text, item, root=str(root))
        if fix.applicable:
            return apply_edits(text, fix.edits)
    raise SystemExit(f"{case.code} offers no applicable fix in {case.qualname}")


def load(name: str, text: str, directory: Path) -> ModuleType:
    """Import `text` as a fresh module called `name` (its absolute imports resolve as usual)."""
    path = directory / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(function: Callable[[], object]) -> float:
    """Seconds for one call, GC off."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        function()
        return time.perf_counter() - start
    finally:
        gc.enable()


def bootstrap(ratios: list[float], rounds: int = 2000) -> tuple[float, float]:
    """95% interval of the median ratio, rounds resampled."""
    rng = random.Random(12)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(rounds))
    return medians[int(0.025 * rounds)], medians[int(0.975 * rounds) - 1]


def measure(name: str, case: Case, rounds: int) -> str:
    """One table row: the case timed A/B/A' for `rounds` rounds."""
    library = load_libraries([case.library])[0]
    sys.path.insert(0, str(library.root))
    original = (library.root / case.path).read_text(encoding="utf-8")
    fixed = fixed_text(library.root, case)
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        a = load(f"original_{case.library}", original, directory)
        b = load(f"fixed_{case.library}", fixed, directory)
        if case.run(a) != case.run(b):
            return f"| {name} | {case.qualname} | {case.code} | differs | | | | |"
        for _ in range(3):  # warm-up
            case.run(a), case.run(b)
        ab, aa, best = [], [], {"a": float("inf"), "b": float("inf")}
        for index in range(rounds):
            order = [("a", a), ("b", b), ("a2", a)]
            order = order[index % 3 :] + order[: index % 3]
            times = {key: timed(lambda m=module: case.run(m)) for key, module in order}
            ab.append(times["a"] / times["b"])
            best = {key: min(best[key], times[key]) for key in best}
            aa.append(times["a"] / times["a2"])
    low, high = bootstrap(ab)
    return (
        f"| {name} | {case.qualname} | {case.code} | same | {statistics.median(ab):.3f}x"
        f" | [{low:.3f}-{high:.3f}] | {best['a'] / best['b']:.3f}x"
        f" | {abs(statistics.median(aa) - 1):.1%} |"
    )


def main() -> int:
    """Print the table for the chosen cases (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=list(CASES))
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    print(
        "| case | function | skill | behaviour | speedup (median A/B) | 95% CI"
        " | best A / best B | A/A noise |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in args.cases or CASES:
        print(measure(name, CASES[name], args.rounds), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
