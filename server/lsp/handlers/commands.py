"""Workspace commands: load, clear, profile a run, and the ranked list of hot functions."""

from __future__ import annotations

import asyncio
import shlex
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from perfpilot.server.lsp.app import PerfpilotServer
from perfpilot.server.lsp.progress import begin_progress, cancelled_future, end_progress
from perfpilot.tools.config import PROFILES_DIR

LOAD_PROFILE = "perfpilot.loadProfile"
CLEAR_PROFILES = "perfpilot.clearProfiles"
PROFILE_RUN = "perfpilot.profileRun"
HOT_FUNCTIONS = "perfpilot.hotFunctions"
WORKSPACE_INFO = "perfpilot.workspaceInfo"


def register(server: PerfpilotServer) -> None:
    """Register the perfpilot.* commands."""

    @server.command(LOAD_PROFILE)
    def load_profile(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        paths = [str(a) for a in _flatten(args)]
        if not paths:
            ls.show(types.MessageType.Error, f"perfpilot: {LOAD_PROFILE} needs a profile path")
            return {"loaded": False}
        loaded = ls.reload_profiles(paths)
        return {"loaded": loaded, "profiles": paths}

    @server.command(CLEAR_PROFILES)
    def clear_profiles(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        ls.clear_profiles()
        return {"cleared": True}

    @server.command(HOT_FUNCTIONS)
    def hot_functions(ls: PerfpilotServer, *args: Any) -> list[dict[str, Any]]:
        session = ls.session
        if session is None or session.loaded is None:
            return []
        return [_hot_entry(hot) for hot in session.loaded.hot]

    @server.command(WORKSPACE_INFO)
    def workspace_info(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        """Where the server works: clients show the same root and profiles folder."""
        root = ls.root()
        return {"root": str(root), "profilesDir": str(root / PROFILES_DIR)}

    @server.command(PROFILE_RUN)
    async def profile_run(ls: PerfpilotServer, *args: Any) -> dict[str, Any]:
        words = _command_words(list(_flatten(args)))
        if not words:
            ls.show(types.MessageType.Error, f"perfpilot: {PROFILE_RUN} needs a command line")
            return {"ok": False}
        return await _profile_with_progress(ls, words)


async def _profile_with_progress(ls: PerfpilotServer, words: list[str]) -> dict[str, Any]:
    from perfpilot.tools.profiling import ProfilingError, run_profiled_async  # on first use

    token = await begin_progress(ls, "profile", "perfpilot: profiling", " ".join(words))
    run_task = asyncio.ensure_future(run_profiled_async(words, ls.root()))
    cancelled = cancelled_future(ls, token)
    if cancelled is not None:
        # A cancel from the client's progress UI kills the program.
        cancelled.add_done_callback(lambda _: run_task.cancel())
    try:
        run, output_tail = await run_task
    except asyncio.CancelledError:
        end_progress(ls, token, "cancelled")
        return {"ok": False, "cancelled": True}
    except ProfilingError as exc:
        end_progress(ls, token, "failed")
        ls.show(types.MessageType.Error, f"perfpilot: cannot profile `{shlex.join(words)}`: {exc}")
        return {"ok": False, "error": str(exc)}
    if run.returncode != 0:
        end_progress(ls, token, f"failed (exit status {run.returncode})")
        tail = output_tail.strip().splitlines()[-3:]
        ls.show(
            types.MessageType.Error,
            f"perfpilot: `{shlex.join(words)}` exited with status {run.returncode}"
            + (": " + " / ".join(tail) if tail else ""),
        )
        return {"ok": False, "returncode": run.returncode, "profile": str(run.output)}
    end_progress(ls, token, f"done in {run.seconds:.1f} s")
    loaded = ls.reload_profiles([str(run.output)])
    return {"ok": loaded, "profile": str(run.output), "seconds": run.seconds}


def _hot_entry(hot: Any) -> dict[str, Any]:
    function = hot.mapped.function
    row = function.name_line - 1
    return {
        "uri": from_fs_path(function.path),
        "path": function.path,
        "qualname": function.qualname,
        "rank": hot.rank,
        "ownPercent": round(hot.own_share, 2),
        "selfPercent": round(hot.self_share, 2),
        "libraryPercent": round(hot.library_share, 2),
        "totalPercent": round(hot.total_share, 2),
        "calls": hot.mapped.calls,
        "samples": hot.samples,
        # [low, high] percent at 95 % when the profile holds few samples, else null.
        "ownInterval": [round(v, 2) for v in hot.own_interval] if hot.own_interval else None,
        # Code-point columns: exact for the common ASCII names; clients re-resolve on open.
        "range": {
            "start": {"line": row, "character": function.name_column - 1},
            "end": {"line": row, "character": function.name_column - 1 + len(function.name)},
        },
    }


def _flatten(args: Any) -> list[Any]:
    """Commands arrive as `[path]`, `[[path]]` or `path` depending on the client."""
    flat: list[Any] = []
    for arg in args if isinstance(args, list | tuple) else [args]:
        if isinstance(arg, list | tuple):
            flat.extend(_flatten(arg))
        elif arg is not None:
            flat.append(arg)
    return flat


def _command_words(args: list[Any]) -> list[str]:
    if len(args) == 1 and isinstance(args[0], str):
        return shlex.split(args[0])
    return [str(a) for a in args]
