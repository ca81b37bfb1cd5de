"""Quick fixes, fix-all, ignore comments and fix diffs: code actions over the skills' fixes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path

from perfpilot.server.lsp import convert
from perfpilot.server.lsp.app import PerfpilotServer
from perfpilot.server.lsp.handlers import optimize, regressions, verify
from perfpilot.server.lsp.handlers.ignore_line import ignore_action
from perfpilot.skills.verdicts import any_verdicts, cached_verdict
from perfpilot.tools.edits import apply_edits, line_edits, unified_diff
from perfpilot.tools.generated import is_generated
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.model import Applicability, Fix
from perfpilot.tools.private_files import write_private

if TYPE_CHECKING:
    # The skills' runner loads with their first pass (after the first publish), not at start-up.
    from perfpilot.skills.runner import Found

FIX_ALL = types.CodeActionKind.SourceFixAll.value + ".perfpilot"
SHOW_FIX_DIFF = "perfpilot.showFixDiff"
# An unsafe fix is applied only after its diff was shown. Clients with change annotations get
# an edit that needs confirmation (VS Code opens its refactor preview); others get this command,
# which a client may run itself (the Neovim plugin shows the diff in a split) or leave to the
# server (a message with the diff and Apply/Cancel). FIX_PREVIEW returns the diff and the edit.
REVIEW_FIX = "perfpilot.reviewFix"
FIX_PREVIEW = "perfpilot.fixPreview"
UNSAFE_ANNOTATION = "perfpilot.unsafe"
KINDS: list[types.CodeActionKind | str] = [types.CodeActionKind.QuickFix, FIX_ALL]


def register(server: PerfpilotServer) -> None:
    """Register code actions, their resolution, and the diff command."""

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True),
    )
    def code_action(
        ls: PerfpilotServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        document = ls.documents.get(uri)
        if document is None:
            return None
        only = params.context.only
        actions: list[types.CodeAction] = []
        if _wants(only, types.CodeActionKind.QuickFix):
            for found in ls.offered(uri):
                if _overlaps(found, params.range):
                    actions += _quick_fixes(ls, uri, document, found)
            actions += optimize.code_actions(ls, params)  # "Optimize with AI", its results
            actions += regressions.code_actions(ls, params)  # PP2xx: root cause, mitigation
        if _wants(only, FIX_ALL) and only:
            # Fix-all only on request (`only` names it): computing it on every cursor move
            # would redo every fix of the file.
            actions.append(_fix_all_action(ls, uri, document))
        return actions or None

    @server.feature(types.CODE_ACTION_RESOLVE)
    def resolve(ls: PerfpilotServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        uri = str(data.get("uri", ""))
        document = ls.documents.get(uri)
        if document is None:
            raise JsonRpcInvalidParams(f"perfpilot: {uri or 'the document'} is not open")
        if data.get("fixAll"):
            action.edit = _fix_all_edit(ls, uri, document)
            return action
        if data.get("review"):
            return action  # the command shows the diff first; no edit to apply blindly
        found = _find(ls, uri, data)
        fix = _fix(ls, uri, document, found)
        if not fix.applicable:
            raise JsonRpcInvalidParams(f"perfpilot: fix refused: {fix.refusal}")
        action.edit = _workspace_edit(document, uri, fix, confirm=_needs_confirmation(fix))
        return action

    @server.command(SHOW_FIX_DIFF)
    async def show_fix_diff(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        data = args[0] if args and isinstance(args[0], dict) else {}
        uri = str(data.get("uri", ""))
        document = ls.documents.get(uri)
        if document is None:
            return {"ok": False, "reason": "the document is not open"}
        found = _find(ls, uri, data)
        fix = verify.with_cached_verdict(ls, document, found, _fix(ls, uri, document, found))
        if not fix.edits:
            ls.show(types.MessageType.Warning, f"perfpilot: {fix.title}: {fix.refusal}")
            return {"ok": False, "reason": fix.refusal}
        after = apply_edits(document.text, fix.edits)
        diff = unified_diff(document.text, after, os.path.basename(document.path))
        verdict = fix.verdict.summary if fix.verdict else None
        header = f"# perfpilot verify: {verdict}\n" if verdict else ""
        path = _write_diff(header + diff, found)
        window = ls.client_capabilities.window
        if window and window.show_document and window.show_document.support:
            await ls.window_show_document_async(
                types.ShowDocumentParams(uri=from_fs_path(path) or path, take_focus=True)
            )
        return {"ok": True, "diff": diff, "path": path, "verdict": verdict}


def _quick_fixes(
    ls: PerfpilotServer, uri: str, document: LiveDocument, found: Found
) -> list[types.CodeAction]:
    """The quick fix (or its diff, or why it is refused) and the ignore action."""
    diagnostic = _diagnostic_of(document, found)
    actions = _fix_actions(ls, uri, document, found, diagnostic)
    ignore = ignore_action(document, uri, found, diagnostic)
    return [*actions, ignore] if ignore is not None else actions


def _fix_actions(
    ls: PerfpilotServer,
    uri: str,
    document: LiveDocument,
    found: Found,
    diagnostic: types.Diagnostic,
) -> list[types.CodeAction]:
    """The fix as a quick fix, a "Show diff", or a disabled action with its refusal."""
    code = found.skill.code
    data = {
        "uri": uri,
        "version": document.version,
        "skill": found.skill.name,
        "key": found.opportunity.key,
        "qualname": found.function.qualname,
    }
    actions: list[types.CodeAction] = []
    if found.claim is Applicability.DISPLAY_ONLY:
        # Shown, never applied: the diff is built and validated when the user asks for it.
        from perfpilot.skills.runner import fix_title

        return [_show_diff_action(code, fix_title(found), diagnostic, data)]
    fix = verify.with_cached_verdict(ls, document, found, _fix(ls, uri, document, found))
    title = f"perfpilot ({code}): {fix.title}{_verdict_suffix(fix)}"
    if not fix.applicable:
        reason = f"not offered: {fix.refusal}"
        if _supports_disabled(ls):
            actions.append(
                types.CodeAction(
                    title=title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    disabled=types.CodeActionDisabled(reason=reason),
                )
            )
    elif fix.applicability is Applicability.DISPLAY_ONLY:
        actions.append(_show_diff_action(code, fix.title + _verdict_suffix(fix), diagnostic, data))
    else:
        unsafe = _needs_confirmation(fix)
        action = types.CodeAction(
            title=title + (" (unsafe: review the diff)" if unsafe else ""),
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            is_preferred=not unsafe,
            data=data,
        )
        if unsafe and not _supports_confirmation(ls):
            action.data = {**data, "review": True}
            action.command = types.Command(
                title="Review the diff, then apply", command=REVIEW_FIX, arguments=[data]
            )
        elif not _supports_resolve(ls):
            action.edit = _workspace_edit(document, uri, fix, confirm=unsafe)
        actions.append(action)
    return actions


def _needs_confirmation(fix: Fix) -> bool:
    """Unsafe fixes are applied after a person has seen their diff; safe ones in one click."""
    return fix.applicability is Applicability.UNSAFE


def _verdict_suffix(fix: Fix) -> str:
    """What verification said, for an action title: ` [verified: faster 1.80x ...]`."""
    if fix.verdict is None:
        return ""
    summary = fix.verdict.summary
    return f" [verified: {summary[:120]}{'...' if len(summary) > 120 else ''}]"


def _show_diff_action(
    code: str | None, title: str, diagnostic: types.Diagnostic, data: dict[str, Any]
) -> types.CodeAction:
    return types.CodeAction(
        title=f"perfpilot ({code}): Show diff: {title}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        command=types.Command(title="Show diff", command=SHOW_FIX_DIFF, arguments=[data]),
    )


def _fix(ls: PerfpilotServer, uri: str, document: LiveDocument, found: Found) -> Fix:
    """The validated fix of an opportunity, cached for this document version."""
    key = (
        uri,
        document.version,
        ls.generation,
        found.skill.name,
        found.function.qualname,
        found.opportunity.key,
        found.claim,  # a faster verdict may raise it (skills/runner.py): build again then
    )
    cache = ls.fix_cache
    if key not in cache:
        if len(cache) > 256:
            cache.clear()
        from perfpilot.skills.runner import build_fix

        cache[key] = build_fix(document.text, found, root=str(ls.root()))
    return cache[key]


def _find(ls: PerfpilotServer, uri: str, data: dict[str, Any]) -> Found:
    """The opportunity a code action's data names, found again in the current text."""
    for found in ls.offered(uri):
        if (
            found.skill.name == data.get("skill")
            and found.opportunity.key == data.get("key")
            and found.function.qualname == data.get("qualname")
        ):
            return found
    raise JsonRpcInvalidParams(
        "perfpilot: the code changed and this fix no longer applies; ask for fixes again"
    )


