"""What a new user meets first, over real LSP traffic: default (empty) settings, an editor opened
on a subfolder of the project, and the hover's wording."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.lsp.conftest import answer_editor_requests
from tests.lsp.test_annotations import def_row, diagnostics_for, wait_until

VSCODE = "visual-studio-code@v1.65.2"
pytestmark = pytest.mark.asyncio


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perfpilot.server", "serve"])
)
async def client(lsp_client: LanguageClient):
    """A client that each test initializes on its own folder, with its own options."""
    answer_editor_requests(lsp_client)
    yield
    # Bounded: a test that failed before initializing must not hang the run here.
    await asyncio.wait_for(lsp_client.shutdown_session(), 20)


async def start(client: LanguageClient, folder: Path, options: object) -> None:
    capabilities = client_capabilities(VSCODE)
    # Today's VS Code watches relative patterns (LSP 3.17); the recorded 1.65 predates them.
    capabilities.workspace.did_change_watched_files.relative_pattern_support = True
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=folder.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name=folder.name)],
            initialization_options=options,
        )
    )


async def hot_functions(client: LanguageClient) -> list[dict]:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.hotFunctions", arguments=[])
    )


async def open_file(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=path.read_text())
        )
    )
    return uri


async def test_empty_settings_table_is_no_settings(client: LanguageClient, workspace: Path) -> None:
    # Neovim sends `setup{}`'s empty Lua table as a JSON array.
    await start(client, workspace, {"perfpilot": []})
    uri = await open_file(client, workspace / "loganalyzer/enrich.py")
    await diagnostics_for(client, uri, 1)
    assert await hot_functions(client)
    assert not [m.message for m in client.messages if "invalid settings" in m.message]


async def test_subfolder_server_agrees_with_cli_in_subfolder(
    client: LanguageClient, workspace: Path
) -> None:
    # Only the profile that `perfpilot profile` writes from the subfolder.
    shutil.rmtree(workspace / ".perfpilot")
    sub = workspace / "loganalyzer"
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "profile", "--"]
        + ["python3", "../workload.py", "--lines", "1000"],
        cwd=sub,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    written = list((workspace / ".perfpilot/profiles").iterdir())
    assert len(written) == 1, done.stderr
    # The editor opened on the subfolder: the same root, the same profile.
    await start(client, sub, None)
    info = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.workspaceInfo", arguments=[])
    )
    assert Path(info["root"]) == workspace.resolve()
    assert Path(info["profilesDir"]) == written[0].parent.resolve()
    uri = await open_file(client, sub / "enrich.py")
    await diagnostics_for(client, uri, 1)
    ranked = await hot_functions(client)
    assert any(entry["qualname"] == "edit_distance" for entry in ranked), ranked
    # It watches the root's profiles folder (relative to the root, which VS Code can watch
    # outside the folder it opened).
    patterns = [
        w["globPattern"]
        for r in client.registrations  # type: ignore[attr-defined]
        for w in (r.register_options or {}).get("watchers", [])
    ]
    wanted = {"baseUri": workspace.resolve().as_uri(), "pattern": ".perfpilot/profiles/**"}
    assert wanted in patterns, patterns


async def hover_at(client: LanguageClient, uri: str, text: str, name: str) -> str:
    row = def_row(text, name)
    column = text.splitlines()[row].index(name) + 2
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(row, column),
        )
    )
    assert hover is not None, name
    return hover.contents.value


async def test_hover_reads_well(client: LanguageClient, workspace: Path) -> None:
    # Threshold 0: every profiled function of the file is annotated, flag_blocked (one call) too.
    await start(client, workspace, {"perfpilot": {"threshold": 0}})
    path = workspace / "loganalyzer/enrich.py"
    text = path.read_text()
    uri = await open_file(client, path)
    await diagnostics_for(client, uri, 1)
    hover = await hover_at(client, uri, text, "edit_distance")
    # The figures on one line, as the lens has them (no cramped four-column table).
    assert "|---" not in hover, hover
    figures = re.search(r"\*\*[\d.]+%\*\* total · \*\*[\d.]+%\*\* self.* · ([\d,]+) calls", hover)
    assert figures and "," in figures[1], hover  # 222,907 calls: thousands separated
    # Callees: the share first (never cut off by a long name), readable names, no 0.0 % rows.
    callees = hover.split("**Callees**")[1].split("**Hottest lines**")[0]
    rows = [line for line in callees.splitlines() if line.startswith("- ")]
    assert rows and all(re.match(r"- \d+\.\d% · `", row) for row in rows), callees
    assert "`builtins.len`" in callees and "<built-in" not in callees, callees
    assert not re.search(r"(?<![\d.])0\.0%", hover), hover  # (10.0% is fine)
    once = await hover_at(client, uri, text, "flag_blocked")
    assert "· 1 call" in once and "1 calls" not in once, once
    diagnostic = next(
        d for d in client.diagnostics[uri] if d.code == "PP001" and "flag_blocked" in d.message
    )
    assert "1 call" in diagnostic.message and "1 calls" not in diagnostic.message


async def fix_action(client: LanguageClient, uri: str, code: str) -> types.CodeAction:
    """perfpilot's quick fix for the first `code` diagnostic of the document."""
    await wait_until(lambda: any(d.code == code for d in client.diagnostics.get(uri, [])))
    diagnostic = next(d for d in client.diagnostics[uri] if d.code == code)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return next(
        a
        for a in actions or []
        if a.title.startswith(f"perfpilot ({code})") and "Ignore" not in a.title
    )


