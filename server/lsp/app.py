"""The perfpilot language server: state per workspace, and one table of LSP features."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from perfpilot.server.lsp import convert
from perfpilot.server.lsp.initial_load import InitialLoad
from perfpilot.server.lsp.settings import client_settings, debounce_seconds
from perfpilot.server.lsp.skill_findings import SkillWorker
from perfpilot.server.lsp.skill_opportunities import SkillOpportunities
from perfpilot.server.render import package_version
from perfpilot.skills import verdicts
from perfpilot.tools.annotate import FunctionAnnotation, annotate
from perfpilot.tools.code_selection import CodeSelection
from perfpilot.tools.config import OUTSIDE, ConfigError, Settings
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.model import Fix, ProfileError
from perfpilot.tools.module_facts import ModuleFacts
from perfpilot.tools.profile_quality import no_checked_time
from perfpilot.tools.profile_session import ProfileSession
from perfpilot.tools.workspace_root import find_workspace_root

if TYPE_CHECKING:
    # The skills' machinery loads with their first pass, after the first publish.
    from perfpilot.skills.registry import SkillSet
    from perfpilot.skills.runner import FindCache, Found

log = logging.getLogger(__name__)


class PerfpilotServer(InitialLoad, SkillOpportunities, LanguageServer):
    """A pygls server that keeps live documents and the workspace's profile session."""

    def __init__(self) -> None:
        super().__init__("perfpilot", package_version())
        self.session: ProfileSession | None = None
        self.documents: dict[str, LiveDocument] = {}
        self.raw_settings: object = None
        self.debounce = debounce_seconds(None)
        self._annotations: dict[str, tuple[int, int, list[FunctionAnnotation]]] = {}
        self._opportunities: dict[str, tuple[int, int, list[Found]]] = {}
        self.skills: SkillSet | None = None
        # One discovery at a time: the worker and a code action on the loop's thread may both
        # ask first, and two threads importing the same transform modules see half-made ones.
        self._discovering = threading.Lock()
        self._discovered: SkillSet | None = None
        self._find_cache: FindCache | None = None  # see SkillOpportunities.find_cache
        self.skill_worker = SkillWorker()  # PP1xx: a second publish, computed off the loop
        self._skills_loading: asyncio.Future[SkillSet] | None = None
        self._facts: dict[str, tuple[str, ModuleFacts]] = {}
        # (uri, version, generation, skill, qualname, key) -> validated fix, built once per version.
        self.fix_cache: dict[tuple[object, ...], Fix] = {}  # (..., claim): see fixes._fix
        self._pending: dict[str, asyncio.Task[None]] = {}
        # Bumped on every profile (re)load so cached annotations are recomputed.
        self.generation = 0
        # File watching: the client's (dynamically registered) or our own poller.
        self.watch_registered = False
        self.poller: asyncio.Task[None] | None = None
        # Until the first profile load after `initialized`, publishing would only flash an
        # empty list at documents opened early; their diagnostics follow the load.
        self.ready = False
        self._root: tuple[Path, Path] | None = None  # (folder, its project root), found once
        # More diagnostics per document from other features (PP2xx): cheap, cache-only calls.
        self.diagnostic_sources: list[Callable[[str, LiveDocument], list[types.Diagnostic]]] = []
        self._initial_load = None  # see InitialLoad

    # -- workspace and settings ------------------------------------------------------

    def root(self) -> Path:
        """The project root (tools.workspace_root's rule) of the first workspace folder.

        An editor opened on a subfolder of a project gets the project's root, as
        `perfpilot profile` run in that subfolder does: both see the same profiles.
        """
        folders = self.workspace.folders
        if folders:
            folder = Path(to_fs_path(next(iter(folders.values())).uri) or ".")
        else:
            root_uri = self.workspace.root_uri
            folder = Path(to_fs_path(root_uri) or ".") if root_uri else Path.cwd()
        if self._root is None or self._root[0] != folder:
            self._root = (folder, find_workspace_root(folder))
            # Verdicts `perfpilot verify` saved for this workspace rank and offer fixes here too.
            problem = verdicts.load(str(self._root[1]))
            if problem:
                self.show(types.MessageType.Warning, f"perfpilot: {problem}")
        return self._root[1]

    def apply_settings(self, raw: object) -> bool:
        """Validate and apply settings; invalid ones are reported and the previous kept."""
        try:
            settings, warnings = client_settings(raw, self.root())
        except ConfigError as exc:
            self.show(types.MessageType.Error, f"perfpilot: invalid settings ignored: {exc}")
            return False
        for warning in warnings:
            self.show(types.MessageType.Warning, f"perfpilot: {warning}")
        self.raw_settings = raw
        self.debounce = debounce_seconds(raw)
        if self.session is None:
            self.session = ProfileSession(str(self.root()), settings)
        else:
            self.session.settings = settings
        return True

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self.session.settings if self.session else Settings()

    def show(self, kind: types.MessageType, message: str) -> None:
        """window/showMessage, also logged."""
        log.info(message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # -- profiles --------------------------------------------------------------------

    def reload_profiles(self, paths: list[str] | None = None) -> bool:
        """(Re)load profiles, explicit `paths` or discovered; keep the old ones on failure."""
        self.wait_initial_load()
        if self.session is None:
            self.apply_settings(self.raw_settings)
        assert self.session is not None
        try:
            if paths is None:
                self.session.reload()
            else:
                self.session.load_explicit(paths)
        except ProfileError as exc:
            self.load_failed(exc)
            return False
        self.loaded()
        return True

    def load_failed(self, error: Exception) -> None:
        """Say why a load failed; documents waiting for the first load get published anyway."""
        self.show(types.MessageType.Error, f"perfpilot: cannot load profile: {error}")
        if not self.ready:
            self.ready = True
            self._attach_indexes()
            self.refresh_all()

    def loaded(self) -> None:
        """A load was adopted: annotate every open document again."""
        self.generation += 1
        self.ready = True
        self._attach_indexes()
        self._warn_if_nothing_maps()
        for path in self.session.outside if self.session else ():
            self.show(types.MessageType.Warning, f"perfpilot: {path} {OUTSIDE}")
        self.refresh_all()
        if self.session is not None:
            self.session.settle()  # after PP001 went out: it never waits for the collection
        if self.session is not None and self.session.loaded is not None:
            self.preload_skills()  # after PP001 went out: the first PP1xx need not wait for it

    def _attach_indexes(self) -> None:
        """Documents opened while the first load ran reuse the index it built of their file."""
        session = self.session
        if session is None:
            return
        for document in self.documents.values():
            if not document.indexed:
                module = session.index.cached_module(document.path, document.text)
                if module is not None:
                    document.adopt_module(module)

    def _warn_if_nothing_maps(self) -> None:
        """Say so when the loaded profile holds no time in this workspace's functions."""
        loaded = self.session.loaded if self.session else None
        if loaded is None:
            return
        label = ", ".join(Path(p).name for p in loaded.paths)
        reason = no_checked_time(loaded.result, [str(self.root())])
        if reason is not None:
            self.show(types.MessageType.Warning, f"perfpilot: {label}: {reason}")

    def clear_profiles(self) -> None:
        """Forget the loaded profiles and remove every annotation."""
        if self.session is not None:
            self.session.clear()
        self.generation += 1
        self.refresh_all()

    def refresh_all(self) -> None:
        """Republish every open document and ask the client to refresh lenses and hints."""
        for uri in list(self.documents):
            self.publish(uri)
        capabilities = self.client_capabilities.workspace
        if capabilities and capabilities.code_lens and capabilities.code_lens.refresh_support:
            self.workspace_code_lens_refresh(None)
        if capabilities and capabilities.inlay_hint and capabilities.inlay_hint.refresh_support:
            self.workspace_inlay_hint_refresh(None)

    # -- annotations -----------------------------------------------------------------

    def annotations(self, uri: str) -> list[FunctionAnnotation]:
        """Annotations for the document's current version (cached per version and load)."""
        document = self.documents.get(uri)
        session = self.session
        if document is None or session is None or session.loaded is None:
            return []
        cached = self._annotations.get(uri)
        if cached and cached[0] == document.version and cached[1] == self.generation:
            return cached[2]
        loaded = session.loaded
        hot = loaded.hot_in(document.path)
        result = annotate(document.module(), hot, loaded.profile) if hot else []
        self._annotations[uri] = (document.version, self.generation, result)
        return result

    def publish(self, uri: str) -> None:
        """Publish diagnostics computed for the document's current version."""
        document = self.documents.get(uri)
        if document is None or not self.ready:
            return
        diagnostics = [convert.diagnostic(a.finding, document) for a in self.annotations(uri)]
        worker = self.skill_worker
        cached = self._opportunities.get(uri)
        if cached and cached[0] == document.version and cached[1] == self.generation:
            worker.shown[uri] = self.skill_diagnostics(cached[2], document)
        else:
            # PP001 goes out now; PP1xx follow from the worker. Meanwhile the last ones stay.
            current = (document.version, self.generation)
            if worker.running.get(uri) != current:
                worker.running[uri] = current
                asyncio.ensure_future(self._find_in_background(uri, *current))
        diagnostics += worker.shown.get(uri, [])
        for source in self.diagnostic_sources:
            try:
                diagnostics += source(uri, document)
            except Exception:  # noqa: BLE001 - one feature failing must not hide the others
                log.exception("diagnostics source failed on %s", uri)
        wanted = CodeSelection(self.settings.select, self.settings.ignore)
        if not wanted.everything:  # `select`/`ignore`, as `check --select/--ignore`
            diagnostics = [d for d in diagnostics if wanted.wants(str(d.code))]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=document.version
            )
        )

    def schedule_publish(self, uri: str) -> None:
        """Publish after the debounce; a newer edit replaces the pending publish."""
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._pending[uri] = asyncio.ensure_future(self._publish_later(uri))

    async def _publish_later(self, uri: str) -> None:
        await asyncio.sleep(self.debounce)
        self._pending.pop(uri, None)
        self.publish(uri)

    def forget(self, uri: str) -> None:
        """Drop a closed document and clear its diagnostics."""
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self.documents.pop(uri, None)
        self._annotations.pop(uri, None)
        self._opportunities.pop(uri, None)
        self.skill_worker.forget(uri)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )


def create_server() -> PerfpilotServer:
    """Build the server with every feature registered (the one table of features)."""
    from perfpilot.server.lsp.handlers import (
        annotations,
        commands,
        documents,
        fix_review,
        fixes,
        optimize,
        regressions,
        verify,
        workspace,
    )

    server = PerfpilotServer()
    for register in (
        workspace.register,
        documents.register,
        annotations.register,
        commands.register,
        fixes.register,
        fix_review.register,
        optimize.register,
        verify.register,
        regressions.register,
    ):
        register(server)
    return server
