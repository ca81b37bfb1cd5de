"""Unsafe fixes are applied after their diff was shown: the commands behind that review."""

from __future__ import annotations

import os
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from perfpilot.server.lsp.app import PerfpilotServer
from perfpilot.server.lsp.handlers import fixes
from perfpilot.server.lsp.handlers.fixes import FIX_PREVIEW, REVIEW_FIX
from perfpilot.tools.edits import apply_edits, unified_diff
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.model import Fix


def register(server: PerfpilotServer) -> None:
    """Register the fix-preview and review commands."""

    @server.command(FIX_PREVIEW)
    def fix_preview(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        """The fix's title, unified diff and edit, for a client that shows them itself."""
        uri, document, fix = applicable_fix(ls, args)
        diff = unified_diff(
            document.text, apply_edits(document.text, fix.edits), os.path.basename(document.path)
        )
        edit = fixes._workspace_edit(document, uri, fix)
        return {
            "title": fix.title,
            "applicability": fix.applicability.name.lower(),
            "diff": diff,
            "edit": edit,
        }

    @server.command(REVIEW_FIX)
    async def review_fix(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        """Show the diff in a message with Apply/Cancel; apply only on Apply."""
        uri, document, fix = applicable_fix(ls, args)
        diff = unified_diff(
            document.text, apply_edits(document.text, fix.edits), os.path.basename(document.path)
        )
        apply = types.MessageActionItem(title="Apply")
        choice = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Warning,
                message=f"perfpilot: apply this unsafe fix? {fix.title}\n\n{diff}",
                actions=[apply, types.MessageActionItem(title="Cancel")],
            )
        )
        if choice is None or choice.title != apply.title:
            return {"applied": False}
        result = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(
                edit=fixes._workspace_edit(document, uri, fix), label=fix.title
            )
        )
        return {"applied": bool(result and result.applied)}


def applicable_fix(ls: PerfpilotServer, args: tuple[Any, ...]) -> tuple[str, LiveDocument, Fix]:
    """The document and validated fix that a command's data argument names."""
    data = args[0] if args and isinstance(args[0], dict) else {}
    uri = str(data.get("uri", ""))
    document = ls.documents.get(uri)
    if document is None:
        raise JsonRpcInvalidParams(f"perfpilot: {uri or 'the document'} is not open")
    fix = fixes._fix(ls, uri, document, fixes._find(ls, uri, data))
    if not fix.applicable or not fix.edits:
        raise JsonRpcInvalidParams(f"perfpilot: fix refused: {fix.refusal}")
    return uri, document, fix
