"""Verify fixes in the editor: a cancellable background job with work-done progress.

`workspace/executeCommand perfpilot.verify` with `[uri]` or `[uri, {line, character}]`
verifies the fixes of the document's hot functions (or of the function at that position) on
their recorded calls. Verdicts are cached by function and fix; code action titles and the
diff view then carry them. The job runs the workspace's code, so it starts only on that
command, or, when the user set `perfpilot.verify.run` to "onCodeAction", when fixes are
offered; never on opening a file or a folder.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from perfpilot.server.lsp.app import PerfpilotServer
from perfpilot.server.lsp.handlers.optimize import _request_future, _target_of
from perfpilot.server.lsp.progress import (
    begin_progress,
    cancelled_future,
    end_progress,
    report_progress,
)
from perfpilot.server.lsp.settings import VerifyOptions, verify_options
from perfpilot.skills.verdicts import cached_verdict
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.model import Fix

if TYPE_CHECKING:
    from perfpilot.skills.runner import Found

VERIFY = "perfpilot.verify"


def register(server: PerfpilotServer) -> None:
    """Register the verify command."""
    server.verifying = {}  # type: ignore[attr-defined]  # (uri, skill, qualname, key) -> task

    @server.command(VERIFY)
    async def verify(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        uri, line = _target_of(list(args))
        document = ls.documents.get(uri or "")
        if document is None or uri is None:
            return _fail(ls, f"{VERIFY} needs [uri] or [uri, {{line, character}}] of an open file")
        options = options_of(ls)
        if options.run == "never":
            return _fail(ls, "verification is off (perfpilot.verify.run = never)")
        found = [f for f in ls.opportunities(uri) if line is None or _contains(f, line)]
        if not found:
            return _fail(ls, "no fix opportunity to verify here", types.MessageType.Info)
        return await run_verification(ls, uri, document, found, options, _request_future(ls))


def options_of(ls: PerfpilotServer) -> VerifyOptions:
    """The verify settings in force (warnings shown once per settings change)."""
    options, _ = verify_options(ls.raw_settings)
    return options


def with_cached_verdict(ls: PerfpilotServer, document: LiveDocument, found: Found, fix: Fix) -> Fix:
    """`fix` with its verdict when one is known; may start verifying it ("onCodeAction")."""
    verdict = cached_verdict(document.text, found, fix)
    if verdict is not None:
        from perfpilot.tools.verify.verdict import with_verdict  # loaded: a verdict exists

        return with_verdict(fix, verdict)
    if fix.applicable and options_of(ls).run == "onCodeAction":
        uri = next((u for u, d in ls.documents.items() if d is document), None)
        key = (uri, found.skill.name, found.function.qualname, found.opportunity.key)
        running: dict[Any, asyncio.Future[Any]] = ls.verifying  # type: ignore[attr-defined]
        if uri is not None and key not in running:
            running[key] = asyncio.ensure_future(
                run_verification(ls, uri, document, [found], options_of(ls), None)
            )
            running[key].add_done_callback(lambda _: running.pop(key, None))
    return fix


async def run_verification(
    ls: PerfpilotServer,
    uri: str,
    document: LiveDocument,
    found: list[Found],
    options: VerifyOptions,
    outer: Any,
) -> dict[str, Any]:
    """Verify each opportunity's fix in a thread, with progress; cancellable."""
    from perfpilot.server.lsp.handlers.fixes import _fix  # the validated, cached fix
    from perfpilot.skills.verifying import verifier  # the replay machinery: on first use
    from perfpilot.tools.verify.process import Stopped
    from perfpilot.tools.verify.verify_fix import VerifySettings

    cancel = threading.Event()
    settings = VerifySettings(budget=options.budget, tests=options.tests)
    check = verifier(str(ls.root()), settings, cancel)
    token = await begin_progress(
        ls, "verify", "perfpilot: Verify fixes", "replaying recorded calls", percentage=0
    )
    done_future = cancelled_future(ls, token)
    if done_future is not None:
        done_future.add_done_callback(lambda _: cancel.set())
    if outer is not None:
        outer.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)
    text = document.text  # the buffer as it was when the job started
    results = []
    try:
        for number, item in enumerate(found):
            fix = _fix(ls, uri, document, item)
            title = f"{item.skill.code} {fix.title}"
            report_progress(
                ls, token, f"{number + 1}/{len(found)}: {title}", int(100 * number / len(found))
            )
            verified = await asyncio.to_thread(check, text, item, fix)
            verdict = verified.verdict
            results.append(
                {
                    "title": title,
                    "qualname": item.function.qualname,
                    "verdict": verdict.label if verdict else None,
                    "summary": verdict.summary if verdict else f"not verified: {verified.refusal}",
                }
            )
            if cancel.is_set():
                raise Stopped(False)
    except (Stopped, asyncio.CancelledError):
        end_progress(ls, token, "cancelled")
        ls.show(types.MessageType.Info, "perfpilot: verification cancelled")
        return {"ok": False, "cancelled": True, "results": results}
    end_progress(ls, token, "done")
    ls.publish(uri)  # verdicts change estimates, and may offer a held-back fix (faster here)
    summary = "; ".join(f"{r['title']}: {r['summary']}" for r in results)
    ls.show(types.MessageType.Info, f"perfpilot: {summary}")
    return {"ok": True, "results": results}


def _contains(found: Found, line: int) -> bool:
    function = found.function
    return function.first_line - 1 <= line <= function.end_line - 1


def _fail(
    ls: PerfpilotServer, reason: str, kind: types.MessageType = types.MessageType.Error
) -> dict[str, Any]:
    ls.show(kind, f"perfpilot: Verify: {reason}")
    return {"ok": False, "reason": reason}
