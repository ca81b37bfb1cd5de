"""Optimize with AI over real LSP traffic, with the agent talking to a fake Messages API."""

from __future__ import annotations

import ast
import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.agent.fake_api import FakeMessagesAPI, error, message, tool_use
from tests.lsp.conftest import start_session
from tests.lsp.test_annotations import (
    by_code,
    diagnostics_where,
    message_where,
    open_document,
    wait_until,
)
from tests.lsp.test_fixes import apply_text_edits, single_document_edits

ENRICH = "loganalyzer/enrich.py"
OPTIMIZE = "perfpilot.optimize"
FAST_EDIT_DISTANCE = '''def edit_distance(a: str, b: str, limit: int) -> int:
    """Return the Levenshtein distance between a and b, capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
        previous = current
    return min(previous[-1], limit + 1)
'''
TARGET = {"path": ENRICH, "qualname": "edit_distance"}


@pytest.fixture(scope="module")
def api() -> Iterator[FakeMessagesAPI]:
    """One fake API per module (the server's settings point at it); reset for each test."""
    server = FakeMessagesAPI().start()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def fresh_api(api: FakeMessagesAPI) -> FakeMessagesAPI:
    api.script.clear()
    api.requests.clear()
    api.released.clear()
    return api


def llm_settings(api: FakeMessagesAPI, enabled: bool = True) -> dict:
    return {
        "debounce": 50,
        "llm": {
            "enabled": enabled,
            "model": "claude-test",
            "baseUrl": api.base_url,
            "apiKey": "sk-editor-key",
            "timeout": 20,
            "retries": 0,
        },
    }


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perfpilot.server", "serve"]),
    params=["visual-studio-code@v1.65.2", "neovim@v0.11.0"],
)
async def client(
    lsp_client: LanguageClient,
    request: pytest.FixtureRequest,
    workspace: Path,
    api: FakeMessagesAPI,
):
    """An editor client on the profiled example, with the LLM enabled at the fake API."""
    await start_session(lsp_client, request.param, workspace, llm_settings(api))
    yield
    api.released.set()  # let a held reply go before the server shuts down
    await lsp_client.shutdown_session()


async def hot_diagnostic(client: LanguageClient, uri: str) -> types.Diagnostic:
    await diagnostics_where(client, uri, lambda ds: any("`edit_distance`" in d.message for d in ds))
    return next(d for d in by_code(client.diagnostics[uri]) if "`edit_distance`" in d.message)


async def actions_at(
    client: LanguageClient, uri: str, diagnostic: types.Diagnostic
) -> list[types.CodeAction]:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return [_as_action(a) for a in actions or []]


def _as_action(item: types.Command | types.CodeAction) -> types.CodeAction:
    """Undo a client-library quirk: lsprotocol structures any code action that has a `command`
    as a Command (its union hook only looks for the key), stringifying the real command.
    Editors check the field's type instead; so does this."""
    if isinstance(item, types.Command) and item.command.startswith("{"):
        command = ast.literal_eval(item.command)
        return types.CodeAction(title=item.title, command=types.Command(**command))
    assert isinstance(item, types.CodeAction)
    return item


def execute(client: LanguageClient, arguments: list) -> asyncio.Future:
    return asyncio.ensure_future(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=OPTIMIZE, arguments=arguments)
        )
    )


@pytest.mark.asyncio
async def test_optimize_with_ai_round_trip(client: LanguageClient, api: FakeMessagesAPI) -> None:
    uri, text = await open_document(client, ENRICH)
    diagnostic = await hot_diagnostic(client, uri)
    actions = await actions_at(client, uri, diagnostic)
    (action,) = [a for a in actions if a.title == "perfpilot: Optimize with AI"]
    assert action.command is not None and action.command.command == OPTIMIZE
    target_uri, position = action.command.arguments  # type: ignore[misc]
    assert target_uri == uri and position["line"] == diagnostic.range.start.line
    api.add(
        message(tool_use("function_source", TARGET), tool_use("function_profile", TARGET)),
        message(tool_use("propose_edit", {**TARGET, "new_source": FAST_EDIT_DISTANCE})),
    )
    result = await execute(client, action.command.arguments)  # type: ignore[arg-type]
    assert result["ok"] is True, result
    assert "+    previous = list(range(len(b) + 1))" in result["diff"]
    assert "proposal 1: passed validation" in result["report"]
    assert "applicability: unsafe" in result["report"]
    sent = api.messages_requests()
    assert len(sent) == 2 and "edit_distance" in sent[0]["system"]
    token = next(iter(client.progress_reports))
    begin, *_, end = client.progress_reports[token]
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable
    assert isinstance(end, types.WorkDoneProgressEnd)
    await message_where(client, "passed validation (unsafe: review it)")
    # The edit waits as a quick fix on the function: one click applies it.
    actions = await actions_at(client, uri, diagnostic)
    (apply,) = [a for a in actions if a.title.startswith("perfpilot (AI): ")]
    assert apply.title.endswith("(unsafe: review it)")
    fixed = apply_text_edits(text, single_document_edits(apply.edit, uri, 1))
    assert "previous = list(range(len(b) + 1))" in fixed
    assert fixed.split("def guess_bot")[1] == text.split("def guess_bot")[1]
    assert fixed.split("def edit_distance")[0] == text.split("def edit_distance")[0]
    compile(fixed, ENRICH, "exec")


