"""Helpers shared by the loaders: decoding text and JSON, counts, names and shared limits."""

from __future__ import annotations

import json
import math
from typing import Any

from perfpilot.tools.model import ProfileError

# A line number must fit a C int, as in a code object.
MAX_LINE = 1 << 31
# Expanding a call tree into root-first stacks costs the sum of the stacks' depths; a crafted
# file could make that quadratic in its size, so the expansion has a budget.
MAX_STACK_ELEMENTS = 20_000_000
# pyinstrument's placeholders for time that belongs to the enclosing frame (in its own JSON and
# in its speedscope output).
SYNTHETIC_FRAMES = frozenset({"[self]", "[await]", "[out-of-context]"})


class JSONTooDeep(ProfileError):
    """JSON nested deeper than the json module can follow."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def parse_json(data: bytes, source: str, what: str) -> Any:
    """Decode UTF-8 JSON into Python objects, turning every failure into a ProfileError."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(source, f"{what} file is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise JSONTooDeep(source, f"{what} JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(
            source, f"invalid {what} JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:  # NaN/Infinity, or an integer with thousands of digits
        raise ProfileError(source, f"invalid {what} JSON: {exc}") from None


def decode_text(data: bytes, source: str, what: str) -> str:
    """Decode a text profile as UTF-8, naming the first bad byte."""
    nul = data.find(b"\0")
    if nul >= 0:
        raise ProfileError(source, f"{what} profile is binary, not text (NUL at byte {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(source, f"{what} profile is not UTF-8 (byte {exc.start})") from None


def parse_count(text: str, source: str, where: str) -> float:
    """Parse a sample count or weight: a finite non-negative number."""
    try:
        value = int(text) if text.isdigit() and len(text) < 19 else float(text)
    except ValueError:
        raise ProfileError(source, f"{where}: {text[:40]!r} is not a sample count") from None
    if not math.isfinite(value) or value < 0:
        raise ProfileError(source, f"{where}: sample count {text[:40]!r} is out of range")
    return value


def split_qualname(name: str) -> tuple[str, str | None]:
    """Split `Class.method` (or `f.<locals>.g`) into the bare name and the qualified name."""
    if name.endswith(">"):
        # `Worker.run.<locals>.<genexpr>`: the last part is the bracketed name.
        bracket = name.rfind("<")
        if bracket > 1 and name[bracket - 1] == ".":
            return name[bracket:], name
        return name, None
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return name[dot + 1 :], name
    return name, None
