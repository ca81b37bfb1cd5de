"""Profiles that lie, in the editor: few samples show their uncertainty, an empty profile warns."""

from __future__ import annotations

import subprocess
import sys

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import py_spy_record
from tests.lsp.test_annotations import ENRICH, diagnostics_where, message_where, open_document

# One editor is enough: what is checked here is the server's text, not client capabilities.
ONE_CLIENT = pytest.mark.parametrize("client", ["neovim@v0.11.0"], indirect=True)


@pytest.mark.asyncio
@pytest.mark.slow
@ONE_CLIENT
async def test_few_samples_show_their_interval_in_diagnostics_and_hover(
    client: LanguageClient,
) -> None:
    root = client.workspace_root  # type: ignore[attr-defined]
    output = root / "spy.speedscope.json"
    # A short run: a few hundred samples at most.
    py_spy_record(["python3", "workload.py", "--lines", "3000"], output, cwd=root)
    uri, text = await open_document(client, ENRICH)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.loadProfile", arguments=[str(output)])
    )
    assert result["loaded"] is True
    hot = await diagnostics_where(
        client, uri, lambda ds: bool(ds) and all("at 95%" in d.message for d in ds)
    )
    assert all(d.data["samples"] < 1000 and d.data["own_interval"] for d in hot)
    first = hot[0]
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(first.range.start.line, first.range.start.character + 1),
        )
    )
    assert hover is not None
    samples = first.data["samples"]
    assert f"Only {samples:,} samples" in hover.contents.value
    assert "at 95%" in hover.contents.value
    ranked = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.hotFunctions")
    )
    for entry in ranked:
        low, high = entry["ownInterval"]
        assert entry["samples"] == samples and low <= entry["ownPercent"] <= high


@pytest.mark.asyncio
@ONE_CLIENT
async def test_a_profile_with_no_time_here_is_announced(client: LanguageClient) -> None:
    root = client.workspace_root  # type: ignore[attr-defined]
    (root / "app.py").write_text("import no_such_dependency_for_perfpilot\n")
    failed = root / "failed.prof"
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "profile", "-o", str(failed), "--"]
        + ["python3", "app.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and failed.exists(), done.stderr
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.loadProfile", arguments=[str(failed)])
    )
    assert result["loaded"] is True
    message = await message_where(client, "failed.prof: none of its")
    assert message.type == types.MessageType.Warning
    assert "failed before running this code" in message.message
