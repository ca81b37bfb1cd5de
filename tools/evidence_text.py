"""Wording of profile evidence that every surface shares: call counts, caller/callee rows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# `<built-in method builtins.len>`, `<built-in function len>` (cProfile's names for C code).
_BUILTIN = re.compile(r"^<built-in (?:method|function) (?P<name>[\w.]+)>$")
# `<method 'findall' of 're.Pattern' objects>`
_METHOD = re.compile(r"^<method '(?P<name>\w+)' of '(?P<owner>[\w.]+)' objects>$")
# `loganalyzer/enrich.py:guess_bot` (a workspace function, see MappedFunction.label)
_WORKSPACE = re.compile(r"^(?P<path>[^:<>]+\.py):(?P<qualname>[\w.<>]+)$")


def calls_text(calls: int) -> str:
    """`1 call`, `12,345 calls`."""
    return f"{calls:,} call" + ("" if calls == 1 else "s")


def readable_label(label: str) -> str:
    """A caller/callee label as a person reads it: `builtins.len`, `re.Pattern.findall`,
    `guess_bot (loganalyzer/enrich.py)`; anything else unchanged."""
    if found := _BUILTIN.match(label):
        return found["name"]
    if found := _METHOD.match(label):
        return f"{found['owner']}.{found['name']}"
    if found := _WORKSPACE.match(label):
        return f"{found['qualname']} ({found['path']})"
    return label


def visible_shares(entries: Iterable[Mapping[str, object]]) -> list[tuple[str, float]]:
    """(readable name, percent) of caller/callee entries, without those that round to 0.0 %."""
    rows = []
    for entry in entries:
        percent = entry.get("percent")
        name = entry.get("name")
        if isinstance(percent, int | float) and isinstance(name, str) and round(percent, 1) > 0:
            rows.append((readable_label(name), float(percent)))
    return rows
