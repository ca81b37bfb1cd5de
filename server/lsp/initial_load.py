"""The first profile load: on a thread from `initialize` on, shown after `initialized`.

The client sends `initialized` and opens its files right after `initialize`; loading the
profile meanwhile (rather than inside `initialized`) gets the first PP001 out sooner. The
workspace index belongs to the loading thread until the load is shown.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor

from perfpilot.tools.model import ProfileError
from perfpilot.tools.profile_session import LoadedProfiles, ProfileSession

log = logging.getLogger(__name__)


class InitialLoad:
    """The language server's part that starts and shows the first load (a mixin)."""

    session: ProfileSession | None
    ready: bool
    # (the load, the settings it was started with) while it runs.
    _initial_load: tuple[Future[LoadedProfiles | None], tuple[object, ...]] | None

    def reload_profiles(self, paths: list[str] | None = None) -> bool:
        """(Re)load profiles on the event loop's thread (the server's own)."""
        raise NotImplementedError

    def load_failed(self, error: Exception) -> None:
        """Report a failed load (the server's own)."""
        raise NotImplementedError

    def loaded(self) -> None:
        """Show what the session just adopted (the server's own)."""
        raise NotImplementedError

    @property
    def loading(self) -> bool:
        """Is the first load still running on its thread (the workspace index is its own)?"""
        return self._initial_load is not None

    def start_initial_load(self) -> None:
        """Start loading the discovered profiles on a thread, as soon as the root is known."""
        session = self.session
        if session is None or self._initial_load is not None or self.ready:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="perfpilot-load")
        future = executor.submit(lambda: session.build(session.discover()))
        executor.shutdown(wait=False)  # the thread ends with its one job
        self._initial_load = (future, session.load_key())

    def wait_initial_load(self) -> None:
        """Let a started first load finish unseen: a reload asked meanwhile replaces it."""
        if self._initial_load is not None:
            future, _ = self._initial_load
            self._initial_load = None
            future.exception()  # blocks until done; its result or error is superseded

    async def finish_initial_load(self) -> None:
        """Show the first load once done (after `initialized`'s settings), then publish."""
        started = self._initial_load
        if started is None:
            if not self.ready:
                self.reload_profiles(None)
            return
        future, key = started
        error: Exception | None = None
        loaded: LoadedProfiles | None = None
        try:
            loaded = await asyncio.wrap_future(future)
        except Exception as exc:  # noqa: BLE001 - a failed load is reported, never fatal
            if not isinstance(exc, ProfileError):
                log.exception("loading the profiles failed")
            error = exc
        if self._initial_load is not started:
            return  # a reload asked while it ran took its place
        self._initial_load = None
        session = self.session
        assert session is not None
        if session.load_key() != key or session.explicit is not None:
            self.reload_profiles(None)  # the client's configuration changed what to load
            return
        if error is not None:
            self.load_failed(error)
            return
        session.adopt(loaded)
        self.loaded()
