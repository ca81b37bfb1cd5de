"""Covering tests: the project's tests that call a function, run against the original and fix.

Discovery runs the test suite once under a profile hook restricted to the function's file and
line span (cached per function hash and test-file state); the check runs only the covering
tests in a temporary copy of the project with the fixed file (the user's tree is untouched).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfpilot.tools.verify.model import TestRun
from perfpilot.tools.verify.process import Stopped, run_process
from perfpilot.tools.verify.store import cache_home

PLUGIN = Path(__file__).with_name("_cover_plugin.py")
PLUGIN_NAME = "_perfpilot_cover"
_SKIP = (
    ".git",
    ".hg",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "node_modules",
    "__pycache__",
    ".perfpilot",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
)


class TestsError(Exception):
    """The test suite could not be run; the message says why."""


@dataclass(frozen=True, slots=True)
class Span:
    """A function's file and lines (1-based, inclusive), and its source hash."""

    path: str
    qualname: str
    first_line: int
    end_line: int
    body_hash: str


def project_python(root: str | Path, hint: str | None = None) -> str:
    """The interpreter to run the project's tests: its .venv, the capture's, or ours."""
    for candidate in (
        Path(root) / ".venv" / "bin" / "python",
        Path(root) / "venv" / "bin" / "python",
    ):
        if candidate.exists():
            return str(candidate)
    return hint if hint and os.path.exists(hint) else sys.executable


def covering_tests(
    root: str | Path,
    span: Span,
    python: str,
    timeout: float,
    cancel: threading.Event | None = None,
) -> tuple[list[str], dict[str, str]]:
    """(node ids that call the function, every test's outcome with the original code); cached."""
    key = _cache_key(root, span)
    cache = cache_home() / "covering" / f"{key}.json"
    if cache.is_file():
        data = json.loads(cache.read_text(encoding="utf-8"))
        return data["hits"], data["outcomes"]
    data = _pytest(root, [], python, timeout, span.path, span, cancel)
    cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    cache.write_text(json.dumps(data), encoding="utf-8")
    return data["hits"], data["outcomes"]


def check_tests(
    root: str | Path,
    span: Span,
    fixed: str,
    python: str,
    timeout: float,
    cancel: threading.Event | None = None,
) -> TestRun:
    """Run the covering tests on a copy of the project holding `fixed`; name the broken ones."""
    hits, outcomes = covering_tests(root, span, python, timeout, cancel)
    passing = [t for t in hits if outcomes.get(t) == "passed"]
    if not passing:
        note = (
            "no passing test calls the function" if not hits else "its covering tests do not pass"
        )
        return TestRun(tuple(hits), 0, (), note)
    overlay = tempfile.mkdtemp(prefix="perfpilot-tests-")
    try:
        copy = Path(overlay) / "project"
        shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(*_SKIP))
        target = copy / os.path.relpath(os.path.realpath(span.path), os.path.realpath(root))
        target.write_text(fixed, encoding="utf-8")
        data = _pytest(copy, passing, python, timeout, str(target), span, cancel)
    finally:
        shutil.rmtree(overlay, ignore_errors=True)
    failed = [t for t in passing if data["outcomes"].get(t) != "passed"]
    if failed:  # the cached outcomes may be old: confirm on the user's tree as it is now
        now = _pytest(root, failed, python, timeout, span.path, span, cancel)
        failed = [t for t in failed if now["outcomes"].get(t) == "passed"]
    broken = tuple(failed)
    note = ""
    if not data["hits"]:
        note = (
            "the tests imported the module from outside the project copy (an installed"
            " package?): the fixed file was not exercised"
        )
    return TestRun(tuple(hits), len(passing), broken if not note else (), note)


def _pytest(
    root: str | Path,
    tests: list[str],
    python: str,
    timeout: float,
    file: str,
    span: Span,
    cancel: threading.Event | None,
) -> dict[str, Any]:
    workdir = tempfile.mkdtemp(prefix="perfpilot-cover-")
    try:
        shutil.copy(PLUGIN, os.path.join(workdir, f"{PLUGIN_NAME}.py"))
        output = os.path.join(workdir, "result.json")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [workdir, os.environ.get("PYTHONPATH")])),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PERFPILOT_COVER_FILE": file,
            "PERFPILOT_COVER_LINES": f"{span.first_line}-{span.end_line}",
            "PERFPILOT_COVER_OUTPUT": output,
        }
        argv = [python, "-m", "pytest", "-q", "-p", PLUGIN_NAME, "-p", "no:cacheprovider", *tests]
        try:
            run_process(argv, cwd=str(root), env=env, timeout=timeout, cancel=cancel)
        except Stopped as exc:
            if not exc.timed_out:
                raise
            raise TestsError(f"the tests ran longer than {timeout:g} s; stopped") from None
        except OSError as exc:
            raise TestsError(f"cannot run {python}: {exc.strerror or exc}") from None
        if not os.path.exists(output):
            raise TestsError("pytest did not run (is it installed in the project's interpreter?)")
        with open(output, encoding="utf-8") as handle:
            return json.load(handle)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _cache_key(root: str | Path, span: Span) -> str:
    """The function's identity and hash, and the state of every test file (name, size, mtime)."""
    digest = hashlib.sha256(
        f"{os.path.realpath(root)}|{span.path}|{span.qualname}|{span.body_hash}".encode()
    )
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP)
        for name in sorted(files):
            if name.endswith(".py") and (name.startswith("test") or name == "conftest.py"):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]
