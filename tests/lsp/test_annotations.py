"""Hot functions in the editor: diagnostics, lenses, hovers, hints, and how they follow edits."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

ENRICH = "loganalyzer/enrich.py"


def uri_of(client: LanguageClient, relpath: str) -> str:
    return (client.workspace_root / relpath).as_uri()  # type: ignore[attr-defined]


def def_row(text: str, name: str) -> int:
    for row, line in enumerate(text.splitlines()):
        if re.match(rf"\s*(async )?def {name}\(", line):
            return row
    raise AssertionError(name)


async def open_document(client: LanguageClient, relpath: str) -> tuple[str, str]:
    uri = uri_of(client, relpath)
    text = (client.workspace_root / relpath).read_text()  # type: ignore[attr-defined]
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    return uri, text


async def wait_until(condition: Callable[[], object], timeout: float = 30) -> None:
    """Poll until `condition()` holds: notifications may arrive before anyone waits for them."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the server")
        await asyncio.sleep(0.02)


async def diagnostics_where(
    client: LanguageClient, uri: str, condition: Callable[[list[types.Diagnostic]], bool]
) -> list[types.Diagnostic]:
    """The document's latest PP001 diagnostics, once they satisfy `condition`."""
    await wait_until(
        lambda: uri in client.diagnostics and condition(by_code(client.diagnostics[uri]))
    )
    return by_code(client.diagnostics[uri])


async def message_where(client: LanguageClient, text: str) -> types.ShowMessageParams:
    """The first window/showMessage containing `text`."""
    await wait_until(lambda: any(text in m.message for m in client.messages))
    return next(m for m in client.messages if text in m.message)


async def diagnostics_for(client: LanguageClient, uri: str, version: int) -> list[types.Diagnostic]:
    """The first non-empty diagnostics published for `uri` (the profile is loaded at start)."""
    return await diagnostics_where(client, uri, bool)


def by_code(diagnostics: list[types.Diagnostic], code: str = "PP001") -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def edit(
    client: LanguageClient,
    uri: str,
    version: int,
    row: int,
    col: int,
    end_row: int,
    end_col: int,
    text: str,
) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(row, col), types.Position(end_row, end_col)),
                    text=text,
                )
            ],
        )
    )


@pytest.mark.asyncio
async def test_open_shows_hot_functions(client: LanguageClient) -> None:
    uri, text = await open_document(client, ENRICH)
    diagnostics = by_code(await diagnostics_for(client, uri, 1))
    assert diagnostics
    top = next(d for d in diagnostics if "`edit_distance`" in d.message)
    row = def_row(text, "edit_distance")
    line = text.splitlines()[row]
    assert top.range.start == types.Position(row, line.index("edit_distance"))
    assert top.range.end.character - top.range.start.character == len("edit_distance")
    assert top.source == "perfpilot" and top.severity == types.DiagnosticSeverity.Information
    assert re.search(r"\d+\.\d% self.*\d+\.\d% total, [\d,]+ calls", top.message)


@pytest.mark.asyncio
async def test_lens_hover_and_hot_functions_command(client: LanguageClient) -> None:
    uri, text = await open_document(client, ENRICH)
    await diagnostics_for(client, uri, 1)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    row = def_row(text, "edit_distance")
    lens = next(lens for lens in lenses if lens.range.start.line == row)
    assert re.fullmatch(
        r"perfpilot: \d+\.\d% total · \d+\.\d% self( · \d+\.\d% in libraries)? · [\d,]+ calls",
        lens.command.title,
    )
    column = text.splitlines()[row].index("edit_distance") + 3
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(row, column),
        )
    )
    assert hover is not None and "`edit_distance`" in hover.contents.value
    assert "**Callers**" in hover.contents.value and "guess_bot" in hover.contents.value
    nothing = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 0)
        )
    )
    assert nothing is None
    ranked = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.hotFunctions")
    )
    assert ranked[0]["qualname"] == "edit_distance" and ranked[0]["rank"] == 1
    assert ranked[0]["uri"] == uri and ranked[0]["range"]["start"]["line"] == row
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))


