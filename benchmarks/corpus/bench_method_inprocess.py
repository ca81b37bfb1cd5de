"""Replay a hot method's real calls in-process, original vs one skill's fix: for unpicklable `self`.

`perfpilot verify` pickles each recorded call; a method whose `self` holds lambdas, loaders or
caches (jinja2's `Environment`) cannot be recorded. This benchmark runs the corpus workload
in this interpreter with the method wrapped, keeps up to N calls (the live objects, no
pickling), then builds the fixed method by running the skill's transform on the method's
source and compares original and fixed on every kept call (same result or same exception
type) and times them interleaved (per-call minimum over rounds, median over calls).

Run with the repository's venv python, on a pristine corpus copy (`fetch.py --reset`); the
library is imported from its unpacked sdist, its dependencies from its corpus venv:
    PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/bench_method_inprocess.py \
        jinja2 src/jinja2/environment.py Environment.getattr PP116
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import random
import runpy
import statistics
import sys
import textwrap
import time
from pathlib import Path

from corpus_config import load_libraries

from perfpilot.skills.registry import discover
from perfpilot.skills.runner import Target, build_fix, find_opportunities
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source


def record(cls: type, name: str, workload: Path, keep: int) -> list[tuple[object, tuple, dict]]:
    """Run the workload with `cls.name` wrapped; `keep` calls (self, args, kwargs) sampled
    uniformly over the whole run (reservoir sampling, seeded), in call order."""
    original = cls.__dict__[name]
    kept: list[tuple[int, tuple[object, tuple, dict]]] = []
    seen = [0]
    chance = random.Random(0)

    def wrapper(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen[0] += 1
        if len(kept) < keep:
            kept.append((seen[0], (self, args, kwargs)))
        else:
            slot = chance.randrange(seen[0])
            if slot < keep:
                kept[slot] = (seen[0], (self, args, kwargs))
        return original(self, *args, **kwargs)

    setattr(cls, name, wrapper)
    saved_argv, saved_path = sys.argv, list(sys.path)
    try:
        sys.argv = [str(workload)]
        sys.path.insert(0, str(workload.parent))  # as when it runs as a script
        runpy.run_path(str(workload), run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        setattr(cls, name, original)
    return [call for _, call in sorted(kept, key=lambda item: item[0])]


def fixed_source(path: Path, qualname: str, code: str) -> tuple[str, tuple[str, ...]]:
    """The method's text after the skill's first fix, and the module-level lines it adds."""
    text = path.read_text(encoding="utf-8")
    skills = [s for s in discover(workspace=None, packages=False).skills if s.code == code]
    index = index_source(text, str(path))
    targets = [Target(f) for f in index.functions if f.qualname == qualname]
    found = find_opportunities(text, str(path), targets, skills, facts_of_source(text))
    if not found:
        raise SystemExit(f"{code} finds nothing in {qualname}")
    fix = build_fix(text, found[0], root=str(path.parent))
    if not fix.applicable:
        raise SystemExit(f"{code} fix refused: {fix.refusal}")
    new_text = apply_edits(text, fix.edits)
    new_index = index_source(new_text, str(path))
    function = next(f for f in new_index.functions if f.qualname == qualname)
    lines = new_text.splitlines(keepends=True)
    body = "".join(lines[function.first_line - 1 : function.end_line])
    added = tuple(line for line in new_text.splitlines() if line not in text.splitlines())
    return textwrap.dedent(body), added


def build(source: str, extra: tuple[str, ...], module: object, name: str) -> object:
    """The method compiled from `source` in a class body, over a copy of the module's globals.

    In a class body its name does not rebind the module's global (`Environment.getattr`
    calls the builtin `getattr`, which a module-level def would replace).
    """
    namespace = dict(vars(module))
    for line in extra:  # the fix's module-level additions (a sentinel), where they are plain
        if line and not line.startswith((" ", "\t")) and "=" in line:
            exec(line, namespace)
    wrapped = "class _Holder:\n" + textwrap.indent(source, "    ")
    exec(compile(wrapped, f"<{name}>", "exec"), namespace)
    return namespace["_Holder"].__dict__[name]


def outcome(function: object, call: tuple[object, tuple, dict]) -> object:
    self, args, kwargs = call
    try:
        return ("value", function(self, *args, **kwargs))  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - an exception is an outcome to compare
        return ("raised", type(exc).__name__)


def per_call_seconds(function: object, call: tuple[object, tuple, dict], repeat: int) -> float:
    self, args, kwargs = call
    started = time.perf_counter()
    for _ in range(repeat):
        try:
            function(self, *args, **kwargs)  # type: ignore[operator]
        except Exception:  # noqa: BLE001, S110 - timed like the original, which raised too
            pass
    return (time.perf_counter() - started) / repeat


def main() -> int:
    """Record, check behaviour, time; print one table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("path", help="the module, relative to the unpacked sdist")
    parser.add_argument("qualname", help="Class.method")
    parser.add_argument("code", help="the skill's finding code, e.g. PP116")
    parser.add_argument("--calls", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    library = next(lib for lib in load_libraries() if lib.name == args.library)
    path = library.root / args.path
    sys.path.insert(0, str(library.root / Path(library.source).parent))
    sys.path.extend(str(p) for p in library.venv.glob("lib/python3*/site-packages"))
    module_name = ".".join(Path(args.path).with_suffix("").parts[-2:])
    module = importlib.import_module(module_name)
    class_name, method = args.qualname.split(".")
    cls = getattr(module, class_name)
    original = cls.__dict__[method]
    calls = record(cls, method, library.workload, args.calls)
    source, extra = fixed_source(path, args.qualname, args.code)
    fixed = build(source, extra, module, method)
    original_source = textwrap.dedent(inspect.getsource(original))
    baseline = build(original_source, (), module, method)  # same compile path as the fix
    differ = [i for i, c in enumerate(calls) if outcome(baseline, c) != outcome(fixed, c)]
    best: dict[str, list[float]] = {"original": [float("inf")] * len(calls)}
    best["fixed"] = [float("inf")] * len(calls)
    for round_number in range(args.rounds):
        pairs = [("original", baseline), ("fixed", fixed)]
        for label, function in pairs if round_number % 2 == 0 else reversed(pairs):
            for i, call in enumerate(calls):
                seconds = per_call_seconds(function, call, 20)
                best[label][i] = min(best[label][i], seconds)
    ratios = [o / f for o, f in zip(best["original"], best["fixed"], strict=True) if f > 0]
    print("| library | function | code | calls | differ | original µs | fixed µs | speedup |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {library.name} | {args.qualname} | {args.code} | {len(calls)} | {len(differ)} |"
        f" {statistics.median(best['original']) * 1e6:.3f} |"
        f" {statistics.median(best['fixed']) * 1e6:.3f} | {statistics.median(ratios):.2f}x |"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
