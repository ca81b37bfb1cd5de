"""Open, edit and close: live documents, debounced diagnostics."""

from __future__ import annotations

from lsprotocol import types
from pygls.uris import to_fs_path

from perfpilot.server.lsp.app import PerfpilotServer
from perfpilot.tools.live_document import LiveDocument


def register(server: PerfpilotServer) -> None:
    """Register text synchronization."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PerfpilotServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        if item.language_id not in ("python", "py") and not item.uri.endswith((".py", ".pyi")):
            return
        path = to_fs_path(item.uri) or item.uri
        encoding = _encoding(ls)
        if ls.session is not None and not ls.loading:
            document = ls.session.open_document(path, item.text, item.version, encoding)
        else:
            document = LiveDocument(path, item.text, item.version, encoding)
        ls.documents[item.uri] = document
        ls.publish(item.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PerfpilotServer, params: types.DidChangeTextDocumentParams) -> None:
        document = ls.documents.get(params.text_document.uri)
        if document is None:
            return
        encoding = _encoding(ls)
        for change in params.content_changes:
            ls.skill_worker.move(params.text_document.uri, change, encoding)
            if isinstance(change, types.TextDocumentContentChangePartial):
                start = (change.range.start.line, change.range.start.character)
                end = (change.range.end.line, change.range.end.character)
                document.apply_change(start, end, change.text)
            else:
                document.apply_change(None, None, change.text)
        document.set_version(params.text_document.version)
        ls.schedule_publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PerfpilotServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)


def _encoding(ls: PerfpilotServer) -> str:
    encoding = ls.workspace.position_encoding
    return str(encoding.value if hasattr(encoding, "value") else encoding or "utf-16")
