"""The perfpilot language server: state per workspace, and one table of LSP features."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from perfpilot.server.lsp import convert
from perfpilot.server.lsp.initial_load import InitialLoad
from perfpilot.server.lsp.settings import client_settings, debounce_seconds, include_unproven
from perfpilot.server.lsp.skill_findings import SkillWorker
from perfpilot.server.render import package_version
from perfpilot.skills import verdicts
from perfpilot.skills.offering import offered_only
from perfpilot.skills.registry import SkillSet, discover
from perfpilot.skills.runner import FindCache, Found, Target, find_opportunities, finding_of
from perfpilot.tools import source_walk
from perfpilot.tools.annotate import FunctionAnnotation, annotate
from perfpilot.tools.code_selection import CodeSelection
from perfpilot.tools.config import OUTSIDE, ConfigError, Settings
from perfpilot.tools.generated import is_generated
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.model import Fix, ProfileError
from perfpilot.tools.module_facts import ModuleFacts, facts_of_tree
from perfpilot.tools.profile_quality import no_checked_time
from perfpilot.tools.profile_session import ProfileSession
from perfpilot.tools.workspace_root import find_workspace_root

log = logging.getLogger(__name__)


class PerfpilotServer(InitialLoad, LanguageServer):
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
        self.find_cache = FindCache()  # an edit re-runs the skills on the function it touched
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

    def skill_set(self) -> SkillSet:
        """The skills of this workspace (built-in, installed, workspace words), found once."""
        if self.skills is None:
            self._adopt_skills(self._discover_once())
        assert self.skills is not None
        return self.skills

    def preload_skills(self) -> asyncio.Future[SkillSet]:
        """Find the skills (and import libcst) on the worker's thread, once; PP001 never waits."""
        if self._skills_loading is None:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.skill_worker.executor, self._discover_once)
            future.add_done_callback(
                lambda done: done.exception() or self._adopt_skills(done.result())
            )
            self._skills_loading = future
        return self._skills_loading

    def _discover_once(self) -> SkillSet:
        """The workspace's skills, discovered once whichever thread asks first."""
        with self._discovering:
            if self._discovered is None:
                self._discovered = discover(self.root())
            return self._discovered

    def _adopt_skills(self, skills: SkillSet) -> None:
        if self.skills is not None:
            return
        self.skills = skills
        for problem in skills.problems:
            self.show(types.MessageType.Warning, f"perfpilot: skill {problem}")

    @property
    def include_unproven(self) -> bool:
        """The user's `perfpilot.skills.includeUnproven` (a project may turn it off)."""
        return include_unproven(self.raw_settings, self.settings)

    def offered(self, uri: str) -> list[Found]:
        """The opportunities to show and fix: unproven skills held back (skills/offering.py)."""
        return offered_only(self.opportunities(uri), self.include_unproven)

    def opportunities(self, uri: str) -> list[Found]:
        """Every fix opportunity in the hot functions, offered or not (cached per version)."""
        document = self.documents.get(uri)
        if document is None:
            return []
        cached = self._opportunities.get(uri)
        if cached and cached[0] == document.version and cached[1] == self.generation:
            return cached[2]
        work = self._finding_work(uri, document)
        found = self.skill_worker.locked(work)() if work is not None else []
        self._opportunities[uri] = (document.version, self.generation, found)
        return found

    def _finding_work(self, uri: str, document: LiveDocument) -> Callable[[], list[Found]] | None:
        """The skills' pass over the document's hot functions, ready to run on any thread.

        What needs the live document (annotations) is taken here, on the event loop's thread;
        the returned work touches only immutable inputs, the facts cache and the find cache
        (which the caller guards with the worker's lock), and parses the module facts itself.
        """
        annotations = self.annotations(uri)
        if not annotations or (not self.settings.include_generated and is_generated(document.text)):
            return None
        targets = [Target(a.function, a.hot.own_share, a.hot.mapped.calls) for a in annotations]
        text, path = document.text, document.path
        facts_of = self._facts_of(uri, text)
        wanted = CodeSelection(self.settings.select, self.settings.ignore)
        skills = [s for s in self.skill_set().with_transforms() if wanted.wants(s.code)]
        cache = self.find_cache
        return lambda: find_opportunities(text, path, targets, skills, facts_of(), cache=cache)

    async def _find_in_background(self, uri: str, version: int, generation: int) -> None:
        """Compute PP1xx of one version in the worker, then publish them (if still current)."""
        worker = self.skill_worker
        loop = asyncio.get_running_loop()
        try:
            if uri in self._opportunities:
                # An edit: while typing goes on, the PP001 publishes keep the loop to themselves
                # (the shown PP1xx follow the text meanwhile); the skills run once it pauses.
                await asyncio.sleep(self.debounce)
                document = self.documents.get(uri)
                if document is None or document.version != version:
                    return
            if self.skills is None:
                self._adopt_skills(await self.preload_skills())
            document = self.documents.get(uri)
            if document is None or document.version != version or generation != self.generation:
                return
            work = self._finding_work(uri, document)
            found = await loop.run_in_executor(worker.executor, worker.locked(work)) if work else []
        except Exception:  # noqa: BLE001 - PP1xx failing must not take PP001 or the server down
            log.exception("skills failed on %s", uri)
            found = []
        finally:
            if worker.running.get(uri) == (version, generation):
                worker.running.pop(uri, None)
        document = self.documents.get(uri)
        if document is None or document.version != version or generation != self.generation:
            return  # edited meanwhile: the newer version's publish starts its own run
        self._opportunities[uri] = (version, generation, found)
        self.publish(uri)

    def _facts_of(self, uri: str, text: str) -> Callable[[], ModuleFacts]:
        """The module facts of `text`, as a call for the worker (a reopened file: cached)."""
        cached = self._facts.get(uri)
        if cached is not None and cached[0] == text:
            known = cached[1]
            return lambda: known
        facts_cache = self._facts

        def compute() -> ModuleFacts:
            # A fresh parse on the worker's thread: the document's own tree is the loop's.
            facts = facts_of_tree(source_walk.parse(text.encode("utf-8", "replace")), text)
            if len(facts_cache) > 256:  # kept across close/reopen, not for every file ever seen
                facts_cache.clear()
            facts_cache[uri] = (text, facts)
            return facts

        return compute

    def publish(self, uri: str) -> None:
        """Publish diagnostics computed for the document's current version."""
        document = self.documents.get(uri)
        if document is None or not self.ready:
            return
        diagnostics = [convert.diagnostic(a.finding, document) for a in self.annotations(uri)]
        worker = self.skill_worker
        cached = self._opportunities.get(uri)
        if cached and cached[0] == document.version and cached[1] == self.generation:
            worker.shown[uri] = [
                convert.diagnostic(finding_of(found), document, document.version)
                for found in offered_only(cached[2], self.include_unproven)
            ]
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
