"""The MCP server's state: one workspace, its loaded profiles and skills, and what may run.

Every tool call gets a `McpContext`: the agent tools' `ToolContext` (so every tool of the
registry can be called with it) plus the session, the server's own permissions, and the
hooks a long tool uses to report progress and notice a cancellation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from perfpilot.tools.agent_tools import ToolContext

if TYPE_CHECKING:
    from perfpilot.skills.registry import SkillSet
    from perfpilot.tools.config import Settings
    from perfpilot.tools.profile_session import ProfileSession


class Cancelled(Exception):
    """The client cancelled the request; the tool stops at its next checkpoint."""


def _no_progress(done: float, total: float | None, message: str) -> None:
    return None


@dataclass
class McpContext(ToolContext):
    """What one tool call reads and may change."""

    workspace: Workspace | None = None
    profile_problem: str | None = None  # why the workspace's profile could not be loaded
    cancel: threading.Event = field(default_factory=threading.Event)
    progress_hook: Callable[[float, float | None, str], None] = _no_progress

    def progress(self, done: float, total: float | None, message: str) -> None:
        """Report progress to the client; raises Cancelled once the request was cancelled."""
        self.checkpoint()
        self.progress_hook(done, total, message)

    def checkpoint(self) -> None:
        """Raise Cancelled when the client has cancelled this request."""
        if self.cancel.is_set():
            raise Cancelled("cancelled by the client")

    @property
    def space(self) -> Workspace:
        """The server's workspace (always set by the server)."""
        assert self.workspace is not None
        return self.workspace


class Workspace:
    """One workspace root: settings, the profile session, skills; safe to share across threads."""

    def __init__(self, root: Path, allow_run: bool) -> None:
        self.root = root.resolve()
        self.allow_run = allow_run  # the server's setting (flag or user config), never the repo's
        self._lock = threading.RLock()
        self._session: ProfileSession | None = None
        self._skills: SkillSet | None = None
        self._python: tuple[int, int] | None = None

    @property
    def settings(self) -> Settings:
        """The workspace's `[tool.perfpilot]` (analysis settings only)."""
        return self.session().settings

    def session(self) -> ProfileSession:
        """The profile session, created on first use (reading pyproject.toml)."""
        from perfpilot.tools.config import load_settings
        from perfpilot.tools.profile_session import ProfileSession

        with self._lock:
            if self._session is None:
                self._session = ProfileSession(str(self.root), load_settings(self.root))
            return self._session

    def skills(self) -> SkillSet:
        """Built-in, installed and workspace skills (workspace ones are words only)."""
        from perfpilot.skills.registry import discover

        with self._lock:
            if self._skills is None:
                self._skills = discover(self.root)
            return self._skills

    def python(self) -> tuple[int, int] | None:
        """The project's Python version (for syntax checks), read once."""
        from perfpilot.tools.validate.syntax import project_python

        with self._lock:
            if self._python is None:
                self._python = project_python(str(self.root))
            return self._python

    def refresh_profiles(self) -> None:
        """Load the discovered profiles when none is loaded or one changed on disk."""
        session = self.session()
        with self._lock:
            if session.stale():
                session.reload()

    def load(self, paths: list[str]) -> None:
        """Load these profiles (they stay until others are loaded)."""
        session = self.session()
        with self._lock:
            session.load_explicit(paths)

    def context(
        self,
        cancel: threading.Event,
        progress: Callable[[float, float | None, str], None],
        *,
        refresh: bool = True,
    ) -> McpContext:
        """A context for one tool call, with the current profiles loaded.

        A profile that fails to load does not stop the call (load_profile may be about to
        replace it); its error travels with the context and is shown with any tool error.
        """
        from perfpilot.tools.model import ProfileError

        problem = None
        if refresh:
            try:
                self.refresh_profiles()
            except ProfileError as exc:
                problem = f"the workspace's profile could not be loaded: {exc}"
        session = self.session()
        context = McpContext(
            root=self.root,
            loaded=session.loaded,
            skills=self.skills(),
            python=self.python(),
            workspace=self,
            profile_problem=problem,
            cancel=cancel,
            progress_hook=progress,
        )
        if self.allow_run:
            # verify_fix replays the project's own functions: the same leave as running commands.
            from perfpilot.tools.verify.verify_fix import VerifySettings

            context.verify = VerifySettings()
        return context
