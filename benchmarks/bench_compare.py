"""How long replay's behaviour comparison takes on a parser-sized state graph.

Run: .venv/bin/python benchmarks/bench_compare.py [--repeats N] [--rev GIT_REV]

A markdown-like state (a processor holding its Markdown-like owner: registries of objects with
compiled patterns, an etree document of a few thousand Elements, a stash), built twice; the two
copies are equal, so the comparison walks all of it, as replay does on every recorded call of
such a method (four times per call). Prints median milliseconds per comparison: the walk
(`_compare.difference`), and replay's check with its same-bytes shortcut (`current+bytes`,
both sides pickled every time); with `--rev` the walk of that git revision is timed too,
interleaved, for a before/after table.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import subprocess
import tempfile
import time
import types
import xml.etree.ElementTree as etree
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
CURRENT = HERE / "tools" / "verify" / "_compare.py"


class Pattern:
    """An inline pattern: a name, a regex and a priority, as a parser registry holds."""

    def __init__(self, name: str, priority: int) -> None:
        self.name = name
        self.compiled = re.compile(rf"(\*\*|__){name}(.+?)\1")
        self.priority = priority
        self.options = {"safe": False, "tag": "strong"}


class Owner:
    """The parser: registries, a stash of raw HTML, the document tree."""

    def __init__(self, blocks: int) -> None:
        self.patterns = [Pattern(f"p{i}", i) for i in range(40)]
        self.index = {p.name: p for p in self.patterns}
        self.stash = [f"<div>raw {i}</div>" for i in range(200)]
        self.root = etree.Element("div")
        for b in range(blocks):
            block = etree.SubElement(self.root, "ul" if b % 3 else "p", {"class": f"b{b % 7}"})
            for i in range(5):
                item = etree.SubElement(block, "li")
                item.text = f"item {i}: words of block {b}"
                item.tail = "\n"
        self.parents = {child: parent for parent in self.root.iter() for child in parent}


class Processor:
    """A processor holding its owner, as every markdown processor holds `self.md`."""

    def __init__(self, blocks: int) -> None:
        self.md = Owner(blocks)
        self.counter = 0


def load(path: Path, name: str) -> types.ModuleType:
    """A `_compare.py` loaded by path under its own name."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Time the comparison of two equal graphs; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--blocks", type=int, default=400)
    parser.add_argument("--rev", help="also time _compare.py as of this git revision")
    args = parser.parse_args()
    versions = {"current": load(CURRENT, "compare_current")}
    with tempfile.TemporaryDirectory() as folder:
        if args.rev:
            text = subprocess.run(
                ["git", "show", f"{args.rev}:tools/verify/_compare.py"],
                cwd=HERE,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            old = Path(folder) / "compare_old.py"
            old.write_text(text)
            versions[args.rev] = load(old, "compare_old")
        first, second = Processor(args.blocks), Processor(args.blocks)
        outcome = load(CURRENT.with_name("_outcome.py"), "outcome_current")
        checks = {name: module.difference for name, module in versions.items()}
        checks["current+bytes"] = outcome.state_difference  # same-bytes shortcut first
        times: dict[str, list[float]] = {name: [] for name in checks}
        for _ in range(args.repeats):
            for name, check in checks.items():  # interleaved
                outcome._fingerprint._last = (None, None)  # no bytes kept from the last one
                started = time.perf_counter()
                found = check(first, second)
                times[name].append(time.perf_counter() - started)
                assert found is None, found
    elements = sum(1 for _ in first.md.root.iter())
    print(f"state: {elements} Elements, {len(first.md.patterns)} patterns; {args.repeats} repeats")
    print(f"{'version':12} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for name, values in times.items():
        ms = [1000 * v for v in values]
        print(f"{name:12} {statistics.median(ms):10.1f} {min(ms):8.1f} {max(ms):8.1f}")


if __name__ == "__main__":
    main()