@pytest.mark.asyncio
async def test_annotations_follow_edits(client: LanguageClient) -> None:
    uri, text = await open_document(client, ENRICH)
    await diagnostics_for(client, uri, 1)
    row = def_row(text, "edit_distance")
    # 20 lines above the hot function: its diagnostic and lens move with it.
    published = asyncio.ensure_future(
        client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    )
    edit(client, uri, 2, 0, 0, 0, 0, "# padding\n" * 20)
    # Only results computed for the current version are published.
    assert (await asyncio.wait_for(published, 20)).version == 2
    moved = await diagnostics_where(
        client, uri, lambda ds: any(d.range.start.line == row + 20 for d in ds)
    )
    hot = next(d for d in moved if "`edit_distance`" in d.message)
    assert hot.range.start.line == row + 20 and "changed since profile" not in hot.message
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert any(lens.range.start.line == row + 20 for lens in lenses)
    # Change the body: the figures describe older code, and the message says so.
    body_row = row + 20 + 2
    edit(client, uri, 3, body_row, 0, body_row, 0, "    limit = max(limit, 0)\n")
    changed = await diagnostics_where(
        client, uri, lambda ds: any("changed since profile" in d.message for d in ds)
    )
    hot = next(d for d in changed if "(changed since profile)" in d.message)
    assert "`edit_distance`" in hot.message
    # Rename it: the annotation goes.
    line = row + 20
    start = (text.splitlines()[row]).index("edit_distance")
    edit(client, uri, 4, line, start, line, start + len("edit_distance"), "levenshtein")
    renamed = await diagnostics_where(
        client, uri, lambda ds: not any("`edit_distance`" in d.message for d in ds)
    )
    assert renamed  # the other hot functions are still annotated


@pytest.mark.asyncio
async def test_bad_profile_keeps_the_previous_and_clear_removes(client: LanguageClient) -> None:
    uri, _ = await open_document(client, ENRICH)
    assert by_code(await diagnostics_for(client, uri, 1))
    bad = client.workspace_root / "bad.prof"  # type: ignore[attr-defined]
    bad.write_bytes(b"\x7b\x29\x03garbage")
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.loadProfile", arguments=[str(bad)])
    )
    assert result["loaded"] is False
    message = await message_where(client, "bad.prof")
    assert message.type == types.MessageType.Error and "cannot load profile" in message.message
    assert by_code(client.diagnostics[uri])  # the previous profile still shows
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.clearProfiles")
    )
    await diagnostics_where(client, uri, lambda ds: ds == [])
    # Unknown documents and positions outside any function answer quietly.
    missing = uri_of(client, "nope.py")
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=missing))
    )
    assert not lenses


@pytest.mark.asyncio
async def test_settings_change_applies_and_invalid_is_reported(client: LanguageClient) -> None:
    uri, _ = await open_document(client, ENRICH)
    before = by_code(await diagnostics_for(client, uri, 1))
    client.set_configuration({"perfpilot": {"threshold": 20.0}})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"perfpilot": {"threshold": 20.0}})
    )
    after = await diagnostics_where(client, uri, lambda ds: 0 < len(ds) < len(before))
    client.set_configuration({"perfpilot": {"threshold": "high"}})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"perfpilot": {"threshold": "high"}})
    )
    message = await message_where(client, "threshold")
    assert message.type == types.MessageType.Error and "invalid settings" in message.message
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert len(lenses) == len(after)  # the previous (valid) settings are kept


@pytest.mark.asyncio
async def test_select_and_ignore_settings_narrow_the_diagnostics(client: LanguageClient) -> None:
    """`select`/`ignore` (settings or [tool.perfpilot]) as `check --select/--ignore`."""
    opted_in = {"skills": {"includeUnproven": True}}  # every skill fires, held back or not
    client.set_configuration({"perfpilot": opted_in})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"perfpilot": opted_in})
    )
    uri, _ = await open_document(client, "loganalyzer/parsing.py")
    await wait_until(lambda: {"PP001", "PP105"} <= codes_shown(client, uri))
    skills = {code for code in codes_shown(client, uri) if code.startswith("PP1")}
    for narrowing, wanted in (({"ignore": ["PP001"]}, skills), ({"select": ["PP001"]}, {"PP001"})):
        settings = {**opted_in, **narrowing}
        client.set_configuration({"perfpilot": settings})
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"perfpilot": settings})
        )
        try:
            await wait_until(lambda w=wanted: codes_shown(client, uri) == w)  # type: ignore[misc]
        except AssertionError:
            raise AssertionError((narrowing, wanted, codes_shown(client, uri))) from None
    titles = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(0, 0), types.Position(400, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not [a for a in titles or [] if any(code in a.title for code in skills)]


def codes_shown(client: LanguageClient, uri: str) -> set[str]:
    return {str(d.code) for d in client.diagnostics.get(uri, [])}
