"""What the verification benchmarks share: a private example, and verifying changes in rotation.

Imported by bench_verify.py and bench_verify_aa.py (run from this folder, as they are).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perfpilot.tools.verify.model import Verdict

REPO = Path(__file__).resolve().parents[1]


def private_example(folder: Path) -> Path:
    """A copy of the bundled example in `folder`; cache and config homes there too (no verdict
    or capture of another run is reused)."""
    os.environ["XDG_CACHE_HOME"] = os.path.join(folder, "cache")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(folder, "config")
    root = folder / "example"
    shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
    return root


def run_perfpilot(root: Path, arguments: Sequence[str]) -> None:
    """`python -m perfpilot.server ARGUMENTS` in `root`; exits with its stderr if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", *arguments],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)


@dataclass(frozen=True)
class Change:
    """One function's source before and after (the same text for an A/A trial)."""

    title: str
    path: str
    qualname: str
    before: str
    after: str


def verify_in_rotation(
    root: Path, changes: Sequence[Change], count: int, budget: float
) -> Iterator[tuple[Change, float, Verdict]]:
    """Verify `count` times, rotating over `changes` (1, 2, ..., 1, ...), each from scratch
    (a new replay subprocess, no cached verdict): (change, seconds it took, verdict)."""
    from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

    for trial in range(count):
        change = changes[trial % len(changes)]
        started = time.perf_counter()
        verdict = verify_change(
            root, change.path, change.qualname, change.before, change.after, VerifySettings(budget)
        )
        yield change, time.perf_counter() - started, verdict
