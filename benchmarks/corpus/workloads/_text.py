"""Deterministic sample text shared by the corpus workloads (no randomness, no network)."""

from __future__ import annotations

WORDS = (
    "profile latency parser token buffer render template schedule python cache request "
    "response module function thread queue stream vector matrix index record channel"
).split()


def words(count: int, offset: int = 0) -> list[str]:
    """`count` words cycling through WORDS with a stride, so text looks varied but is fixed."""
    return [WORDS[(offset + i * 7) % len(WORDS)] for i in range(count)]


def markdown_document(sections: int) -> str:
    """A README-like Markdown document: headings, paragraphs, lists, code, links, a table."""
    parts = []
    for s in range(sections):
        w = words(40, s)
        parts.append(f"## Section {s}: {w[0].title()} {w[1]}\n")
        parts.append(
            f"Some *{w[2]}* text with **{w[3]}**, `{w[4]}()` and a [link](https://example.com/{w[5]}/{s}) "
            f"plus {' '.join(w[6:20])}.\nA second line & <{w[20]}> entities, _{w[21]}_ and {' '.join(w[22:30])}.\n"
        )
        parts.append("".join(f"- item {i}: {w[i]} {w[i + 1]}\n" for i in range(6)))
        parts.append("".join(f"{i + 1}. step **{w[i + 3]}** then `{w[i + 4]}`\n" for i in range(4)))
        parts.append(f"\n> quoted {w[8]} {w[9]}\n> and more {w[10]}\n\n")
        parts.append(f"```python\ndef {w[11]}(x):\n    return x * {s}\n```\n\n")
        parts.append("| name | value | note |\n|------|-------|------|\n")
        parts.append("".join(f"| {w[i]} | {i * s} | {w[i + 2]} |\n" for i in range(5)))
        parts.append("\n")
    return "\n".join(parts)
