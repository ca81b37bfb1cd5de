"""PP2xx in the editor: the current branch's regressions, their root cause, a mitigation.

Diagnostics: the branch's comparison (tools.defense.branch) is computed off the event loop
and cached by the history database's files (WAL included) and HEAD; a publish only reads the
cache and, at most every CHECK_INTERVAL seconds, starts a background check of that key. When
the result changes, open documents are republished. Opening a file never waits for git.

Code actions on a PP201/PP202 diagnostic: "Show root cause" (`perfpilot.showRootCause`,
arguments `[uri, key]`) opens a Markdown document with the suspect commits and their hunks,
or shows the top one in a message; "Prepare mitigation" (`perfpilot.prepareMitigation`,
arguments `[uri, key]`) asks before it runs anything (the recorded workload and the test
command are the user's code), then runs the regression solver in a child process with
cancellable progress and reports the local branch it made. Settings: `perfpilot.regressions`
= {enabled (true), workload ("default"), base (the default branch), testCommand, repeat (5),
verify (false)}; the efficiency agent is a candidate when the user enabled the LLM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from perfpilot.server.lsp import convert
from perfpilot.server.lsp.app import PerfpilotServer
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.model import Finding
from perfpilot.tools.private_files import write_private

if TYPE_CHECKING:
    # The history, its comparison and the solver load with the first check, off the first
    # publish: a start-up that answers `initialize` without them (issue 15).
    from perfpilot.tools.defense.branch import BranchOptions, BranchRegressions

log = logging.getLogger(__name__)
SHOW_ROOT_CAUSE = "perfpilot.showRootCause"
PREPARE_MITIGATION = "perfpilot.prepareMitigation"
REGRESSIONS = "perfpilot.regressions"
CHECK_INTERVAL = 2.0  # seconds between two background checks of the cache key
ACTIONABLE = ("PP201", "PP202")


@dataclass(frozen=True, slots=True)
class RegressionSettings:
    """`perfpilot.regressions` from the editor."""

    enabled: bool = True
    workload: str = "default"
    base: str | None = None  # None: the default branch
    test_command: str | None = None
    repeat: int = 5
    verify: bool = False  # replay candidates on recorded calls (perfpilot capture)

    @property
    def options(self) -> BranchOptions:
        """Which workload to compare against which branch, as tools.defense.branch takes it."""
        from perfpilot.tools.defense.branch import BranchOptions

        return BranchOptions(self.workload, self.base)


class RegressionState:
    """The cached comparison and the background check that refreshes it."""

    def __init__(self) -> None:
        self.result: BranchRegressions | None = None
        self.checking: asyncio.Task[None] | None = None
        self.last_check = 0.0
        self.mitigating: set[str] = set()


def register(server: PerfpilotServer) -> None:
    """Register the PP2xx diagnostics source and the regression commands."""
    state = RegressionState()
    server.regressions = state  # type: ignore[attr-defined]
    server.diagnostic_sources.append(lambda uri, document: diagnostics(server, uri, document))

    @server.command(REGRESSIONS)
    async def regressions(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        """Recompute now (if the key changed) and return the branch's findings."""
        await refresh(ls, force=True)
        result = state.result
        if result is None:
            return {"findings": [], "reason": "regressions are off"}
        report = result.report
        return {
            "base": report.base if report else None,
            "head": report.head if report else None,
            "reason": result.reason,
            "findings": [
                {
                    "code": f.code,
                    "message": f.message,
                    "path": f.path,
                    "line": f.line,
                    "data": f.data,
                }
                for f in result.findings
            ],  # fmt: skip
        }

    @server.command(SHOW_ROOT_CAUSE)
    async def show_root_cause(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        return await _show_root_cause(ls, state, list(args))

    @server.command(PREPARE_MITIGATION)
    async def prepare_mitigation(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        uri, key = _arguments(list(args))
        result = state.result
        finding = _finding(result, key)
        if result is None or result.report is None or finding is None or key is None:
            return _fail(ls, f"no regression of {key or 'that function'} on this branch")
        if key in state.mitigating:
            return _fail(ls, f"already preparing a mitigation of {key}", types.MessageType.Info)
        state.mitigating.add(key)
        from perfpilot.server.lsp.handlers.regressions_jobs import prepare_mitigation_command

        try:
            return await prepare_mitigation_command(ls, result.report, key, settings_of(ls))
        finally:
            state.mitigating.discard(key)


def settings_of(ls: PerfpilotServer) -> RegressionSettings:
    """The editor's `perfpilot.regressions` table; wrong types fall back to the defaults."""
    raw = ls.raw_settings
    table = raw.get("regressions") if isinstance(raw, dict) else None
    if not isinstance(table, dict):
        return RegressionSettings()
    enabled = table.get("enabled", True)
    workload = table.get("workload") or "default"
    base = table.get("base") or None
    tests = table.get("testCommand") or None
    repeat = table.get("repeat", 5)
    verify = table.get("verify", False)
    return RegressionSettings(
        enabled=enabled if isinstance(enabled, bool) else True,
        workload=workload if isinstance(workload, str) else "default",
        base=base if isinstance(base, str) else None,
        test_command=tests if isinstance(tests, str) else None,
        repeat=repeat if isinstance(repeat, int) and 1 <= repeat <= 50 else 5,
        verify=verify is True,
    )


def diagnostics(ls: PerfpilotServer, uri: str, document: LiveDocument) -> list[types.Diagnostic]:
    """The cached PP2xx of this document, placed on the functions' def lines as they are now."""
    state: RegressionState = ls.regressions  # type: ignore[attr-defined]
    settings = settings_of(ls)
    if not settings.enabled:
        return []
    if state.checking is None and time.monotonic() - state.last_check > CHECK_INTERVAL:
        state.checking = asyncio.ensure_future(refresh(ls))
    result = state.result
    if result is None or result.stamp[0] != settings.options:
        return []
    path = os.path.realpath(document.path)
    out = []
    for finding in result.findings:
        if os.path.realpath(finding.path) != path:
            continue
        placed = _on_def_line(finding, document)
        if placed is not None:
            out.append(convert.diagnostic(placed, document))
    return out


async def refresh(ls: PerfpilotServer, force: bool = False) -> None:
    """Recompute the branch's comparison when its key changed; republish if the result did."""
    from perfpilot.tools.defense.branch import BranchRegressions, branch_regressions
    from perfpilot.tools.defense.branch import stamp as branch_stamp

    state: RegressionState = ls.regressions  # type: ignore[attr-defined]
    settings = settings_of(ls)
    root = ls.root()
    if force and state.checking is not None and state.checking is not asyncio.current_task():
        await asyncio.shield(state.checking)
    key: tuple[object, ...] = (settings.options,)
    try:
        key = await asyncio.to_thread(branch_stamp, root, settings.options)
        if state.result is not None and state.result.stamp == key:
            return
        result = await asyncio.to_thread(branch_regressions, root, settings.options)
    except Exception as exc:  # noqa: BLE001 - a bug here must not retry forever or kill the server
        log.exception("regressions of the branch failed")
        result = BranchRegressions(key, reason=f"failed: {exc}")
    finally:
        state.last_check = time.monotonic()
        if state.checking is asyncio.current_task():
            state.checking = None
    before = state.result.findings if state.result else []
    state.result = result
    if [(f.path, f.message) for f in before] != [(f.path, f.message) for f in result.findings]:
        for uri in list(ls.documents):
            ls.publish(uri)


def code_actions(ls: PerfpilotServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """ "Show root cause" and "Prepare mitigation" on the PP201/PP202 diagnostics in range."""
    uri = params.text_document.uri
    document = ls.documents.get(uri)
    if document is None or not hasattr(ls, "regressions"):
        return []
    actions = []
    for diagnostic in diagnostics(ls, uri, document):
        if diagnostic.code not in ACTIONABLE or not _touches(diagnostic.range, params.range):
            continue
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        key = f"{os.path.relpath(document.path, ls.root())}:{data.get('qualname')}"
        key = key.replace(os.sep, "/")
        name = data.get("qualname")
        for title, command in (
            (f"perfpilot: Show root cause of `{name}`", SHOW_ROOT_CAUSE),
            (f"perfpilot: Prepare mitigation for `{name}`", PREPARE_MITIGATION),
        ):
            actions.append(
                types.CodeAction(
                    title=title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    command=types.Command(title=title, command=command, arguments=[uri, key]),
                )
            )
    return actions


async def _show_root_cause(
    ls: PerfpilotServer, state: RegressionState, args: list[Any]
) -> dict[str, Any]:
    uri, key = _arguments(args)
    result = state.result
    finding = _finding(result, key)
    if result is None or finding is None or key is None:
        return _fail(ls, f"no regression of {key or 'that function'} on this branch")
    causes = result.causes(key)
    if not causes:
        return _fail(ls, f"no commit of the branch changed {key} or its callees",
                     types.MessageType.Info)  # fmt: skip
    top = causes[0].commit
    text = root_cause_markdown(finding, result, key)
    path = write_private(f"root-cause-{key.rsplit(':', 1)[-1]}", ".md", text)
    window = ls.client_capabilities.window
    if window and window.show_document and window.show_document.support:
        await ls.window_show_document_async(
            types.ShowDocumentParams(uri=from_fs_path(path) or path, take_focus=True)
        )
    else:
        ls.show(types.MessageType.Info, f"perfpilot: root cause of {key}: {top.sha[:10]}"
                f" by {top.author}, {top.date[:10]}: {top.summary}")  # fmt: skip
    return {"ok": True, "commit": top.sha, "author": top.author, "date": top.date,
            "summary": top.summary, "hunk": causes[0].hunk, "markdown": text,
            "path": path}  # fmt: skip


def root_cause_markdown(finding: Finding, result: BranchRegressions, key: str) -> str:
    """The suspects of one regression as Markdown: commit, author, date, message, hunk."""
    report = result.report
    assert report is not None
    qualname = finding.data.get("qualname")
    lines = [f"# Root cause of `{qualname}`", "", finding.message, "",
             f"Compared the recorded runs of {(report.base or '')[:10]} (base) and"
             f" {report.head[:10]} (head).", ""]  # fmt: skip
    for rank, culprit in enumerate(result.causes(key)[:3], start=1):
        commit = culprit.commit
        notes = [f"score {culprit.score:.2f}", f"{culprit.lines_changed} line(s) of code"]
        if culprit.touched_hot:
            notes.append("touched its hot lines")
        if culprit.bisected:
            notes.append("confirmed by bisection")
        lines += [f"## #{rank} {commit.sha[:10]} {commit.summary}", "",
                  f"- commit: `{commit.sha}`", f"- author: {commit.author}",
                  f"- date: {commit.date}", f"- {', '.join(notes)}", "",
                  "```diff", culprit.hunk, "```", ""]  # fmt: skip
    return "\n".join(lines)


def _on_def_line(finding: Finding, document: LiveDocument) -> Finding | None:
    """The finding moved to the function's name in the buffer (None if it is not there)."""
    qualname = str(finding.data.get("qualname", ""))
    functions = [f for f in document.module().by_qualname(qualname) if not f.is_lambda]
    if not functions:
        return None
    function = functions[-1]
    return Finding(finding.code, finding.message, finding.path, function.name_line,
                   function.name_column, function.name_line,
                   function.name_column + len(function.name), finding.severity,
                   finding.data)  # fmt: skip


def _finding(result: BranchRegressions | None, key: str | None) -> Finding | None:
    if result is None or key is None or ":" not in key:
        return None
    path, qualname = key.rsplit(":", 1)
    for finding in result.findings:
        if finding.code in ACTIONABLE and finding.data.get("qualname") == qualname and \
                finding.path.replace(os.sep, "/").endswith("/" + path):  # fmt: skip
            return finding
    return None


def _arguments(args: list[Any]) -> tuple[str | None, str | None]:
    """`[uri, key]`, also nested one level."""
    if len(args) == 1 and isinstance(args[0], list | tuple):
        args = list(args[0])
    uri = args[0] if args and isinstance(args[0], str) else None
    key = args[1] if len(args) > 1 and isinstance(args[1], str) else None
    return uri, key


def _touches(a: types.Range, b: types.Range) -> bool:
    return a.start.line <= b.end.line and b.start.line <= a.end.line


def _fail(
    ls: PerfpilotServer, reason: str, kind: types.MessageType = types.MessageType.Error
) -> dict[str, Any]:
    ls.show(kind, f"perfpilot: {reason}")
    return {"ok": False, "reason": reason}