@pytest.mark.asyncio
async def test_cancel_from_the_progress_ui(client: LanguageClient, api: FakeMessagesAPI) -> None:
    uri, _ = await open_document(client, ENRICH)
    diagnostic = await hot_diagnostic(client, uri)
    held = message(tool_use("propose_edit", {**TARGET, "new_source": FAST_EDIT_DISTANCE}))
    held.delay = 60
    api.add(held)
    position = {"line": diagnostic.range.start.line, "character": 6}
    request = execute(client, [uri, position])
    await wait_until(lambda: client.progress_reports and api.requests)
    token = next(iter(client.progress_reports))
    started = time.monotonic()
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(request, timeout=10)
    assert result == {"ok": False, "cancelled": True} and time.monotonic() - started < 5
    end = client.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message == "cancelled"
    assert len(api.requests) == 1
    actions = await actions_at(client, uri, diagnostic)
    assert not any(a.title.startswith("perfpilot (AI): ") for a in actions)


@pytest.mark.asyncio
async def test_cancel_request_stops_the_job(client: LanguageClient, api: FakeMessagesAPI) -> None:
    uri, _ = await open_document(client, ENRICH)
    diagnostic = await hot_diagnostic(client, uri)
    held = message(tool_use("propose_edit", {**TARGET, "new_source": FAST_EDIT_DISTANCE}))
    held.delay = 60
    api.add(held)
    params = types.ExecuteCommandParams(
        command=OPTIMIZE, arguments=[uri, {"line": diagnostic.range.start.line, "character": 6}]
    )
    future = client.protocol.send_request(
        types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="optimize-1"
    )
    await wait_until(lambda: client.progress_reports and api.requests)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="optimize-1"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(asyncio.wrap_future(future), timeout=10)
    token = next(iter(client.progress_reports))
    await wait_until(
        lambda: isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd)
    )
    assert client.progress_reports[token][-1].message == "cancelled"  # type: ignore[union-attr]
    await message_where(client, "cancelled")


@pytest.mark.asyncio
async def test_failures_are_reported_with_the_reason(
    client: LanguageClient, api: FakeMessagesAPI
) -> None:
    uri, _ = await open_document(client, ENRICH)
    diagnostic = await hot_diagnostic(client, uri)
    api.add(error(401, "authentication_error", "invalid x-api-key"))
    result = await execute(client, [uri, {"line": diagnostic.range.start.line, "character": 6}])
    assert result["ok"] is False and "refused the key (401)" in result["reason"]
    shown = await message_where(client, "refused the key (401): check perfpilot.llm.apiKey")
    assert shown.type == types.MessageType.Error
    assert "sk-editor-key" not in shown.message and "sk-editor-key" not in result["report"]


@pytest.mark.asyncio
async def test_disabled_llm_offers_nothing_and_sends_nothing(
    client: LanguageClient, api: FakeMessagesAPI
) -> None:
    settings = llm_settings(api, enabled=False)
    client.set_configuration({"perfpilot": settings})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"perfpilot": settings})
    )
    uri, _ = await open_document(client, ENRICH)
    diagnostic = await hot_diagnostic(client, uri)
    api.add(message(tool_use("propose_edit", {**TARGET, "new_source": FAST_EDIT_DISTANCE})))

    async def no_action() -> bool:
        actions = await actions_at(client, uri, diagnostic)
        return not any(a.title == "perfpilot: Optimize with AI" for a in actions)

    deadline = time.monotonic() + 10
    while not await no_action():
        assert time.monotonic() < deadline, "the action is still offered"
        await asyncio.sleep(0.05)
    result = await execute(client, [uri, {"line": diagnostic.range.start.line, "character": 6}])
    assert result["ok"] is False and "Optimize with AI is off" in result["reason"]
    assert api.requests == []
