"""What `perfpilot check` computes, shared by the CLI and the MCP server's `check` tool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from perfpilot.server.offense import OffenseRun, run_offense
from perfpilot.server.render import Summary, display_path
from perfpilot.skills.fixing import Evidence, hot_evidence
from perfpilot.tools.code_selection import CodeSelection
from perfpilot.tools.config import PathMapping
from perfpilot.tools.hotspots import hot_function_findings, input_findings
from perfpilot.tools.mapping import map_profile
from perfpilot.tools.model import Finding, Profile, ProfileError
from perfpilot.tools.profile_quality import no_checked_time, sample_count
from perfpilot.tools.profiles import load_profile
from perfpilot.tools.profiles.merge import merge_profiles
from perfpilot.tools.profiles.remote.spec import RemoteSpec
from perfpilot.tools.source_index import WorkspaceIndex

if TYPE_CHECKING:  # --verify only
    from perfpilot.tools.verify.verify_fix import VerifySettings


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What a check looks at and whether it fixes (the CLI's flags, as data)."""

    threshold: float
    mappings: Sequence[PathMapping] = ()
    paths: Sequence[str] | None = None  # absolute; None: everywhere
    fix: bool = False
    diff: bool = False
    unsafe_fixes: bool = False
    all_functions: bool = False
    unsafe_setting: bool = False  # [tool.perfpilot] unsafe_fixes
    # --verify: measure each fix on recorded calls (runs the user's code; only on request).
    verify: VerifySettings | None = None
    include_generated: bool = False  # [tool.perfpilot] include_generated / --include-generated
    diff_all: bool = False  # --diff-all: after the patch, every fix it leaves out
    jobs: int = 1  # processes for the per-file work (the CLI uses every core)
    # --include-unproven: offer skills measured below 1.05x on the corpus (skills/offering.py)
    include_unproven: bool = False
    codes: CodeSelection = CodeSelection()  # --select / --ignore


@dataclass
class CheckOutcome:
    """The findings, the summary the renderers need, and the per-file offense reports."""

    findings: list[Finding]
    summary: Summary
    offense: OffenseRun


def check_workspace(
    root: Path,
    profile_paths: Sequence[str | RemoteSpec],
    options: CheckOptions,
    progress: Callable[[int, int, str], None] | None = None,
    loaded: dict[str, Profile] | None = None,
    cwd: Path | None = None,
) -> CheckOutcome:
    """Map the profiles onto the workspace, report hot functions and fix opportunities.

    `progress(done, total, path)` is called before each file is scanned; it may raise to stop.
    A ProfileError propagates (the caller reports it), also when none of the profiles' time is
    in a function of the workspace: no data is not a pass. Nothing is written unless
    `options.fix`. `loaded` caches profiles across calls; `cwd` is where paths are shown from.
    """
    index = WorkspaceIndex(str(root))
    findings: list[Finding] = []
    summary = Summary(profiles=[], formats=[], threshold=options.threshold, duration=None)
    paths = list(options.paths) if options.paths is not None else None
    hot_by_file: dict[str, dict[str, Evidence]] = {}
    if profile_paths:
        cache = {} if loaded is None else loaded
        profiles = [_load(source, cache) for source in profile_paths]
        merged = merge_profiles(profiles)
        result = map_profile(merged, index, list(options.mappings), min_share=options.threshold)
        label = ", ".join(_display(p, cwd or root) for p in profile_paths)
        reason = no_checked_time(result, [str(root)])
        if reason is not None:
            raise ProfileError(label, reason)
        findings = hot_function_findings(result, options.threshold, paths)
        first = profile_paths[0]
        findings += input_findings(result, first.text if isinstance(first, RemoteSpec) else first)
        findings = [f for f in findings if options.codes.wants(f.code)]
        hot_by_file = hot_evidence(result, options.threshold)
        summary = Summary(
            profiles=[_display(p, root) for p in profile_paths],
            formats=sorted({p.format for p in profiles}),
            threshold=options.threshold,
            duration=merged.duration,
            samples=sample_count(merged),
        )
    offense = run_offense(
        options, root, index, hot_by_file, paths, progress, options.verify, options.jobs
    )
    findings += [f for report in offense.reports for f in report.findings]
    return CheckOutcome(findings, replace(summary, fixes=offense.summary), offense)


def _load(source: str | RemoteSpec, cache: dict[str, Profile]) -> Profile:
    if isinstance(source, RemoteSpec):
        from perfpilot.tools.profiles.remote import load_remote

        return load_remote(source)
    profile = cache.get(source)
    if profile is None:  # a profile shared by several projects is read once
        profile = cache[source] = load_profile(source)
    return profile


def _display(source: str | RemoteSpec, root: Path) -> str:
    if isinstance(source, RemoteSpec):  # with the absolute window that `now-1h` stood for
        return f"{source.text} ({source.window()})"
    return display_path(source, root)
