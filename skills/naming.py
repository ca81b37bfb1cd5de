"""Names that fixes invent, following the code's own conventions (PEP 8, as ruff's N rules check).

A local is snake_case and avoids every variable its function reads or binds, the module's
top-level names and the builtins; a number suffix counts clashes in that function only. A
module-level constant is UPPER_CASE and avoids every identifier of the file, since every
function of the module sees it.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable

import libcst as cst

from perfpilot.skills.cst_helpers import variable_names
from perfpilot.tools.module_facts import ModuleFacts

_BUILTINS = frozenset(dir(builtins))
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2})")
_NOT_WORD = re.compile(r"[^A-Za-z0-9_]+")
MAX_LENGTH = 40


def snake_case(text: str) -> str:
    """`EOS_TTYPES_set` → `eos_ttypes_set`, `parseLine` → `parse_line`; a trailing `_` is kept."""
    trailing = "_" if text.endswith("_") else ""
    words = _NOT_WORD.sub("_", _CAMEL.sub("_", text)).lower()
    name = re.sub(r"_+", "_", words).strip("_")[:MAX_LENGTH].rstrip("_")
    return name + trailing if name else ""


def upper_case(text: str) -> str:
    """`parse_line` → `PARSE_LINE`, `parseLine` → `PARSE_LINE`; a leading `_` is kept."""
    leading = "_" if text.startswith("_") else ""
    name = snake_case(text.rstrip("_")).upper()
    return leading + name if name else ""


def local_name(wanted: str, function: cst.FunctionDef, facts: ModuleFacts) -> str:
    """A new local of `function`: `wanted` in snake_case, numbered only if it clashes there."""
    # Variables only: an attribute (`out.append`) or a keyword argument does not clash.
    taken = {*variable_names(function), *facts.imports, *facts.rebound, *_BUILTINS}
    return _numbered(_identifier(snake_case(wanted), "value"), taken)


def module_name(wanted: str, facts: ModuleFacts, taken: Iterable[str] = ()) -> str:
    """A new module-level constant: `wanted` in UPPER_CASE, unused anywhere in the file."""
    return _numbered(
        _identifier(upper_case(wanted), "CONSTANT"), facts.identifiers | _BUILTINS | set(taken)
    )


def _identifier(name: str, fallback: str) -> str:
    if not name or name.strip("_") == "":
        return fallback
    return f"{fallback.lower()}_{name}" if name[0].isdigit() else name


def _numbered(name: str, taken: frozenset[str] | set[str]) -> str:
    """`name`, else `name_2`, `name_3`, ...: the first not in `taken` and not a keyword."""
    if name not in taken and not keyword.iskeyword(name):
        return name
    stem, number = name.rstrip("_") or name, 2
    while f"{stem}_{number}" in taken:
        number += 1
    return f"{stem}_{number}"
