"""`check --all` on many files: the process pool gives what one process gives; the progress bar
shows on a terminal only, and never in json output."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.cli.test_check import perfpilot

FILES = 20

MODULE = '''"""Module {i}."""

import re


def parse_{i}(lines):
    found = []
    for line in lines:
        match = re.match(r"key_{i}=(\\d+)", line)
        if match:
            found.append(match.group(1))
    return found
'''


def make_tree(root: Path) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'tree'\n")
    for i in range(FILES):
        folder = root / f"pkg{i % 3}"
        folder.mkdir(exist_ok=True)
        (folder / f"mod{i}.py").write_text(MODULE.format(i=i))


def test_pool_and_single_process_report_the_same(tmp_path: Path) -> None:
    make_tree(tmp_path)
    outputs = []
    for jobs in ("1", "2"):
        done = perfpilot("check", "--all", "--output-format", "json", "--jobs", jobs, cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert done.stderr == ""  # no bar in json, and not a terminal anyway
        outputs.append(json.loads(done.stdout)["findings"])
    assert outputs[0] == outputs[1]
    assert sum(f["code"] == "PP105" for f in outputs[0]) == FILES


def run_on_terminal(root: Path, *args: str) -> tuple[str, str]:
    """Run perfpilot with stderr on a pseudo-terminal; return (stdout, what the terminal got)."""
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "perfpilot.server", *args],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=300,
        )
        os.close(terminal)
        terminal = -1
        seen = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        return done.stdout, seen.decode(errors="replace")
    finally:
        if terminal != -1:
            os.close(terminal)
        os.close(controller)


def test_progress_bar_on_a_terminal_only_for_text(tmp_path: Path) -> None:
    make_tree(tmp_path)
    stdout, terminal = run_on_terminal(tmp_path, "check", "--all", "--jobs", "2")
    assert "checking [" in terminal and f"{FILES}/{FILES}" in terminal
    assert "PP105" in stdout and "checking [" not in stdout
    _, terminal = run_on_terminal(tmp_path, "check", "--all", "--output-format", "json")
    assert "checking [" not in terminal
