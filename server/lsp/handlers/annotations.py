"""Code lenses, hovers and inlay hints on hot functions."""

from __future__ import annotations

from lsprotocol import types

from perfpilot.server.lsp import convert
from perfpilot.server.lsp.app import PerfpilotServer


def register(server: PerfpilotServer) -> None:
    """Register lens, hover and inlay-hint features."""

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: PerfpilotServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        return [convert.code_lens(a) for a in ls.annotations(params.text_document.uri)]

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: PerfpilotServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        document = ls.documents.get(uri)
        if document is None:
            return None
        position = params.position
        for annotation in ls.annotations(uri):
            function = annotation.function
            span = convert.name_range(
                document, function.name_line, function.name_column, len(function.name)
            )
            if span.start.line == position.line and (
                span.start.character <= position.character <= span.end.character
            ):
                return types.Hover(
                    contents=types.MarkupContent(
                        kind=types.MarkupKind.Markdown,
                        value=convert.hover_markdown(annotation),
                    ),
                    range=span,
                )
        return None

    @server.feature(
        types.TEXT_DOCUMENT_INLAY_HINT,
        types.InlayHintOptions(resolve_provider=False),
    )
    def inlay_hint(ls: PerfpilotServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        uri = params.text_document.uri
        document = ls.documents.get(uri)
        if document is None:
            return []
        first, last = params.range.start.line + 1, params.range.end.line + 1
        hints = []
        for annotation in ls.annotations(uri):
            if annotation.function.end_line < first or annotation.function.first_line > last:
                continue
            hints += [
                h
                for h in convert.inlay_hints(annotation, document)
                if params.range.start.line <= h.position.line <= params.range.end.line
            ]
        return hints
