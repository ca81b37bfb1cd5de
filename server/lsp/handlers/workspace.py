"""Initialization, settings changes and profile-file watching."""

from __future__ import annotations

import asyncio
import logging
import os

from lsprotocol import types
from pygls.uris import from_fs_path

from perfpilot.server.lsp.app import PerfpilotServer
from perfpilot.server.lsp.handlers import optimize

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
WATCH_REGISTRATION_ID = "perfpilot-profile-watch"


def register(server: PerfpilotServer) -> None:
    """Register initialization, configuration and file-watching features."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: PerfpilotServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        raw = options.get("perfpilot", options) if isinstance(options, dict) else None
        ls.apply_settings(raw)
        ls.start_initial_load()  # the profile loads while the client opens files

    @server.feature(types.INITIALIZED)
    async def initialized(ls: PerfpilotServer, params: types.InitializedParams) -> None:
        if _supports_configuration(ls):
            await _pull_settings(ls)
        optimize.announce_llm_settings(ls)
        await ls.finish_initial_load()
        await _start_watching(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: PerfpilotServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if _supports_configuration(ls):
            changed = await _pull_settings(ls)
        else:
            settings = params.settings
            raw = settings.get("perfpilot") if isinstance(settings, dict) else None
            changed = ls.apply_settings(raw)
        if changed:
            optimize.announce_llm_settings(ls)
            _reload_current(ls)
            await _start_watching(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: PerfpilotServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        if ls.session is not None and ls.session.stale():
            _reload_current(ls)


def _reload_current(ls: PerfpilotServer) -> None:
    """Reload what is shown: the explicit profiles if the user chose some, else discovery."""
    session = ls.session
    explicit = session.explicit if session else None
    if explicit == []:
        return  # cleared by the user: stay empty until they load again
    ls.reload_profiles(explicit)


def _supports_configuration(ls: PerfpilotServer) -> bool:
    workspace = ls.client_capabilities.workspace
    return bool(workspace and workspace.configuration)


async def _pull_settings(ls: PerfpilotServer) -> bool:
    try:
        values = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="perfpilot")])
        )
    except Exception as exc:  # noqa: BLE001 - a client that fails this keeps the old settings
        log.warning("workspace/configuration failed: %s", exc)
        return False
    raw = values[0] if values else None
    return ls.apply_settings(raw if raw else ls.raw_settings)


async def _start_watching(ls: PerfpilotServer) -> None:
    """Watch profile files: the client's watcher where it can register one, else ours."""
    session = ls.session
    if session is None:
        return
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if watched and watched.dynamic_registration:
        # A pattern relative to the root where the client supports it: an absolute glob only
        # matches inside the editor's folders, and the root may be above the folder opened.
        base = from_fs_path(session.root) if watched.relative_pattern_support else None
        watchers = [
            types.FileSystemWatcher(
                glob_pattern=types.RelativePattern(base_uri=base, pattern=pattern)
                if base
                else os.path.join(session.root, pattern)
            )
            for pattern in session.watched_globs()
        ]
        options = types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)
        registration = types.Registration(
            id=WATCH_REGISTRATION_ID,
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        try:
            if ls.watch_registered:
                await ls.client_unregister_capability_async(
                    types.UnregistrationParams(
                        unregisterations=[
                            types.Unregistration(
                                id=WATCH_REGISTRATION_ID,
                                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            )
                        ]
                    )
                )
            await ls.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )
            ls.watch_registered = True
            return
        except Exception as exc:  # noqa: BLE001 - fall back to polling
            log.warning("could not register file watchers: %s", exc)
    if ls.poller is None:
        ls.poller = asyncio.ensure_future(_poll(ls))


async def _poll(ls: PerfpilotServer) -> None:
    """Our own watcher for clients that cannot watch files for us: a cheap stat loop."""
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            if ls.session is not None and ls.session.stale():
                _reload_current(ls)
        except Exception:  # noqa: BLE001 - the watcher must outlive any one failure
            log.exception("profile watcher failed")
