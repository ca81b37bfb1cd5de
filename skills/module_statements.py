"""A module's top-level statements parsed one at a time, so its whole `ast` is never held.

`ast.parse` of a 5,000-line module takes ~10 MiB (every node carries a dict); the skills that
prove facts about the whole module (attributes stored anywhere, classes and their bases) need
each statement once, then only small summaries. Parsing statement by statement keeps the
largest statement's tree at most: the language server's peak during the skills' pass.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator

# Clauses that continue the compound statement above them at the same indentation.
_CONTINUATIONS = frozenset({"else", "elif", "except", "finally"})


def statement_bodies(text: str) -> Iterator[list[ast.stmt]]:
    """The module's statements, a top-level statement (with its clauses) at a time.

    Nodes carry the positions a parse of the whole module gives. Raises SyntaxError (or
    ValueError, RecursionError) when the module does not parse, as `ast.parse` does.
    """
    starts = _statement_lines(text)
    if starts is None:  # the tokenizer refused it: the parser alone decides
        yield ast.parse(text).body
        return
    lines = text.splitlines(keepends=True)
    bounds = [*starts, len(lines) + 1]
    for start, end in zip(bounds, bounds[1:]):
        # Blank lines in front keep every line number (and so every position) as in the file.
        chunk = "\n" * (start - 1) + "".join(lines[start - 1 : end - 1])
        yield ast.parse(chunk).body


def _statement_lines(text: str) -> list[int] | None:
    """First line of each top-level statement (decorators included), or None if untokenizable."""
    starts: list[int] = []
    depth = 0
    line_start = True
    decorated = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind == tokenize.INDENT:
                depth += 1
            elif kind == tokenize.DEDENT:
                depth -= 1
            elif kind == tokenize.NEWLINE:
                line_start = True
            elif kind in (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER):
                continue
            elif line_start:
                line_start = False
                if depth == 0:
                    continues = kind == tokenize.NAME and token.string in _CONTINUATIONS
                    if not continues and not decorated:
                        starts.append(token.start[0])
                    decorated = kind == tokenize.OP and token.string == "@"
    except (tokenize.TokenError, SyntaxError):
        return None
    return starts
