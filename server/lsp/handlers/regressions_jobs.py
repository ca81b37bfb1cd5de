""" "Prepare mitigation" from the editor: consent, then the solver in a child process.

The solver runs the recorded workload and the user's test command (user code), so the user
is asked first with exactly what will run. The child (`perfpilot.server.mitigation_job`)
works in temporary worktrees and commits on a new local branch; the user's branch and work
tree are never touched. A cancel from the progress UI or `$/cancelRequest` sends SIGINT to
the child's process group (its worktrees are removed on the way out), then SIGKILL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from perfpilot.server.lsp.handlers.optimize import _request_future
from perfpilot.server.lsp.progress import begin_progress, cancelled_future, end_progress
from perfpilot.tools.defense.regress import RegressReport
from perfpilot.tools.defense.solver import discard_mitigation

if TYPE_CHECKING:
    from perfpilot.server.lsp.app import PerfpilotServer
    from perfpilot.server.lsp.handlers.regressions import RegressionSettings

RUN = "Run"
STOP_GRACE = 10.0  # seconds the child gets to remove its worktrees after SIGINT


async def prepare_mitigation_command(
    ls: PerfpilotServer, report: RegressReport, key: str, settings: RegressionSettings
) -> dict[str, Any]:
    """Ask, then prepare the mitigation of `key` with progress; report the branch made."""
    outer = _request_future(ls)
    command = recorded_command(report)
    if command is None:
        return _fail(ls, "the recorded runs do not say which command to run; record the workload"
                     " with `perfpilot record -- CMD`")  # fmt: skip
    what = f"`{command}` about {2 * settings.repeat + 1} times"
    if settings.test_command:
        what += f" and the tests `{settings.test_command}`"
    if settings.verify:
        what += ", replays the function's recorded calls"
    llm = _enabled_llm(ls)
    if llm is not None:
        what += f", asks the efficiency agent ({llm.get('model') or 'default model'})"
    try:
        answer = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Info,
                message=f"perfpilot: Prepare mitigation for {key} runs {what} in temporary"
                " worktrees, then commits the best fix on a new local branch (your branch is not"
                " touched).",
                actions=[types.MessageActionItem(RUN), types.MessageActionItem("Cancel")],
            )
        )
    except Exception as exc:  # noqa: BLE001 - a client without message requests
        return _fail(ls, f"cannot ask before running the mitigation: {exc}")
    if answer is None or answer.title != RUN:
        return {"ok": False, "cancelled": True, "reason": "not confirmed"}
    request = {
        "root": str(ls.root()), "workload": report.workload, "base": report.base,
        "head": report.head, "function": key, "command": command,
        "tests": settings.test_command, "repeat": settings.repeat, "verify": settings.verify,
        "llm": llm,
    }  # fmt: skip
    token = await begin_progress(ls, "mitigate", "perfpilot: Prepare mitigation", key)
    stop = asyncio.Event()
    cancelled = cancelled_future(ls, token)
    if cancelled is not None:
        cancelled.add_done_callback(lambda _: stop.set())
    if outer is not None:
        outer.add_done_callback(lambda f: stop.set() if f.cancelled() else None)
    answer_json = await run_child(request, stop)
    if answer_json.get("cancelled"):
        end_progress(ls, token, "cancelled")
        ls.show(types.MessageType.Info, f"perfpilot: mitigation of {key} cancelled")
        return answer_json
    if not answer_json.get("ok"):
        end_progress(ls, token, "failed")
        return _fail(ls, f"mitigation of {key}: {answer_json.get('reason')}")
    branch = answer_json.get("branch")
    end_progress(ls, token, f"branch {branch}" if branch else "no candidate restored the time")
    if branch:
        ls.show(types.MessageType.Info, f"perfpilot: mitigation of {key} committed on local branch"
                f" {branch} ({str(answer_json.get('commit'))[:10]}); nothing pushed, your branch"
                " untouched")  # fmt: skip
    else:
        ls.show(
            types.MessageType.Warning,
            f"perfpilot: no candidate restored the time of {key}; see the description",
        )
    await _show(ls, str(answer_json["description"]))
    return answer_json


JOB = (sys.executable, "-m", "perfpilot.server.mitigation_job")


async def run_child(
    request: dict[str, Any], stop: asyncio.Event, job: tuple[str, ...] = JOB
) -> dict[str, Any]:
    """Run the mitigation job; SIGINT then SIGKILL its process group when `stop` is set."""
    child = await asyncio.create_subprocess_exec(
        *job,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    talk = asyncio.ensure_future(child.communicate(json.dumps(request).encode()))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({talk, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not talk.done():
        _signal(child.pid, signal.SIGINT)
        try:
            await asyncio.wait_for(asyncio.shield(talk), STOP_GRACE)
        except asyncio.TimeoutError:
            _signal(child.pid, signal.SIGKILL)
        out, err = await talk
        # The cancel can cross a job that had already committed and answered: a cancel
        # still means nothing is left behind, so its branch and description go.
        answer = _answer(out, err)
        if answer.get("ok") and answer.get("branch"):
            await asyncio.to_thread(
                discard_mitigation, Path(request["root"]), str(answer["branch"]),
                str(answer.get("commit") or ""), answer.get("description"),
            )  # fmt: skip
        return {"ok": False, "cancelled": True}
    stopped.cancel()
    out, err = talk.result()
    return _answer(out, err)


def _answer(out: bytes, err: bytes) -> dict[str, Any]:
    """The child's last stdout line as JSON, else its last stderr line as the reason."""
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else _broken(err)
    except json.JSONDecodeError:
        return _broken(err)
    return answer if isinstance(answer, dict) else _broken(err)


def _enabled_llm(ls: PerfpilotServer) -> dict[str, Any] | None:
    """The editor's llm table when the user enabled the LLM (user config or user settings)."""
    from perfpilot.server.lsp.handlers.optimize import _llm
    from perfpilot.tools.config import ConfigError

    try:
        llm = _llm(ls)
    except ConfigError:
        return None
    if not llm.enabled:
        return None
    raw = ls.raw_settings.get("llm") if isinstance(ls.raw_settings, dict) else None
    return {**(raw if isinstance(raw, dict) else {}), "model": llm.model}


def recorded_command(report: RegressReport) -> str | None:
    """The one command the head runs were recorded with (imports have none)."""
    commands = {
        r.command for r in report.head_runs if not r.command.startswith(("import ", "fetch "))
    }
    return commands.pop() if len(commands) == 1 else None


def _broken(err: bytes) -> dict[str, Any]:
    tail = err.decode(errors="replace").strip().splitlines()
    return {"ok": False, "reason": tail[-1] if tail else "the mitigation job stopped"}


def _signal(pid: int, number: int) -> None:
    try:
        os.killpg(pid, number)
    except (ProcessLookupError, PermissionError):
        pass


async def _show(ls: PerfpilotServer, path: str) -> None:
    window = ls.client_capabilities.window
    if window and window.show_document and window.show_document.support:
        await ls.window_show_document_async(
            types.ShowDocumentParams(uri=from_fs_path(path) or path, take_focus=False)
        )


def _fail(ls: PerfpilotServer, reason: str) -> dict[str, Any]:
    ls.show(types.MessageType.Error, f"perfpilot: {reason}")
    return {"ok": False, "reason": reason}
