"""The language server's PP1xx side: the workspace's skills, found once, and their opportunities.

The skills run on the skill worker's thread (see skill_findings.py); what needs the live
document is taken on the event loop's thread first. A mixin of the server, like InitialLoad.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from perfpilot.server.lsp import convert
from perfpilot.server.lsp.settings import include_unproven
from perfpilot.server.lsp.skill_findings import SkillWorker
from perfpilot.skills.offering import offered_only
from perfpilot.tools import source_walk
from perfpilot.tools.annotate import FunctionAnnotation
from perfpilot.tools.code_selection import CodeSelection
from perfpilot.tools.config import Settings
from perfpilot.tools.free_memory import release_free_memory
from perfpilot.tools.generated import is_generated
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.module_facts import ModuleFacts, facts_of_tree

if TYPE_CHECKING:
    # The skills (registry, runner) load on the first pass, after PP001 went out: start-up
    # and the first publish never pay for them.
    from perfpilot.skills.registry import SkillSet
    from perfpilot.skills.runner import FindCache, Found

log = logging.getLogger(__name__)


class SkillOpportunities:
    """The server's part that finds skills and the fix opportunities in hot functions (a mixin)."""

    # Set by the server's __init__ (see there for what each holds).
    documents: dict[str, LiveDocument]
    raw_settings: object
    debounce: float
    generation: int
    skills: SkillSet | None
    skill_worker: SkillWorker
    _find_cache: FindCache | None
    _discovering: threading.Lock
    _discovered: SkillSet | None
    _skills_loading: asyncio.Future[SkillSet] | None
    _opportunities: dict[str, tuple[int, int, list[Found]]]
    _facts: dict[str, tuple[str, ModuleFacts]]

    @property
    def settings(self) -> Settings:
        """The settings in force (the server's own)."""
        raise NotImplementedError

    def root(self) -> Path:
        """The project root (the server's own)."""
        raise NotImplementedError

    def show(self, kind: types.MessageType, message: str) -> None:
        """Show the user a message (the server's own)."""
        raise NotImplementedError

    def annotations(self, uri: str) -> list[FunctionAnnotation]:
        """The document's hot-function annotations (the server's own)."""
        raise NotImplementedError

    def publish(self, uri: str) -> None:
        """Publish the document's diagnostics (the server's own)."""
        raise NotImplementedError

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
                from perfpilot.skills.registry import discover

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

    @property
    def find_cache(self) -> FindCache:
        """Opportunities per function text: an edit re-runs the skills on what it touched."""
        if self._find_cache is None:
            from perfpilot.skills.runner import FindCache

            self._find_cache = FindCache()
        return self._find_cache

    def skill_diagnostics(
        self, found: list[Found], document: LiveDocument
    ) -> list[types.Diagnostic]:
        """The offered opportunities as PP1xx diagnostics of the document's current version."""
        offered = offered_only(found, self.include_unproven)
        if not offered:
            return []
        from perfpilot.skills.runner import finding_of  # loaded by the pass that found them

        return [convert.diagnostic(finding_of(f), document, document.version) for f in offered]

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
        from perfpilot.skills.runner import Target, find_opportunities

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
        try:
            if uri in self._opportunities:
                # An edit: while typing goes on, the PP001 publishes keep the loop to themselves
                # (the shown PP1xx follow the text meanwhile); the skills run once it pauses.
                await asyncio.sleep(self.debounce)
                document = self.documents.get(uri)
                if document is None or document.version != version:
                    return
            if not self.annotations(uri):
                found: list[Found] = []  # no hot function: no skill runs (libcst stays out)
            else:
                found = await self._run_skills(uri, version, generation)
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

    async def _run_skills(self, uri: str, version: int, generation: int) -> list[Found]:
        """The skills' pass over the document's hot functions, in the worker ([] if stale)."""
        worker = self.skill_worker
        if self.skills is None:
            self._adopt_skills(await self.preload_skills())
        document = self.documents.get(uri)
        if document is None or document.version != version or generation != self.generation:
            return []  # the caller sees it stale too and publishes nothing
        work = self._finding_work(uri, document)
        if work is None:
            return []
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(worker.executor, worker.locked(_then_trim(work)))

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


def _then_trim(work: Callable[[], list[Found]]) -> Callable[[], list[Found]]:
    """`work`, then the pages its parses freed handed back (see free_memory.py)."""

    def run() -> list[Found]:
        found = work()
        # A pass over a large file parses it whole (ast, for class facts) and every hot
        # function (libcst): without this the server keeps that peak resident while idle.
        release_free_memory()
        return found

    return run
