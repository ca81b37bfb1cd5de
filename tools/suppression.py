"""`# perfpilot: ignore[PP101]` comments: reading them, and adding one to a line."""

from __future__ import annotations

import re

# `# perfpilot: ignore` (every code) or `# perfpilot: ignore[PP101, PP104]`.
_IGNORE = re.compile(r"#\s*perfpilot:\s*ignore(?:\[(?P<codes>[A-Z0-9,\s]*)\])?", re.IGNORECASE)


def is_suppressed(line: str, code: str) -> bool:
    """True when the line carries an ignore comment that covers `code`."""
    for match in _IGNORE.finditer(line):
        codes = match.group("codes")
        if codes is None or code.upper() in {c.strip().upper() for c in codes.split(",")}:
            return True
    return False


def with_suppression(line: str, code: str) -> str | None:
    """The line (without its line ending) with `code` added to its ignore comment.

    None when a comment cannot go there (the line continues with a backslash). The caller
    still checks that the result is a comment and not the inside of a string.
    """
    match = next(_IGNORE.finditer(line), None)
    if match is not None and match.group("codes") is not None:
        codes = [c.strip() for c in match.group("codes").split(",") if c.strip()]
        if code not in codes:
            codes.append(code)
        return (
            line[: match.start()] + f"# perfpilot: ignore[{', '.join(codes)}]" + line[match.end() :]
        )
    if match is not None:
        return line  # a bare ignore already covers every code
    stripped = line.rstrip()
    if stripped.endswith("\\"):
        return None  # a comment would swallow the continuation
    return f"{stripped}  # perfpilot: ignore[{code}]"
