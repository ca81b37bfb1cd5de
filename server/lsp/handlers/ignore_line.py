"""The "Ignore for this line" quick fix: `# perfpilot: ignore[PP1xx]` where a comment can go."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from perfpilot.server.lsp import convert
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.suppression import with_suppression

if TYPE_CHECKING:
    from perfpilot.skills.runner import Found


def ignore_action(
    document: LiveDocument, uri: str, found: Found, diagnostic: types.Diagnostic
) -> types.CodeAction | None:
    """`# perfpilot: ignore[PP1xx]` at the end of the opportunity's first line."""
    code = found.skill.code or ""
    row = found.opportunity.line - 1
    line = document.line_text(row)
    new_line = with_suppression(line, code)
    if new_line is None or not _comment_lands(document, row):
        return None
    end = document.position_of_column(row, len(line) + 1)
    edit = types.TextEdit(types.Range(types.Position(row, 0), types.Position(row, end)), new_line)
    return types.CodeAction(
        title=f"perfpilot ({code}): Ignore for this line",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=convert.versioned_edit(uri, document.version, [edit]),
    )


def _comment_lands(document: LiveDocument, row: int) -> bool:
    """True when the end of the line is code, not the inside of a string that continues."""
    point = (row, len(document.line_text(row).encode("utf-8")))
    node = document.tree().root_node.descendant_for_point_range(point, point)
    while node is not None:
        if node.type == "string" and node.start_point < point < node.end_point:
            return False
        node = node.parent
    return True
