"""Profiles in the editor: re-profiling refreshes by itself, profileRun with progress and cancel."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.conftest import py_spy_record
from tests.lsp.test_annotations import (
    ENRICH,
    diagnostics_for,
    diagnostics_where,
    message_where,
    open_document,
    wait_until,
)


@pytest.mark.asyncio
async def test_reprofiling_refreshes_annotations(client: LanguageClient) -> None:
    root = client.workspace_root  # type: ignore[attr-defined]
    uri, _ = await open_document(client, ENRICH)
    assert await diagnostics_for(client, uri, 1)
    # A newer profile of a workload that never calls the fuzzy matcher: edit_distance drops out.
    (root / "quick.py").write_text(
        "from loganalyzer.parsing import parse_line\n"
        "LINE = ('1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] '\n"
        '        \'"GET /a HTTP/1.1" 200 5 "-" "x" 7\')\n'
        "for i in range(60000):\n"
        "    parse_line(LINE)\n"
    )
    stored = sorted((root / ".perfpilot" / "profiles").iterdir())
    time.sleep(0.01)
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "perfpilot.server", "profile", "--", "python3", "quick.py", cwd=root
    )
    assert await done.wait() == 0
    new = sorted(set((root / ".perfpilot" / "profiles").iterdir()) - set(stored))
    assert new
    if "visual-studio-code" in client.client_name:  # type: ignore[attr-defined]
        # VS Code watches files for the server (dynamic registration): tell it, as VS Code would.
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=new[0].as_uri(), type=types.FileChangeType.Created)]
            )
        )
    # Neovim does not: the server's own watcher must notice within a few seconds.
    # enrich.py is not hot in the new profile: its annotations go.
    await diagnostics_where(
        client, uri, lambda ds: not any("`edit_distance`" in d.message for d in ds)
    )


@pytest.mark.asyncio
async def test_profile_run_loads_the_result(client: LanguageClient) -> None:
    uri, _ = await open_document(client, ENRICH)
    await diagnostics_for(client, uri, 1)
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.clearProfiles")
    )
    await diagnostics_where(client, uri, lambda ds: ds == [])
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="perfpilot.profileRun", arguments=["python3 workload.py --lines 3000"]
        )
    )
    assert result["ok"] is True and result["profile"].endswith(".prof")
    await diagnostics_where(client, uri, lambda ds: any("`edit_distance`" in d.message for d in ds))
    tokens = list(client.progress_reports)
    assert tokens, "profileRun reports work-done progress"
    reports = client.progress_reports[tokens[-1]]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)


@pytest.mark.asyncio
async def test_profile_run_failure_is_reported(client: LanguageClient) -> None:
    root = client.workspace_root  # type: ignore[attr-defined]
    (root / "crash.py").write_text("raise RuntimeError('boom')\n")
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.profileRun", arguments=["python3 crash.py"])
    )
    assert result["ok"] is False and result["returncode"] == 1
    message = await message_where(client, "exited with status 1")
    assert "boom" in message.message


@pytest.mark.asyncio
async def test_profile_run_can_be_cancelled(client: LanguageClient) -> None:
    root = client.workspace_root  # type: ignore[attr-defined]
    (root / "forever.py").write_text("import time\nwhile True:\n    time.sleep(0.05)\n")
    request = asyncio.ensure_future(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="perfpilot.profileRun", arguments=["python3 forever.py"]
            )
        )
    )
    await wait_until(lambda: client.progress_reports)
    token = next(iter(client.progress_reports))
    started = time.monotonic()
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(request, timeout=20)
    assert result["cancelled"] is True and time.monotonic() - started < 10
    assert isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd)


@pytest.mark.asyncio
async def test_line_heat_from_a_sampling_profile(client: LanguageClient) -> None:
    root = client.workspace_root  # type: ignore[attr-defined]
    output = root / "spy.speedscope.json"
    py_spy_record(["python3", "workload.py"], output, cwd=root)
    uri, text = await open_document(client, ENRICH)
    await diagnostics_for(client, uri, 1)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.loadProfile", arguments=[str(output)])
    )
    assert result["loaded"] is True
    lines = text.splitlines()
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(0, 0), types.Position(len(lines), 0)),
        )
    )
    assert hints, "py-spy records lines: hot lines get hints"
    for hint in hints:
        assert hint.position.character == len(lines[hint.position.line])
        assert hint.label.endswith("%")
        # What line-heat clients read: the share, to two decimals, matching the label.
        assert abs(hint.data["percent"] - float(hint.label[:-1])) <= 0.051
    hint_rows = {h.position.line for h in hints}
    start = next(i for i, line in enumerate(lines) if line.startswith("def edit_distance("))
    assert any(start < row < start + 20 for row in hint_rows)
