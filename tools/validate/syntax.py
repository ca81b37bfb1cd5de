"""Stage 2, syntax: tree-sitter finds no ERROR/MISSING node and CPython compiles the file."""

from __future__ import annotations

import ast
import re
import sys
import warnings
from pathlib import Path

from tree_sitter import Node

from perfpilot.tools import source_walk
from perfpilot.tools.model import StageResult

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

_REQUIRES = re.compile(r">=?\s*3\.(\d+)")
_RUFF_TARGET = re.compile(r"^py3(\d+)$")


def check_syntax(text: str, path: str, python: tuple[int, int] | None = None) -> StageResult:
    """Pass when the text parses for tree-sitter and compiles for the project's Python."""
    tree = source_walk.parse(text.encode("utf-8"))
    if tree.root_node.has_error:
        node = _first_error(tree.root_node)
        where = f"line {node.start_point.row + 1}" if node is not None else "somewhere"
        what = "a missing token" if node is not None and node.is_missing else "a syntax error"
        return StageResult("syntax", False, f"tree-sitter finds {what} at {where}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes is not our business
            compile(text, path, "exec", dont_inherit=True)
            if python is not None and python < sys.version_info[:2]:
                ast.parse(text, path, feature_version=python)
    except SyntaxError as exc:
        target = f" for Python {python[0]}.{python[1]}" if python else ""
        return StageResult(
            "syntax", False, f"does not compile{target}: line {exc.lineno}: {exc.msg}"
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        return StageResult("syntax", False, f"does not compile: {exc}")
    return StageResult("syntax", True, "parses and compiles")


def project_python(root: str | None) -> tuple[int, int] | None:
    """The oldest Python the project supports: requires-python, else ruff's target-version."""
    if root is None:
        return None
    try:
        with open(Path(root) / "pyproject.toml", "rb") as stream:
            data = tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    requires = data.get("project", {}).get("requires-python")
    if isinstance(requires, str) and (match := _REQUIRES.search(requires)):
        return (3, int(match.group(1)))
    target = data.get("tool", {}).get("ruff", {}).get("target-version")
    if isinstance(target, str) and (match := _RUFF_TARGET.match(target)):
        return (3, int(match.group(1)))
    return None


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error or child.is_missing:
            found = _first_error(child)
            if found is not None:
                return found
    return None