async def test_unsafe_fix_needs_confirmation_in_vscode(
    client: LanguageClient, workspace: Path
) -> None:
    await start(client, workspace, {"perfpilot": {"debounce": 50}})
    uri = await open_file(client, workspace / "loganalyzer/enrich.py")
    action = await client.code_action_resolve_async(await fix_action(client, uri, "PP101"))
    assert "review the diff" in action.title
    change = action.edit.document_changes[0]
    assert change.edits and all(
        isinstance(e, types.AnnotatedTextEdit) and e.annotation_id for e in change.edits
    )
    annotation = action.edit.change_annotations[change.edits[0].annotation_id]
    assert annotation.needs_confirmation is True, annotation
    # A safe fix stays one click: a plain edit, no confirmation.
    parsing = await open_file(client, workspace / "loganalyzer/parsing.py")
    safe = await client.code_action_resolve_async(await fix_action(client, parsing, "PP105"))
    assert not safe.edit.change_annotations
    assert all(
        not isinstance(e, types.AnnotatedTextEdit) for e in safe.edit.document_changes[0].edits
    )


async def test_unsafe_fix_shows_its_diff_first_elsewhere(
    client: LanguageClient, workspace: Path
) -> None:
    asked: list[types.ShowMessageRequestParams] = []
    applied: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        asked.append(params)
        return types.MessageActionItem(title="Apply")

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    # lsprotocol reads any action with a `command` key as a Command, dropping a CodeAction's
    # kind, data and edit; Neovim reads the JSON as sent. Read it as the protocol says.
    def command_or_action(obj: dict, _: type) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)

    converter = client.protocol._converter
    # The key must be typing.Union, as lsprotocol registers it (X | Y is another type).
    union = Union[types.Command, types.CodeAction]  # noqa: UP007
    converter.register_structure_hook(union, command_or_action)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim@v0.11.0"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="example")],
            initialization_options={"perfpilot": {"debounce": 50}},
        )
    )
    uri = await open_file(client, workspace / "loganalyzer/enrich.py")
    action = await fix_action(client, uri, "PP101")
    # No edit to apply blindly, before or after resolve: a command that shows the diff first.
    assert action.edit is None and action.command.command == "perfpilot.reviewFix"
    assert (await client.code_action_resolve_async(action)).edit is None
    preview = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="perfpilot.fixPreview", arguments=action.command.arguments
        )
    )
    assert (
        "+@functools.lru_cache" in preview["diff"].replace(" ", "")
        or "lru_cache" in preview["diff"]
    )
    assert preview["applicability"] == "unsafe" and preview["edit"]["documentChanges"]
    # A client without its own review: the server asks, with the diff, and applies on Apply.
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="perfpilot.reviewFix", arguments=action.command.arguments
        )
    )
    assert result == {"applied": True}
    assert asked and "lru_cache" in asked[0].message and "@@" in asked[0].message
    assert [a.title for a in asked[0].actions] == ["Apply", "Cancel"]
    assert len(applied) == 1 and applied[0].edit.document_changes