def _workspace_edit(
    document: LiveDocument, uri: str, fix: Fix, confirm: bool = False
) -> types.WorkspaceEdit:
    """Minimal edits against the version they were computed for (clients refuse stale ones).

    `confirm`: every edit carries a change annotation that needs confirmation, so the client
    shows the change (VS Code: the refactor preview) before applying it.
    """
    edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        convert.text_edit(document, e) for e in fix.edits
    ]
    annotations = None
    if confirm:
        edits = [
            types.AnnotatedTextEdit(
                range=e.range, new_text=e.new_text, annotation_id=UNSAFE_ANNOTATION
            )
            for e in edits
            if isinstance(e, types.TextEdit)
        ]
        annotations = {
            UNSAFE_ANNOTATION: types.ChangeAnnotation(
                label=f"perfpilot: {fix.title}",
                needs_confirmation=True,
                description="unsafe: it may change behaviour; review the diff",
            )
        }
    return convert.versioned_edit(uri, document.version, edits, annotations)


def _fix_all_action(ls: PerfpilotServer, uri: str, document: LiveDocument) -> types.CodeAction:
    action = types.CodeAction(
        title="perfpilot: Fix all safe performance issues"
        + (" (and unsafe ones)" if ls.settings.unsafe_fixes else ""),
        kind=FIX_ALL,
        data={"uri": uri, "version": document.version, "fixAll": True},
    )
    if not _supports_resolve(ls):
        action.edit = _fix_all_edit(ls, uri, document)
    return action


