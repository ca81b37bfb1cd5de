"""Stage 3, style: no new ruff violation (project config), changed lines formatted as the file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from perfpilot.tools.edits import line_edits, split_lines
from perfpilot.tools.model import StageResult

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

RUFF_TIMEOUT = 20.0
_IMPORT_ORDER = "I001"
_LINE_REFERENCE = re.compile(r"\bline \d+")


class RuffUnavailable(Exception):
    """ruff is not installed, or failed in a way that says nothing about the code."""


@dataclass(frozen=True, slots=True)
class StyleOutcome:
    """The style stage's result and the text after import sorting and formatting."""

    result: StageResult
    text: str


@lru_cache(maxsize=1)
def ruff_binary() -> str | None:
    """The ruff executable: the one installed with perfpilot, else one on PATH."""
    try:
        from ruff.__main__ import find_ruff_bin

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("ruff")


def check_style(original: str, proposed: str, path: str, root: str | None) -> StyleOutcome:
    """Sort imports and format like the file does, then refuse any new ruff violation."""
    try:
        text = proposed
        formatting = _formatting(original, path, root)
        if formatting == "file":
            # Formatting a clean file changes only what the edit added: one run, no ranges.
            text = _run(["format"], text, path, root)
        elif formatting == "region":
            text = _format_changed(original, text, path, root)
        before = Counter(_violations(original, path, root))
        after = Counter(_violations(text, path, root))
        new = after - before
        if (
            new
            and all(code == _IMPORT_ORDER for code, _ in new)
            and not any(code == _IMPORT_ORDER for code, _ in before)
        ):
            # Only an import we added is out of place: let ruff's isort place it.
            text = _run(
                ["check", "--select", _IMPORT_ORDER, "--fix", "--exit-zero"], text, path, root
            )
            new = Counter(_violations(text, path, root)) - before
    except RuffUnavailable as exc:
        return StyleOutcome(StageResult("style", False, f"not checked: {exc}"), proposed)
    if new:
        shown = "; ".join(f"{code} {message}" for code, message in sorted(new)[:3])
        return StyleOutcome(StageResult("style", False, f"new ruff violation: {shown}"), text)
    reason = _indentation_problem(original, text)
    if reason:
        return StyleOutcome(StageResult("style", False, reason), text)
    return StyleOutcome(StageResult("style", True, "no new ruff violation"), text)


def _violations(text: str, path: str, root: str | None) -> list[tuple[str, str]]:
    output = _cached_run(
        ("check", "--output-format", "json", "--exit-zero", "--no-fix"), text, path, root
    )
    try:
        records = json.loads(output)
    except json.JSONDecodeError as exc:
        raise RuffUnavailable(f"ruff printed no JSON ({exc})") from None
    # Line numbers shift with the edit, also inside messages ("... from line 1557"); what a
    # violation says otherwise does not.
    return [
        (str(r.get("code") or "syntax"), _LINE_REFERENCE.sub("line N", str(r.get("message", ""))))
        for r in records
    ]


def _formatting(original: str, path: str, root: str | None) -> str | None:
    """ "file" when the file is formatter-clean, "region" when the project declares ruff
    format or black but this file is not clean, None when nothing formats this project."""
    if _cached_run(("format",), original, path, root) == original:
        return "file"
    if root is not None:
        try:
            with open(Path(root) / "pyproject.toml", "rb") as stream:
                tool = tomllib.load(stream).get("tool", {})
            if "black" in tool or "format" in tool.get("ruff", {}):
                return "region"
        except (OSError, tomllib.TOMLDecodeError):
            pass
    return None


def _format_changed(original: str, text: str, path: str, root: str | None) -> str:
    """Format only the lines the edit changed (ruff's --range), so nothing else moves."""
    old_to_new = line_edits(original, text)
    if not old_to_new:
        return text
    # Positions of the changed regions in the new text, last first so earlier ones stay valid.
    regions, shift = [], 0
    for edit in old_to_new:
        start = edit.start_line + shift
        length = len(split_lines(edit.new_text))
        shift += length - (edit.end_line - edit.start_line)
        if length:
            regions.append((start, start + length))
    for start, end in reversed(regions):
        lines = split_lines(text)
        end_column = len(lines[end - 1].rstrip("\r\n")) + 1
        text = _run(["format", "--range", f"{start + 1}:1-{end}:{end_column}"], text, path, root)
    return text


def _indentation_problem(original: str, text: str) -> str | None:
    """Changed lines must indent with what the file uses (tabs or spaces)."""
    uses_tabs = any(line.startswith("\t") for line in split_lines(original))
    uses_spaces = any(line.startswith(" ") for line in split_lines(original))
    for edit in line_edits(original, text):
        for line in split_lines(edit.new_text):
            if (line.startswith("\t") and uses_spaces and not uses_tabs) or (
                line.startswith(" ") and uses_tabs and not uses_spaces and line.strip()
            ):
                return f"changed line {edit.start_line + 1} is indented unlike the rest of the file"
    return None


@lru_cache(maxsize=64)
def _cached_run(arguments: tuple[str, ...], text: str, path: str, root: str | None) -> str:
    # The original file is checked once per fix: caching by content makes that once per text.
    return _run(list(arguments), text, path, root)


def _run(arguments: list[str], text: str, path: str, root: str | None) -> str:
    binary = ruff_binary()
    if binary is None:
        raise RuffUnavailable("ruff is not installed (pip install ruff)")
    command = [binary, *arguments, "--no-cache", "--stdin-filename", path, "-"]
    try:
        done = subprocess.run(
            command,
            input=text.encode("utf-8"),
            capture_output=True,
            cwd=root or None,
            timeout=RUFF_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuffUnavailable(f"ruff did not run: {exc}") from None
    if done.returncode != 0:
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise RuffUnavailable(f"ruff failed: {first[0] if first else done.returncode}")
    return done.stdout.decode("utf-8")
