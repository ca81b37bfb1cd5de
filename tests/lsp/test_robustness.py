"""The server keeps answering: broken files, unknown documents, cancelled requests, edit storms."""

from __future__ import annotations

import asyncio
import random
import re

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from perfpilot.tools.annotate import annotate
from perfpilot.tools.config import Settings
from perfpilot.tools.profile_session import ProfileSession
from perfpilot.tools.source_index import index_source
from tests.lsp.test_annotations import (
    ENRICH,
    diagnostics_for,
    diagnostics_where,
    open_document,
    uri_of,
)


def server_rss_kb(client: LanguageClient) -> int:
    """Resident set size of the server process (Linux), in KiB."""
    pid = client._server.pid  # type: ignore[attr-defined]
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def still_answers(client: LanguageClient, uri: str) -> None:
    ranked = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.hotFunctions")
    )
    assert ranked
    await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


@pytest.mark.asyncio
async def test_a_file_that_does_not_parse(client: LanguageClient) -> None:
    uri, text = await open_document(client, ENRICH)
    await diagnostics_for(client, uri, 1)
    broken = text.replace("def guess_bot(", "def guess_bot(((", 1) + "\n)))) :: class\n"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken)],
        )
    )
    # The functions tree-sitter still recovers keep their annotations.
    await diagnostics_where(client, uri, lambda ds: any("`edit_distance`" in d.message for d in ds))
    await still_answers(client, uri)


@pytest.mark.asyncio
async def test_unknown_documents_and_requests_answer_quietly(client: LanguageClient) -> None:
    missing = types.TextDocumentIdentifier(uri=uri_of(client, "never_opened.py"))
    assert not await client.text_document_code_lens_async(types.CodeLensParams(missing))
    assert (
        await client.text_document_hover_async(types.HoverParams(missing, types.Position(3, 3)))
        is None
    )
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(missing, types.Range(types.Position(0, 0), types.Position(9, 0)))
    )
    assert not hints
    # A change for a document that was never opened is ignored, not fatal.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=missing.uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")],
        )
    )
    uri, _ = await open_document(client, ENRICH)
    await diagnostics_for(client, uri, 1)
    await still_answers(client, uri)


@pytest.mark.asyncio
async def test_cancelled_requests(client: LanguageClient) -> None:
    uri, _ = await open_document(client, ENRICH)
    await diagnostics_for(client, uri, 1)
    requests = [
        asyncio.ensure_future(
            client.text_document_code_lens_async(
                types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
        )
        for _ in range(20)
    ]
    for request in requests[::2]:
        request.cancel()  # pygls sends $/cancelRequest for these
    await asyncio.gather(*requests, return_exceptions=True)
    await still_answers(client, uri)


def random_edit(rng: random.Random, text: str) -> tuple[int, int, int, int, str]:
    """A random edit (0-based line/char, ASCII so characters equal UTF-16 units)."""
    lines = text.split("\n")
    start_line = rng.randrange(len(lines))
    end_line = min(len(lines) - 1, start_line + rng.choice([0, 0, 0, 1, 2]))
    start_char = rng.randint(0, len(lines[start_line]))
    end_char = rng.randint(0, len(lines[end_line]))
    if end_line == start_line and end_char < start_char:
        start_char, end_char = end_char, start_char
    insert = rng.choice(["", "x", "  ", "\n", "(", ")", ":", "def f():\n    pass\n", "# c", "é"])
    return start_line, start_char, end_line, end_char, insert


def apply(text: str, edit: tuple[int, int, int, int, str]) -> str:
    lines = text.split("\n")
    start_line, start_char, end_line, end_char, insert = edit
    start = sum(len(line) + 1 for line in lines[:start_line]) + start_char
    end = sum(len(line) + 1 for line in lines[:end_line]) + end_char
    return text[:start] + insert + text[end:]


@pytest.mark.asyncio
@pytest.mark.slow
async def test_a_storm_of_random_edits(client: LanguageClient) -> None:
    if "neovim@v0.10" not in client.client_name:  # type: ignore[attr-defined]
        pytest.skip("one client is enough for the storm (it takes a while)")
    uri, text = await open_document(client, ENRICH)
    await diagnostics_for(client, uri, 1)
    rss_before = server_rss_kb(client)
    rng = random.Random(20261126)
    version = 1
    # Keep the hot function's name intact so the final answer is predictable: edits never touch
    # the `def edit_distance(` line.
    for _ in range(10_000):
        edit = random_edit(rng, text)
        protected = text.split("\n").index(
            next(line for line in text.split("\n") if line.startswith("def edit_distance("))
        )
        if edit[0] <= protected <= edit[2]:
            continue
        text = apply(text, edit)
        version += 1
        start_line, start_char, end_line, end_char, insert = edit
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            types.Position(start_line, start_char),
                            types.Position(end_line, end_char),
                        ),
                        text=insert,
                    )
                ],
            )
        )
        if version % 500 == 0:
            await asyncio.sleep(0)  # let the transport breathe, as a typing user would
    # The final annotations must be exactly what a fresh computation gives for the final text.
    root = client.workspace_root  # type: ignore[attr-defined]
    session = ProfileSession(str(root), Settings())
    loaded = session.reload()
    assert loaded is not None
    path = str(root / ENRICH)
    final = annotate(index_source(text, path), loaded.hot_in(path), loaded.profile)
    expected = {(a.finding.line - 1, a.function.qualname) for a in final}
    assert any(qualname == "edit_distance" for _, qualname in expected)

    def placed(diagnostics: list[types.Diagnostic]) -> set[tuple[int, str]]:
        names = (re.search(r"`([^`]+)`", d.message) for d in diagnostics)
        return {(d.range.start.line, m.group(1)) for d, m in zip(diagnostics, names) if m}

    await diagnostics_where(client, uri, lambda ds: placed(ds) == expected)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert {lens.range.start.line for lens in lenses} == {a.function.first_line - 1 for a in final}
    rss_after = server_rss_kb(client)
    assert rss_after < rss_before + 100_000, (rss_before, rss_after)  # bounded: < 100 MB growth
    await still_answers(client, uri)
