"""Read the plain YAML that SKILL.md front matter is written in, without importing PyYAML.

Importing PyYAML and loading 24 front matters costs ~10 ms of CPU, a noticeable part of what
`perfpilot check` adds to Python's start-up. Front matter uses a small part of YAML: `key: value`
lines, one nested map (`metadata:`), plain, quoted and folded (`>-`) scalars, comment lines.
`simple_yaml` reads exactly that part and answers None for anything else (a flow collection,
an escape, a value YAML would read as a date or a bool, a multi-line plain scalar...), which the
caller then hands to PyYAML: its result is always PyYAML's (tests/unit/test_front_matter.py).
"""

from __future__ import annotations

import re

_KEY = re.compile(r"^( *)([A-Za-z][A-Za-z0-9_-]*):(?: (.*))?$")
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)\.[0-9]+$")
# Plain scalars that YAML 1.1 (PyYAML's resolver) reads as something else than a string.
_SPECIAL = frozenset({"yes", "no", "true", "false", "on", "off", "null", "~", "=", "<<"})
# First characters that make a value something other than a plain string (YAML indicators).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


class _Unsupported(Exception):
    """Outside the subset: PyYAML decides."""


def simple_yaml(text: str) -> dict[str, object] | None:
    """The mapping `text` holds, when it stays within the subset; None otherwise."""
    try:
        return _Reader(text.split("\n")).mapping(0)
    except _Unsupported:
        return None


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        if any("\t" in line or "\r" in line for line in lines):
            raise _Unsupported
        self.lines = lines
        self.at = 0

    def _skip_blank_and_comments(self) -> None:
        while self.at < len(self.lines):
            stripped = self.lines[self.at].strip()
            if stripped and not stripped.startswith("#"):
                return
            self.at += 1

    def mapping(self, indent: int) -> dict[str, object]:
        found: dict[str, object] = {}
        while True:
            self._skip_blank_and_comments()
            if self.at >= len(self.lines):
                return found
            line = self.lines[self.at]
            match = _KEY.match(line)
            depth = len(line) - len(line.lstrip(" "))
            if depth < indent:
                return found
            if match is None or depth != indent:
                raise _Unsupported
            key, rest = match.group(2), match.group(3)
            if key in found:
                raise _Unsupported  # PyYAML keeps the last one; say nothing
            self.at += 1
            found[key] = self._value(rest, indent)

    def _value(self, rest: str | None, indent: int) -> object:
        if rest is None or not rest.strip():
            self._skip_blank_and_comments()
            if self.at < len(self.lines):
                line = self.lines[self.at]
                child = len(line) - len(line.lstrip(" "))
                if child > indent:
                    if indent > 0:
                        raise _Unsupported  # one level of nesting is all front matter uses
                    return self.mapping(child)
            return None
        rest = rest.strip()
        if rest == ">-":
            return self._folded(indent)
        if rest[0] in "\"'":
            quote = rest[0]
            inner = rest[1:-1]
            if len(rest) < 2 or rest[-1] != quote or quote in inner or "\\" in inner:
                raise _Unsupported
            return inner
        return _plain(rest)

    def _folded(self, indent: int) -> str:
        """A `>-` block whose lines all sit at one indentation: joined by single spaces."""
        parts: list[str] = []
        content: int | None = None
        while self.at < len(self.lines):
            line = self.lines[self.at]
            depth = len(line) - len(line.lstrip(" "))
            if not line.strip():
                break  # a blank line: folding rules PyYAML applies, not repeated here
            if content is None:
                if depth <= indent:
                    raise _Unsupported  # an empty block
                content = depth
            if depth < content:
                break
            if depth > content or line != line.rstrip():
                raise _Unsupported  # kept line breaks, trailing spaces
            parts.append(line[content:])
            self.at += 1
        if not parts:
            raise _Unsupported
        if self.at < len(self.lines) and not self.lines[self.at].strip():
            raise _Unsupported
        return " ".join(parts)


def _plain(value: str) -> object:
    """A one-line plain scalar: int, float or str, as PyYAML's resolver reads it."""
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    if (
        value[0] in _INDICATORS
        or value[0] in "+.0123456789"  # dates, times, other number forms
        or value.lower() in _SPECIAL
        or ": " in value
        or " #" in value
        or value.endswith(":")
    ):
        raise _Unsupported
    return value