def _fix_all_edit(ls: PerfpilotServer, uri: str, document: LiveDocument) -> types.WorkspaceEdit:
    """Every SAFE fix (UNSAFE too with the unsafeFixes setting), applied in rounds."""
    from perfpilot.skills.fixing import Evidence, fix_text  # fix-all only: not at start-up

    hot = {
        a.function.qualname: Evidence(a.hot.own_share, a.hot.mapped.calls)
        for a in ls.annotations(uri)
    }
    if not ls.settings.include_generated and is_generated(document.text):
        hot = {}  # a generated file's fixes are lost at its next generation
    minimum = Applicability.UNSAFE if ls.settings.unsafe_fixes else Applicability.SAFE
    skills = ls.skill_set().with_transforms()
    # A fix verified slower or different (cached verdict) stays out; unverified ones go in.
    # With no verdict known, disjoint fixes are applied in batches (fix_text's fast path).
    known = _with_known_verdict if any_verdicts() else None
    result = ls.skill_worker.locked(
        lambda: fix_text(
            document.text,
            document.path,
            hot,
            skills,
            minimum=minimum,
            root=str(ls.root()),
            verify=known,
            cache=ls.find_cache,  # the skills already ran on every unchanged hot function
            include_unproven=ls.include_unproven,
            prove_unproven=False,  # `known` looks verdicts up: it measures nothing new
        )
    )()
    left_out = [*result.refused, *result.held]
    if left_out:
        refused = "; ".join(f"{title}: {reason}" for title, reason in left_out[:3])
        ls.show(types.MessageType.Warning, f"perfpilot: fix-all left out: {refused}")
    fix = Fix("fix all", minimum, line_edits(document.text, result.text), ())
    return _workspace_edit(document, uri, fix)


def _with_known_verdict(text: str, found: Found, fix: Fix) -> Fix:
    verdict = cached_verdict(text, found, fix)
    if verdict is None:
        return fix
    from perfpilot.tools.verify.verdict import with_verdict  # loaded: a verdict exists

    return with_verdict(fix, verdict)


def _diagnostic_of(document: LiveDocument, found: Found) -> types.Diagnostic:
    from perfpilot.skills.runner import finding_of

    return convert.diagnostic(finding_of(found), document, document.version)


def _overlaps(found: Found, selection: types.Range) -> bool:
    opportunity = found.opportunity
    first, last = opportunity.line - 1, opportunity.end_line - 1
    return first <= selection.end.line and selection.start.line <= last


def _wants(only: list[types.CodeActionKind | str] | None, kind: types.CodeActionKind | str) -> bool:
    if not only:
        return True
    wanted = str(getattr(kind, "value", kind))
    for entry in only:
        prefix = str(getattr(entry, "value", entry))
        if wanted == prefix or wanted.startswith(prefix + "."):
            return True
    return False


def _supports_resolve(ls: PerfpilotServer) -> bool:
    document = ls.client_capabilities.text_document
    code_action = document.code_action if document else None
    support = code_action.resolve_support if code_action else None
    return bool(support and "edit" in support.properties)


def _supports_confirmation(ls: PerfpilotServer) -> bool:
    """The client shows edits whose change annotation needs confirmation before applying."""
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace else None
    return bool(edit and edit.change_annotation_support and edit.document_changes)


def _supports_disabled(ls: PerfpilotServer) -> bool:
    document = ls.client_capabilities.text_document
    code_action = document.code_action if document else None
    return bool(code_action and code_action.disabled_support)


def _write_diff(diff: str, found: Found) -> str:
    return write_private(f"{found.function.qualname}-{found.skill.name}", ".diff", diff)
