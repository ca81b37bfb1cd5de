"""Verification in the editor: only on request, with progress; actions then carry the verdict."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from tests.lsp.conftest import start_session
from tests.lsp.test_annotations import open_document, wait_until
from tests.lsp.test_optimize import _as_action

ENRICH = "loganalyzer/enrich.py"
VERIFY = "perfpilot.verify"


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cache and key folders of a throwaway home; autouse, so the server inherits them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def captured(workspace: Path) -> Path:
    """The profiled example with edit_distance captured (a real run of the workload)."""
    target = CaptureTarget(str(workspace / ENRICH), "edit_distance")
    with open(os.devnull, "w") as sink:
        run = run_capture(
            workspace,
            [sys.executable, "workload.py", "--lines", "1500"],
            [target],
            workspace,
            stdout=sink,
        )
    assert run.captures and run.captures[0].recorded > 50
    return workspace


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perfpilot.server", "serve"]),
    params=["visual-studio-code@v1.65.2", "neovim@v0.11.0"],
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, captured: Path):
    settings = {"debounce": 50, "verify": {"budget": 1.5}}
    await start_session(lsp_client, request.param, captured, settings)
    yield
    await lsp_client.shutdown_session()


async def memoize_actions(client: LanguageClient, uri: str) -> list[types.CodeAction]:
    await wait_until(lambda: any(d.code == "PP101" for d in client.diagnostics.get(uri, [])))
    diagnostic = next(d for d in client.diagnostics[uri] if d.code == "PP101")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return [_as_action(a) for a in actions or [] if "PP101" in a.title]


@pytest.mark.asyncio
async def test_verify_runs_only_on_request_and_titles_then_carry_the_verdict(
    client: LanguageClient,
) -> None:
    uri, _ = await open_document(client, ENRICH)
    before = await memoize_actions(client, uri)
    assert before and not any("[verified" in a.title for a in before)
    await asyncio.sleep(0.5)
    assert not client.progress_reports  # opening and asking for fixes ran nothing
    line = next(d for d in client.diagnostics[uri] if d.code == "PP101").range.start.line
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=VERIFY, arguments=[uri, {"line": line, "character": 0}])
    )
    assert result["ok"] is True, result
    (entry,) = [r for r in result["results"] if r["title"].startswith("PP101")]
    assert entry["verdict"] in ("faster", "not faster", "nondeterministic"), entry
    assert "recorded call" in entry["summary"]
    token = next(iter(client.progress_reports))
    begin, *_, end = client.progress_reports[token]
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable
    assert isinstance(end, types.WorkDoneProgressEnd)
    after = await memoize_actions(client, uri)
    assert any(f"[verified: {entry['summary'][:40]}" in a.title for a in after), after


@pytest.mark.asyncio
async def test_on_code_action_setting_verifies_offered_fixes_in_the_background(
    client: LanguageClient,
) -> None:
    settings = {"debounce": 50, "verify": {"run": "onCodeAction", "budget": 1.5}}
    client.set_configuration({"perfpilot": settings})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"perfpilot": settings})
    )
    uri, _ = await open_document(client, ENRICH)
    await memoize_actions(client, uri)  # offering the fixes starts their verification

    def ended() -> bool:
        return any(
            bool(r) and isinstance(r[-1], types.WorkDoneProgressEnd)
            for r in client.progress_reports.values()
        )

    await wait_until(ended, timeout=60)
    after = await memoize_actions(client, uri)
    assert any("[verified: " in a.title for a in after), [a.title for a in after]
