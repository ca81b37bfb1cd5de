"""Quick fixes over real LSP traffic: PP1xx diagnostics, resolve, fix-all, ignore, stale edits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp.test_annotations import by_code, diagnostics_where, edit, open_document, wait_until

PARSING = "loganalyzer/parsing.py"


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (ASCII text: characters are code units) the way an editor does."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        return min(starts[min(position.line, len(lines))] + position.character, len(text))

    for change in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        start, end = offset(change.range.start), offset(change.range.end)
        text = text[:start] + change.new_text + text[end:]
    return text


def single_document_edits(
    workspace_edit: types.WorkspaceEdit | None, uri: str, version: int
) -> list[types.TextEdit]:
    assert workspace_edit is not None and workspace_edit.document_changes
    (change,) = workspace_edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri and change.text_document.version == version
    return list(change.edits)  # type: ignore[arg-type]


async def regex_diagnostic(client: LanguageClient, uri: str) -> types.Diagnostic:
    found = await diagnostics_where(
        client, uri, lambda _: bool(by_code(client.diagnostics[uri], "PP105"))
    )
    assert found  # PP001 for parse_line comes with it
    (diagnostic,) = by_code(client.diagnostics[uri], "PP105")
    return diagnostic


async def quick_fixes(
    client: LanguageClient, uri: str, diagnostic: types.Diagnostic
) -> list[types.CodeAction]:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    return [a for a in actions or [] if isinstance(a, types.CodeAction)]


async def resolved_edit(client: LanguageClient, action: types.CodeAction) -> types.CodeAction:
    if action.edit is None:  # the client supports resolve: the edit comes lazily
        action = await client.code_action_resolve_async(action)
    return action


@pytest.mark.asyncio
async def test_regex_fix_round_trip(client: LanguageClient) -> None:
    uri, text = await open_document(client, PARSING)
    diagnostic = await regex_diagnostic(client, uri)
    assert diagnostic.source == "perfpilot"
    assert "re.match" in diagnostic.message and "parse_line" in diagnostic.message
    assert diagnostic.range.start.line == text.splitlines().index(
        next(line for line in text.splitlines() if "match = re.match(" in line)
    )
    actions = await quick_fixes(client, uri, diagnostic)
    titles = [a.title for a in actions]
    fix = next(a for a in actions if a.title.startswith("perfpilot (PP105): Precompile"))
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert "perfpilot (PP105): Ignore for this line" in titles
    fix = await resolved_edit(client, fix)
    fixed = apply_text_edits(text, single_document_edits(fix.edit, uri, 1))
    assert "_PARSE_LINE_RE = re.compile(" in fixed and "_PARSE_LINE_RE.match(" in fixed
    assert "re.match(" not in fixed
    compile(fixed, PARSING, "exec")
    # Minimal edits: everything outside the regex lines is untouched.
    assert fixed.count("\n") - text.count("\n") == 7 - 4


@pytest.mark.asyncio
async def test_fix_all_applies_safe_fixes(client: LanguageClient) -> None:
    uri, text = await open_document(client, PARSING)
    await regex_diagnostic(client, uri)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(
                diagnostics=[], only=[types.CodeActionKind.SourceFixAll]
            ),
        )
    )
    (fix_all,) = [a for a in actions or [] if isinstance(a, types.CodeAction)]
    assert fix_all.kind == "source.fixAll.perfpilot"
    fix_all = await resolved_edit(client, fix_all)
    fixed = apply_text_edits(text, single_document_edits(fix_all.edit, uri, 1))
    assert "_PARSE_LINE_RE.match(" in fixed
    compile(fixed, PARSING, "exec")


@pytest.mark.asyncio
async def test_ignore_comment_silences_the_finding(client: LanguageClient) -> None:
    uri, text = await open_document(client, PARSING)
    diagnostic = await regex_diagnostic(client, uri)
    actions = await quick_fixes(client, uri, diagnostic)
    ignore = next(a for a in actions if a.title.endswith("Ignore for this line"))
    edits = single_document_edits(ignore.edit, uri, 1)
    ignored = apply_text_edits(text, edits)
    assert "match = re.match(  # perfpilot: ignore[PP105]\n" in ignored
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=ignored)],
        )
    )
    await wait_until(
        lambda: (
            not by_code(client.diagnostics[uri], "PP105")
            and bool(by_code(client.diagnostics[uri], "PP001"))
        )
    )


@pytest.mark.asyncio
async def test_stale_fix_is_refused(client: LanguageClient) -> None:
    uri, text = await open_document(client, PARSING)
    diagnostic = await regex_diagnostic(client, uri)
    actions = await quick_fixes(client, uri, diagnostic)
    fix = next(a for a in actions if a.title.startswith("perfpilot (PP105): Precompile"))
    # The user rewrites the call before applying the fix.
    row = diagnostic.range.start.line
    line = text.splitlines()[row]
    column = line.index("re.match(")
    edit(client, uri, 2, row, column, row, column + len("re.match"), "_MY_RE.match")
    await wait_until(lambda: not by_code(client.diagnostics[uri], "PP105"))
    if fix.edit is None:
        with pytest.raises(JsonRpcException, match="no longer applies"):
            await client.code_action_resolve_async(fix)
    else:
        # Without resolve support the edit came with the action, pinned to version 1: an
        # editor refuses to apply it to version 2.
        assert single_document_edits(fix.edit, uri, 1)


ENRICH = "loganalyzer/enrich.py"


async def fix_all_text(client: LanguageClient, uri: str, text: str, version: int) -> str:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(
                diagnostics=[], only=[types.CodeActionKind.SourceFixAll]
            ),
        )
    )
    (fix_all,) = [a for a in actions or [] if isinstance(a, types.CodeAction)]
    fix_all = await resolved_edit(client, fix_all)
    return apply_text_edits(text, single_document_edits(fix_all.edit, uri, version))


@pytest.mark.asyncio
async def test_unsafe_fixes_setting_widens_fix_all(client: LanguageClient) -> None:
    uri, text = await open_document(client, ENRICH)
    await diagnostics_where(client, uri, lambda _: bool(by_code(client.diagnostics[uri], "PP101")))
    # edit_distance's memoization is unsafe: fix-all leaves it alone by default...
    memoized = "lru_cache(maxsize=4096)\ndef edit_distance("
    assert memoized not in await fix_all_text(client, uri, text, 1)
    client.set_configuration({"perfpilot": {"unsafeFixes": True}})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"perfpilot": {"unsafeFixes": True}})
    )
    # ...and applies it once the user opts in.
    for _ in range(100):
        fixed = await fix_all_text(client, uri, text, 1)
        if memoized in fixed:
            break
        await asyncio.sleep(0.05)
    assert "@functools.lru_cache(maxsize=4096)\ndef edit_distance(" in fixed
    assert "import functools\n" in fixed
    compile(fixed, ENRICH, "exec")


@pytest.mark.asyncio
async def test_show_fix_diff_opens_the_diff(client: LanguageClient) -> None:
    uri, _ = await open_document(client, ENRICH)
    await diagnostics_where(client, uri, lambda _: bool(by_code(client.diagnostics[uri], "PP101")))
    (memoize,) = by_code(client.diagnostics[uri], "PP101")
    data = {**memoize.data, "uri": uri}  # type: ignore[dict-item]
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="perfpilot.showFixDiff", arguments=[data])
    )
    assert result["ok"] is True
    assert "+@functools.lru_cache(maxsize=4096)" in result["diff"]
    assert result["diff"].startswith("--- a/enrich.py\n+++ b/enrich.py\n")
    window = client.capabilities.window  # type: ignore[attr-defined]
    if window and window.show_document and window.show_document.support:
        await wait_until(lambda: bool(client.shown_documents))
        (shown,) = client.shown_documents
        assert shown.uri.endswith(".diff") and shown.take_focus
        assert Path(shown.uri.removeprefix("file://")).read_text() == result["diff"]
