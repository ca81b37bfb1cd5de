"""PP001 is published at once; PP1xx follow in a second publish and survive edits unblinking."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.test_annotations import by_code, open_document, wait_until

PARSING = "loganalyzer/parsing.py"


class RecordingDiagnostics(dict):  # type: ignore[type-arg]
    """client.diagnostics that also keeps every publish, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[tuple[str, list[types.Diagnostic]]] = []

    def __setitem__(self, uri: str, diagnostics: list[types.Diagnostic]) -> None:
        self.history.append((uri, list(diagnostics)))
        super().__setitem__(uri, diagnostics)

    def of(self, uri: str) -> list[list[types.Diagnostic]]:
        return [diagnostics for published, diagnostics in self.history if published == uri]


def codes(diagnostics: list[types.Diagnostic]) -> set[str]:
    return {str(d.code) for d in diagnostics}


@pytest.mark.asyncio
async def test_pp001_first_then_pp1xx_and_no_flicker_on_edit(client: LanguageClient) -> None:
    recorded = RecordingDiagnostics()
    client.diagnostics = recorded  # type: ignore[assignment]
    uri, text = await open_document(client, PARSING)
    await wait_until(lambda: any(by_code(d, "PP105") for d in recorded.of(uri)))
    published = [d for d in recorded.of(uri) if d]
    # The first non-empty publish carries the hot functions only; the skills come second.
    assert "PP001" in codes(published[0]) and not by_code(published[0], "PP105")
    (regex,) = by_code(published[-1], "PP105")
    assert "PP001" in codes(published[-1])
    assert "re.match(" in text.splitlines()[regex.range.start.line]

    # Two lines typed at the top: every publish of the new version keeps PP105, moved down.
    before = len(recorded.of(uri))
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                    text="# one\n# two\n",
                )
            ],
        )
    )
    # The debounced PP001 publish, then the recomputed PP1xx one.
    await wait_until(lambda: len(recorded.of(uri)) >= before + 2)
    after_edit = recorded.of(uri)[before:]
    for diagnostics in after_edit:
        (moved,) = by_code(diagnostics, "PP105")
        assert moved.range.start.line == regex.range.start.line + 2
        assert moved.range.start.character == regex.range.start.character
        assert by_code(diagnostics, "PP001")
