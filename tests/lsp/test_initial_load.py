"""The first profile load starts at `initialize`, runs while the client opens files, and still
honours the settings the client's configuration gives afterwards."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import answer_editor_requests
from tests.lsp.test_annotations import by_code, open_document, wait_until

PARSING = "loganalyzer/parsing.py"


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perfpilot.server", "serve"])
)
async def held_client(lsp_client: LanguageClient, workspace: Path):
    """A VS Code-like client that answers workspace/configuration only when the test says."""
    answer_editor_requests(lsp_client)
    release = asyncio.Event()
    answer: dict[str, Any] = {}
    asked: list[types.ConfigurationParams] = []

    async def configuration(params: types.ConfigurationParams) -> list[Any]:
        asked.append(params)
        await release.wait()
        return [dict(answer) if item.section == "perfpilot" else None for item in params.items]

    # pytest-lsp answers configuration itself, at once; this client holds its answer.
    lsp_client.protocol.fm.features[types.WORKSPACE_CONFIGURATION] = configuration

    lsp_client.release = release  # type: ignore[attr-defined]
    lsp_client.answer = answer  # type: ignore[attr-defined]
    lsp_client.asked = asked  # type: ignore[attr-defined]
    lsp_client.workspace_root = workspace  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code@v1.65.2"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="example")],
            initialization_options={"perfpilot": {"debounce": 50}},
        )
    )
    yield
    release.set()
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_file_opened_while_the_profile_loads_gets_pp001(held_client: LanguageClient) -> None:
    client = held_client
    await wait_until(lambda: client.asked)  # type: ignore[attr-defined]
    # The server is inside `initialized`, waiting for the configuration: the file opens now.
    uri, text = await open_document(client, PARSING)
    await asyncio.sleep(0.3)
    assert uri not in client.diagnostics  # nothing flashes before the profile is shown
    client.answer.update({"debounce": 50})  # type: ignore[attr-defined]
    client.release.set()  # type: ignore[attr-defined]
    await wait_until(lambda: by_code(client.diagnostics.get(uri, [])))
    hot = by_code(client.diagnostics[uri])
    lines = text.splitlines()
    assert all(lines[d.range.start.line].lstrip().startswith("def ") for d in hot)
    assert any("parse_line" in d.message for d in hot)

    # The index the load built serves the open document: an edit re-annotates correctly.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                    text="\n\n\n",
                )
            ],
        )
    )
    await wait_until(
        lambda: (
            {d.range.start.line for d in by_code(client.diagnostics[uri])}
            == {d.range.start.line + 3 for d in hot}
        )
    )


@pytest.mark.asyncio
async def test_configuration_given_after_initialize_decides_what_loads(
    held_client: LanguageClient,
) -> None:
    client = held_client
    await wait_until(lambda: client.asked)  # type: ignore[attr-defined]
    uri, _ = await open_document(client, PARSING)
    # The load started at `initialize` used the default threshold (0.5 %); the editor's own
    # settings, answered later, raise it so high that nothing in the file is hot.
    client.answer.update({"threshold": 99.9})  # type: ignore[attr-defined]
    client.release.set()  # type: ignore[attr-defined]
    await wait_until(lambda: uri in client.diagnostics)
    assert by_code(client.diagnostics[uri]) == []
