"""A small program with functions to plant behaviour changes in, captured by really running it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfpilot.tools.verify.capture import CaptureTarget, run_capture

FUNCS = "plant/funcs.py"
FUNCS_TEXT = '''"""Functions with a behaviour worth keeping."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Stats:
    """A summary of values."""

    count: int
    mean: float


def count_below(values: list[int], limit: int) -> int:
    """How many values are below `limit`."""
    total = 0
    for value in values:
        if value < limit:
            total += 1
    return total


def parse_port(text: str) -> int:
    """A port number; ValueError when `text` is not one."""
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"port out of range: {port}")
    return port


def total(items: list[int]) -> int:
    """The sum of the items."""
    return sum(items)


def summarize(values: list[float]) -> Stats:
    """Count and mean of the values."""
    return Stats(len(values), sum(values) / len(values))


def longest(words: list[str]) -> str:
    """The longest word (the first one on ties)."""
    best = ""
    for word in words:
        if len(word) > len(best):
            best = word
    return best


def jitter(value: float) -> float:
    """The value with a little noise."""
    return value + random.random()


def shout(name: str) -> int:
    """Print the name loudly; return its length."""
    print(name.upper())
    return len(name)
'''
MAIN_TEXT = """import sys

from plant.funcs import count_below, jitter, longest, parse_port, shout, summarize, total

checksum = 0
for i in range(600):
    values = [(i * 7 + k) % 50 for k in range(20)]
    checksum += count_below(values, 25) + total(values)
    checksum += int(summarize([v / 3 for v in values]).mean)
    checksum += len(longest([f"w{k}" * (k % 4) for k in range(i % 9 + 1)]))
    try:
        checksum += parse_port(str(i * 131 - 300) if i % 7 else f"port{i}")
    except ValueError:
        checksum -= 1
    jitter(float(i))
    if i % 100 == 0:
        checksum += shout(f"step{i}")
print("checksum", checksum)
sys.exit(3)
"""
FUNCTIONS = ("count_below", "parse_port", "total", "summarize", "longest", "jitter", "shout")


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Captures and the capture key in a throwaway home, never the real user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    return home


def make_plant(root: Path) -> Path:
    """Write the plant workspace under `root`."""
    (root / "plant").mkdir(parents=True)
    (root / "plant" / "__init__.py").write_text("")
    (root / FUNCS).write_text(FUNCS_TEXT)
    (root / "main.py").write_text(MAIN_TEXT)
    (root / "pyproject.toml").write_text("[project]\nname = 'plant'\n")
    return root


@pytest.fixture
def plant(tmp_path: Path) -> Iterator[Path]:
    """The plant workspace with every function captured by a real run of main.py."""
    root = make_plant(tmp_path / "plant-ws")
    targets = [CaptureTarget(str(root / FUNCS), name) for name in FUNCTIONS]
    run = run_capture(
        root,
        [sys.executable, "main.py"],
        targets,
        root,
        calls=64,
        stdout=open(root / "out.txt", "w"),
    )
    assert run.returncode == 3 and len(run.captures) == len(FUNCTIONS), run
    yield root
    shutil.rmtree(root, ignore_errors=True)


def replaced(text: str, name: str, new: str) -> str:
    """`text` with the definition of `name` replaced by `new` (a whole def block)."""
    start = text.index(f"def {name}(")
    end = text.find("\n\n\ndef ", start)
    end = len(text) if end < 0 else end + 1
    return text[:start] + new.strip("\n") + "\n" + text[end:]
