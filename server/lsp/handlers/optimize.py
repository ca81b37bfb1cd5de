"""Optimize with AI: the LLM agent on a hot function, as a cancellable background job.

The LSP flow:
1. `textDocument/codeAction` on a hot function (its PP001 diagnostic) offers
   `perfpilot: Optimize with AI` when the user enabled the LLM (`perfpilot.llm.enabled` in
   the editor's user settings, or the user config file; never the workspace's pyproject).
   The action carries the command `perfpilot.optimize` with arguments `[uri, {line,
   character}]` (the VS Code client sends the same shape on its own).
2. `workspace/executeCommand perfpilot.optimize` runs the agent with work-done progress. It is
   cancelled by the progress UI (`window/workDoneProgress/cancel`) or by `$/cancelRequest` of
   the command. Tools read the buffer as it was when the job started.
3. A validated edit is kept for that document version; the command returns
   `{ok, title, diff, report}`, the diff and report open in a document when the client can
   show one, and the next code action request on the function offers
   `perfpilot (AI): Optimize ... (unsafe: review it)` with the versioned WorkspaceEdit: one
   click applies it. A failure comes back as `{ok: false, reason, report}` and a
   window/showMessage with the reason.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from perfpilot.server.lsp import convert
from perfpilot.server.lsp.app import PerfpilotServer
from perfpilot.server.lsp.progress import (
    begin_progress,
    cancelled_future,
    end_progress,
    report_progress,
)
from perfpilot.tools.config import ConfigError
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.llm_config import LLMSettings, llm_settings
from perfpilot.tools.model import Fix
from perfpilot.tools.private_files import write_private
from perfpilot.tools.user_config import user_config_path
from perfpilot.tools.validate.syntax import project_python

if TYPE_CHECKING:  # the LLM SDK is imported when the user first asks to optimize
    from perfpilot.skills.agent import AgentResult

OPTIMIZE = "perfpilot.optimize"
ACTION_TITLE = "perfpilot: Optimize with AI"


@dataclass(frozen=True)
class Stored:
    """A validated AI edit, for one version of one document."""

    uri: str
    version: int | None
    qualname: str
    fix: Fix
    diff: str


def register(server: PerfpilotServer) -> None:
    """Register the optimize command (its code actions come through fixes.code_action)."""
    server.optimized = {}  # type: ignore[attr-defined]  # (uri, qualname) -> Stored
    server.optimizing = {}  # type: ignore[attr-defined]  # (uri, qualname) -> task
    server.llm_warnings_shown = set()  # type: ignore[attr-defined]

    @server.command(OPTIMIZE)
    async def optimize(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        outer = _request_future(ls)
        return await _optimize(ls, list(args), outer)


def code_actions(ls: PerfpilotServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """`Optimize with AI` on hot functions in range, and the stored AI edits to apply."""
    uri = params.text_document.uri
    document = ls.documents.get(uri)
    if document is None:
        return []
    actions: list[types.CodeAction] = []
    stored: dict[tuple[str, str], Stored] = ls.optimized  # type: ignore[attr-defined]
    try:
        enabled = _llm(ls).enabled
    except ConfigError:
        enabled = False
    for annotation in ls.annotations(uri):
        function = annotation.function
        first, last = function.first_line - 1, function.end_line - 1
        if not (first <= params.range.end.line and params.range.start.line <= last):
            continue
        diagnostic = convert.diagnostic(annotation.finding, document)
        result = stored.get((uri, function.qualname))
        if result is not None and result.version == document.version:
            actions.append(_apply_action(document, result, diagnostic))
        if enabled:
            row = function.name_line - 1
            character = document.position_of_column(row, function.name_column)
            actions.append(
                types.CodeAction(
                    title=ACTION_TITLE,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    command=types.Command(
                        title=ACTION_TITLE,
                        command=OPTIMIZE,
                        arguments=[uri, {"line": row, "character": character}],
                    ),
                )
            )
    return actions


async def _optimize(
    ls: PerfpilotServer, args: list[Any], outer: Future[Any] | None
) -> dict[str, Any]:
    uri, line = _target_of(args)
    try:
        llm = _llm(ls)
    except ConfigError as exc:
        return _fail(ls, f"invalid llm settings: {exc}")
    if not llm.enabled:
        return _fail(
            ls,
            "Optimize with AI is off: turn on perfpilot.llm.enabled in your user settings (or"
            f" `enabled = true` under [llm] in {user_config_path()}); no code was sent",
            types.MessageType.Warning,
        )
    document = ls.documents.get(uri or "")
    path = to_fs_path(uri) if uri else None
    if document is None and path and os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as stream:
            document = LiveDocument(path, stream.read(), 0, "utf-16")
    if document is None or line is None:
        return _fail(ls, f"{OPTIMIZE} needs [uri, {{line, character}}] of an open Python file")
    function = document.module().innermost_at(line + 1, lambdas=False)
    if function is None:
        return _fail(ls, f"no function at line {line + 1} of {os.path.basename(document.path)}")
    key = (uri, function.qualname)
    running: dict[tuple[str, str], asyncio.Task[AgentResult]] = ls.optimizing  # type: ignore[attr-defined]
    if key in running:
        return _fail(ls, f"already optimizing `{function.qualname}`", types.MessageType.Info)
    version = document.version if uri in ls.documents else None
    # Imported on the first request: the agent's tools pull in the defense's SQLite history
    # and the remote-profile HTTP client, which a server that never optimizes does not need.
    from perfpilot.server.optimize_cli import report_text
    from perfpilot.tools.agent_tools import FunctionRef, ToolContext

    ctx = ToolContext(
        root=ls.root(),
        loaded=ls.session.loaded if ls.session else None,
        skills=ls.skill_set(),
        texts={document.path: document.text, os.path.realpath(document.path): document.text},
        python=project_python(str(ls.root())),
        target=FunctionRef(document.path, function.qualname),
    )
    token = await begin_progress(
        ls, "optimize", "perfpilot: Optimize with AI", f"`{function.qualname}` with {llm.model}"
    )

    def report(message: str) -> None:
        report_progress(ls, token, message)

    from perfpilot.skills.agent import run_agent

    job = asyncio.ensure_future(run_agent(ctx, llm, progress=report))
    running[key] = job
    cancelled = cancelled_future(ls, token)
    if cancelled is not None:
        # A cancel from the client's progress UI (the token's future ends on cancel or end).
        cancelled.add_done_callback(lambda _: job.cancel())
    if outer is not None:
        outer.add_done_callback(lambda f: job.cancel() if f.cancelled() else None)
    try:
        result = await job
    except asyncio.CancelledError:
        end_progress(ls, token, "cancelled")
        ls.show(types.MessageType.Info, f"perfpilot: Optimize with AI of `{key[1]}` cancelled")
        return {"ok": False, "cancelled": True}
    finally:
        running.pop(key, None)
    relative = ctx.relative(document.path)
    text = report_text(result, llm, relative)
    if not result.ok or result.fix is None or result.check is None:
        end_progress(ls, token, "no edit")
        return _fail(ls, f"no edit for `{key[1]}`: {result.error or 'refused'}", report=text)
    stored = Stored(uri, version, key[1], result.fix, result.check.diff)
    ls.optimized[key] = stored  # type: ignore[attr-defined]
    end_progress(ls, token, "edit ready: review it")
    await _show_diff(ls, stored, text)
    ls.show(
        types.MessageType.Info,
        f"perfpilot: an AI edit of `{key[1]}` passed validation (unsafe: review it); apply it"
        " from the function's quick fixes",
    )
    return {"ok": True, "title": result.fix.title, "diff": stored.diff, "report": text}


def _apply_action(
    document: LiveDocument, stored: Stored, diagnostic: types.Diagnostic
) -> types.CodeAction:
    edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        convert.text_edit(document, e) for e in stored.fix.edits
    ]
    return types.CodeAction(
        title=f"perfpilot (AI): {stored.fix.title} (unsafe: review it)",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=convert.versioned_edit(stored.uri, stored.version, edits),
    )


def _request_future(ls: PerfpilotServer) -> Future[Any] | None:
    """The pending executeCommand request this command answers, to follow $/cancelRequest.

    pygls runs a command inside the executeCommand request's future: cancelling that future
    (what $/cancelRequest does) does not reach the command. The newest pending request future
    that is not a task is ours: commands start as soon as their request is read.
    """
    pending = getattr(ls.protocol, "_request_futures", {})
    claimed = {id(t) for t in getattr(ls, "_claimed_requests", [])}
    candidates = [f for f in pending.values() if isinstance(f, Future) and not f.done()]
    candidates = [f for f in candidates if id(f) not in claimed]
    if not candidates:
        return None
    future = candidates[-1]
    ls._claimed_requests = [  # type: ignore[attr-defined]
        f for f in getattr(ls, "_claimed_requests", []) if not f.done()
    ] + [future]
    return future


async def _show_diff(ls: PerfpilotServer, stored: Stored, report: str) -> None:
    window = ls.client_capabilities.window
    if not (window and window.show_document and window.show_document.support):
        return
    header = "".join(f"# {line}\n" for line in report.splitlines())
    path = write_private(f"{stored.qualname}-ai", ".diff", header + stored.diff)
    await ls.window_show_document_async(
        types.ShowDocumentParams(uri=from_fs_path(path) or path, take_focus=False)
    )


def announce_llm_settings(ls: PerfpilotServer) -> None:
    """Tell the user now (not at the first code action) what was wrong with the LLM settings."""
    try:
        _llm(ls)
    except ConfigError as exc:
        ls.show(types.MessageType.Error, f"perfpilot: invalid llm settings: {exc}")


def _llm(ls: PerfpilotServer) -> LLMSettings:
    """The LLM settings in force; each warning (a workspace steering a user-only key) once."""
    settings = llm_settings(ls.root(), ls.raw_settings)
    shown: set[str] = ls.llm_warnings_shown  # type: ignore[attr-defined]
    for warning in settings.warnings:
        if warning not in shown:
            shown.add(warning)
            ls.show(types.MessageType.Warning, f"perfpilot: {warning}")
    return settings


def _target_of(args: list[Any]) -> tuple[str | None, int | None]:
    """`[uri, {line, character}]`, also nested one level (`[[uri, position]]`)."""
    if len(args) == 1 and isinstance(args[0], list | tuple):
        args = list(args[0])
    uri = args[0] if args and isinstance(args[0], str) else None
    position = args[1] if len(args) > 1 else None
    line = getattr(position, "line", None)
    if isinstance(position, dict):
        line = position.get("line")
    return uri, line if isinstance(line, int) and not isinstance(line, bool) else None


def _fail(
    ls: PerfpilotServer,
    reason: str,
    kind: types.MessageType = types.MessageType.Error,
    report: str | None = None,
) -> dict[str, Any]:
    ls.show(kind, f"perfpilot: Optimize with AI: {reason}")
    return {"ok": False, "reason": reason, **({"report": report} if report else {})}
