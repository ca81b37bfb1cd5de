"""Source index speed: index a 5,000-line file; list a 2,000-file tree; cached look-ups.

Run: .venv/bin/python benchmarks/bench_source_index.py [--repeats N]
Reference rows time CPython's own `ast.parse` and `compile` of the same file, for scale.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from perfpilot.tools import source_walk
from perfpilot.tools.source_index import WorkspaceIndex, index_source

LINES = 5_000
FILES = 2_000

# A varied chunk of ordinary code: classes, decorators, nested defs, lambdas, comprehensions,
# strings, comments, calls spread over lines. Repeated (renamed) up to LINES lines.
CHUNK = '''
class Widget{n}(Base):
    """A widget with a docstring
    that spans lines."""

    kind = "widget"  # class attribute
    sorter = staticmethod(lambda item: item.key)

    def __init__(self, items, *, scale=1.0, key=lambda v: v):
        self.items = [key(x) * scale for x in items if x is not None]
        self.index = {{name: position for position, name in enumerate(self.items)}}

    @property
    def total(self):
        return sum(
            value
            for value in self.items
        )

    @functools.lru_cache(maxsize=128)
    def describe(self, prefix: str = "") -> str:
        parts = []
        for item in self.items:
            if item > 10:
                parts.append(f"{{prefix}}{{item:>8}}")  # right-aligned
            else:
                parts.append(str(item))
        return ", ".join(parts)


def helper{n}(values, threshold=0):
    def keep(value):
        return value > threshold

    ordered = sorted(filter(keep, values), key=lambda v: (-v, str(v)))
    return {{"count": len(ordered), "first": ordered[0] if ordered else None}}


async def fetch{n}(session, url):
    async with session.get(url) as response:
        return await response.json()
'''


def generated_source(lines: int = LINES) -> str:
    """Return about `lines` lines of ordinary Python."""
    chunks = []
    count = 0
    number = 0
    while count < lines:
        chunk = CHUNK.format(n=number)
        chunks.append(chunk)
        count += chunk.count("\n")
        number += 1
    return '"""Generated module."""\nimport functools\n' + "".join(chunks)


def build_tree(root: Path, files: int = FILES) -> None:
    """Write `files` small .py files in packages of 20, plus excluded and non-Python clutter."""
    for number in range(files):
        package = root / "src" / f"pkg{number // 20}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"mod{number}.py").write_text(f"def f{number}():\n    return {number}\n")
        if number % 20 == 0:
            (package / "README.md").write_text("docs\n")
            cache = package / "__pycache__"
            cache.mkdir()
            (cache / f"mod{number}.cpython-311.pyc").write_bytes(b"\0")
    # An excluded virtualenv with many files: skipping it must cost nothing.
    venv = root / ".venv" / "lib" / "site-packages" / "dep"
    venv.mkdir(parents=True)
    for number in range(500):
        (venv / f"m{number}.py").write_text("x = 1\n")


def measure(function: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Return (median, min) wall time in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, min(times) * 1e3


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    repeats = args.repeats

    text = generated_source()
    source = text.encode()
    index = index_source(source, "generated.py")
    rows: list[tuple[str, float, float, str]] = []

    def row(name: str, function: Callable[[], object], note: str) -> None:
        rows.append((name, *measure(function, repeats), note))

    info = (
        f"{text.count(chr(10))} lines, {len(source) // 1024} KB, {len(index.functions)} functions"
    )
    row("index_source (5k-line file)", lambda: index_source(source, "generated.py"), info)
    row("  tree-sitter parse alone", lambda: source_walk.parse(source), "part of the above")
    tree = source_walk.parse(source)
    row(
        "  walk: qualnames, lines, hashes",
        lambda: source_walk.walk(tree, source, "/generated.py"),
        "part of the above",
    )
    row("  reference: ast.parse", lambda: ast.parse(source), "CPython, for scale")
    row("  reference: compile()", lambda: compile(source, "g.py", "exec"), "CPython, for scale")
    small = generated_source(500).encode()
    row(
        "index_source (500-line file)",
        lambda: index_source(small, "small.py"),
        "a typical module, for scale",
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_tree(root)
        (root / "big.py").write_bytes(source)
        row(
            f"python_files() ({FILES}-file tree)",
            lambda: WorkspaceIndex(str(root)).python_files(),
            "+500 files in .venv skipped",
        )
        workspace = WorkspaceIndex(str(root))
        count = len(workspace.python_files())
        row(
            "files_by_basename() first call",
            lambda: WorkspaceIndex(str(root)).files_by_basename("mod7.py"),
            f"builds the map of {count} files",
        )
        workspace.files_by_basename("mod7.py")
        row(
            "files_by_basename() x1000, built",
            lambda: [workspace.files_by_basename("mod7.py") for _ in range(1000)],
            "dict look-ups",
        )
        big = str(root / "big.py")
        workspace.module(big)
        row(
            "module() x1000, cached",
            lambda: [workspace.module(big) for _ in range(1000)],
            "one stat each call",
        )
        assert workspace.parse_count == 1

    width = max(len(name) for name, *_ in rows)
    print(f"{'measurement':<{width}}  {'median ms':>10}  {'min ms':>8}  notes")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 8}  {'-' * 5}")
    for name, median, best, note in rows:
        print(f"{name:<{width}}  {median:>10.2f}  {best:>8.2f}  {note}")
    print(f"(median and min of {repeats} repeats, time.perf_counter)")


if __name__ == "__main__":
    main()
