"""Shared fixtures: real programs, really profiled."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_python(
    args: list[str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the test interpreter with `args` in `cwd`, failing loudly on error."""
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done


def py_spy_record(command: list[str], output: Path, cwd: Path, fmt: str = "speedscope") -> None:
    """Record `command` with py-spy, or skip the test where py-spy cannot trace."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    done = subprocess.run(
        [
            py_spy,
            "record",
            "--rate",
            "400",
            "--format",
            fmt,
            "--output",
            str(output),
            "--",
            *command,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0 or not output.exists():
        if "Permission" in done.stderr or "ptrace" in done.stderr.lower():
            pytest.skip(f"py-spy cannot trace here: {done.stderr.strip()[:200]}")
        raise AssertionError(f"py-spy failed: {done.stderr}")
