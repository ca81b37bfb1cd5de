"""Cancellable work-done progress for long LSP commands (profiling, optimizing, verifying)."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from perfpilot.server.lsp.app import PerfpilotServer


async def begin_progress(
    ls: PerfpilotServer, kind: str, title: str, message: str, percentage: int | None = None
) -> str | None:
    """Start a cancellable progress report when the client shows them; its token, else None."""
    window = ls.client_capabilities.window
    if not (window and window.work_done_progress):
        return None
    token = f"perfpilot-{kind}-{uuid.uuid4()}"
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(
        token,
        types.WorkDoneProgressBegin(
            title=title, message=message, cancellable=True, percentage=percentage
        ),
    )
    return token


def cancelled_future(ls: PerfpilotServer, token: str | None) -> asyncio.Future[Any] | None:
    """The future that ends when the client cancels (or the progress ends); None without one."""
    return ls.work_done_progress.tokens.get(token) if token is not None else None


def report_progress(
    ls: PerfpilotServer, token: str | None, message: str, percentage: int | None = None
) -> None:
    """One progress step; nothing when there is no progress report."""
    if token is not None:
        ls.work_done_progress.report(
            token, types.WorkDoneProgressReport(message=message, percentage=percentage)
        )


def end_progress(ls: PerfpilotServer, token: str | None, message: str) -> None:
    """Close the progress report with a last word; nothing when there is none."""
    if token is not None:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
