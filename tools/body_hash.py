"""Body hashes of the source index: blind to comments and to layout that does not change code."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from itertools import accumulate

from tree_sitter import Node

__all__ = ["BodyHasher"]

# Layout normalization, on code whose strings are hex placeholders and comments are gone:
# whitespace between two word characters separates tokens and becomes one space; any other
# whitespace after a token (around operators and brackets, at the line end) is dropped;
# indentation stays. Bytes >= 0x80 are UTF-8 identifier characters; a backslash outside strings
# is a line continuation.
_W = rb"[0-9A-Za-z_\x80-\xff]"
_G = rb"[ \t\f\r\\]"
# Each pattern starts with a gap character so that the regex engine's first-character scan skips
# over code quickly; the context checks come after it (a lookbehind over the gap just matched).
_WORD_GAP = re.compile(_G + rb"(?<=" + _W + _G + rb")" + _G + rb"*(?=" + _W + rb")")
_OTHER_GAP = re.compile(_G + rb"(?<=[^\s\\]" + _G + rb")" + _G + rb"*")
_BRACKETS = bytes.maketrans(b"([{)]}", b"((()))")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"()[]{}\n")


def _squeeze(code: bytes) -> bytes:
    # Word gaps become \x01 first so that the second pass, which drops every other gap that
    # follows a token, leaves them alone; leading indentation follows no token and stays.
    return _OTHER_GAP.sub(b"", _WORD_GAP.sub(b"\x01", code)).replace(b"\x01", b" ")


class BodyHasher:
    """Hash a function's tokens, ignoring comments and layout that does not change the code.

    Each function is hashed from its own text only: an unbalanced bracket elsewhere in the file
    (common while typing) must not change the hash of every function after it, and an editor
    can then re-index one statement without rehashing the file.
    """

    def __init__(self, src: bytes, strings: list[Node], comments: list[Node]) -> None:
        self.src = src
        spans = sorted(
            [(n.start_byte, n.end_byte, False) for n in strings]
            + [(n.start_byte, n.end_byte, True) for n in comments]
        )
        # Keep outermost spans only: an f-string holds strings, a string can hold a '#'.
        self.spans: list[tuple[int, int, bool]] = []
        for span in spans:
            if not self.spans or span[0] >= self.spans[-1][1]:
                self.spans.append(span)
        self.starts = [s for s, _, _ in self.spans]
        self._row_starts: list[int] | None = None

    def _mask(self, start: int, end: int) -> bytes:
        """Return src[start:end] with comments removed and strings as hex placeholders."""
        src = self.src
        pieces: list[bytes] = []
        pos = start
        i = bisect_left(self.starts, start)
        while i < len(self.spans) and self.spans[i][0] < end:
            s, e, is_comment = self.spans[i]
            pieces.append(src[pos:s])
            if not is_comment:
                literal = src[s:e]
                # Hex keeps the literal's exact text yet hides its spaces, brackets and quotes
                # from the layout rules; a continuation per newline keeps the line count.
                pieces.append(
                    b"\x00%s\x00%s" % (literal.hex().encode(), b"\\\n" * literal.count(b"\n"))
                )
            pos = min(e, end)
            i += 1
        pieces.append(src[pos:end])
        return b"".join(pieces).replace(b"\r\n", b"\n")

    def _row_span(self, first_row: int, last_row: int) -> tuple[int, int]:
        if self._row_starts is None:
            self._row_starts = [0, *(m.end() for m in re.finditer(b"\n", self.src))]
        starts = self._row_starts
        end = starts[last_row + 1] if last_row + 1 < len(starts) else len(self.src)
        return starts[min(first_row, len(starts) - 1)], end

    def hash_rows(self, first_row: int, last_row: int) -> str:
        """Hash the logical lines of rows first_row..last_row (0-based), indentation relative."""
        masked = self._mask(*self._row_span(first_row, last_row))
        rows = masked.split(b"\n")
        brackets = masked.translate(_BRACKETS, _NOT_BRACKETS).split(b"\n")
        depths = accumulate([2 * b.count(b"(") - len(b) if b else 0 for b in brackets])
        # A newline ends a logical line unless brackets are open or a backslash continues it;
        # a newline that does not becomes a space.
        pieces: list[bytes] = []
        for depth, row in zip(depths, rows):
            pieces += (row, b" " if depth > 0 or row.endswith(b"\\") else b"\n")
        lines = _squeeze(b"".join(pieces[:-1])).split(b"\n")
        lines = [line for line in lines if line.strip()]
        if not lines:
            return hashlib.blake2b(b"", digest_size=8).hexdigest()
        text = b"\n".join(lines)
        base = lines[0][: len(lines[0]) - len(lines[0].lstrip(b" \t\f"))]
        if base:
            text = text[len(base) :].replace(b"\n" + base, b"\n")
        return hashlib.blake2b(text, digest_size=8).hexdigest()

    def hash_expression(self, start: int, end: int) -> str:
        """Hash an expression (a lambda): none of its line breaks matter."""
        code = _squeeze(self._mask(start, end).replace(b"\n", b" ")).strip()
        return hashlib.blake2b(code, digest_size=8).hexdigest()
