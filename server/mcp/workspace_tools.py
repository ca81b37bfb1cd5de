"""The MCP server's own tools: load profiles, check, fix opportunities, apply a fix, profile a run.

Declared with the same typed registry as the agent's tools (one definition: name, docstring,
schema from the signature, read-only flag), so the MCP surface converts both the same way.
Module-level imports stay light: these definitions are read to answer `tools/list`.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from perfpilot.server.mcp.workspace import McpContext
from perfpilot.tools.agent_tools import HotEntry, hot_functions
from perfpilot.tools.code_selection import CodeSelection
from perfpilot.tools.registry import ToolError, ToolRegistry

if TYPE_CHECKING:
    from perfpilot.skills.fixing import Evidence
    from perfpilot.skills.opportunities import Applied, Opportunity

WORKSPACE_TOOLS = ToolRegistry()
MAX_RUN_SECONDS = 3600

Paths = Annotated[
    list[str] | None, "files or folders, relative to the workspace root; default: everywhere"
]
IncludeUnproven = Annotated[
    bool,
    "also offer fixes of skills whose median speedup on perfpilot's corpus is below 1.05x"
    " (held back by default; a fix verified faster on its function is offered anyway)",
]


def _unproven(ctx: McpContext, asked: bool) -> bool:
    """The tool's include_unproven or the user's config, unless the project says false."""
    from perfpilot.tools.user_config import user_includes_unproven

    return (asked or user_includes_unproven()[0]) and not ctx.space.settings.forbid_unproven


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """The profiles now loaded and what they show."""

    profiles: list[str]
    formats: list[str]
    unit: str
    duration_seconds: float | None
    hot_function_count: int
    top: list[HotEntry]
    notes: list[str]  # problems with the inputs (unmapped paths, missing functions)


@dataclass(frozen=True, slots=True)
class ProfileRunResult:
    """A profiled run of a command, and the profile it left (now loaded)."""

    command: list[str]
    profile: str
    seconds: float
    exit_status: int
    output_tail: str
    loaded: ProfileSummary


@WORKSPACE_TOOLS.tool()
def load_profile(
    ctx: McpContext,
    paths: Annotated[
        list[str], "profile files (cProfile .prof, py-spy, pyinstrument, Scalene, Austin, pprof)"
    ],
) -> ProfileSummary:
    """Load profile files (merged) and map them onto the workspace; they stay loaded."""
    from perfpilot.tools.model import ProfileError

    if not paths:
        raise ToolError("load_profile: give at least one profile path")
    resolved = []
    for path in paths:
        full = Path(path) if os.path.isabs(path) else ctx.root / path
        if not full.is_file():
            raise ToolError(f"{path}: no such profile file")
        resolved.append(str(full.resolve()))
    try:
        ctx.space.load(resolved)
    except ProfileError as exc:
        raise ToolError(str(exc)) from None
    ctx.loaded = ctx.space.session().loaded
    return profile_summary(ctx)


def profile_summary(ctx: McpContext) -> ProfileSummary:
    """The loaded profiles as data (ToolError when none is loaded)."""
    from perfpilot.server.render import display_path
    from perfpilot.tools.hotspots import input_findings

    loaded = ctx.loaded
    if loaded is None:
        raise ToolError(ctx.profile_problem or "no profile is loaded: call load_profile first")
    notes = [f"{f.code} {f.message}" for f in input_findings(loaded.result, loaded.paths[0])]
    return ProfileSummary(
        profiles=[display_path(p, ctx.root) for p in loaded.paths],
        formats=sorted(set(loaded.profile.format.split("+"))),
        unit=loaded.profile.unit,
        duration_seconds=loaded.profile.duration,
        hot_function_count=len(loaded.hot),
        top=hot_functions(ctx, limit=10),
        notes=notes,
    )


@WORKSPACE_TOOLS.tool()
def check(
    ctx: McpContext,
    profiles: Annotated[
        list[str] | None,
        "profile files; default: the loaded ones, else [tool.perfpilot] profiles, else the"
        " newest in .perfpilot/profiles",
    ] = None,
    paths: Paths = None,
    threshold: Annotated[float | None, "minimum own share (%) of a hot function"] = None,
    all_functions: Annotated[
        bool, "look for fix opportunities in every function, not only the hot ones"
    ] = False,
    include_unproven: IncludeUnproven = False,
) -> dict[str, Any]:
    """Findings as data, exactly as `perfpilot check --output-format json` reports them."""
    import json

    from perfpilot.server.check_core import CheckOptions, check_workspace
    from perfpilot.server.render import display_path, render
    from perfpilot.tools.model import ProfileError

    settings = ctx.space.settings
    if threshold is not None and not 0.0 <= threshold <= 100.0:
        raise ToolError(f"threshold {threshold} is not a percentage (0-100)")
    chosen = _profile_paths(ctx, profiles)
    if not chosen and not all_functions:
        raise ToolError(
            "no profile: pass profiles, call load_profile or profile_command first, or set"
            " all_functions=true" + (f" ({ctx.profile_problem})" if ctx.profile_problem else "")
        )
    options = CheckOptions(
        threshold=settings.threshold if threshold is None else threshold,
        mappings=settings.path_mappings,
        paths=_existing(ctx, paths),
        all_functions=all_functions,
        unsafe_setting=settings.unsafe_fixes,
        include_generated=settings.include_generated,
        include_unproven=_unproven(ctx, include_unproven),
        codes=CodeSelection(settings.select, settings.ignore),
    )

    def progress(done: int, total: int, path: str) -> None:
        ctx.progress(done, total, f"scanning {display_path(path, ctx.root)}")

    try:
        outcome = check_workspace(ctx.root, chosen, options, progress)
    except ProfileError as exc:
        raise ToolError(str(exc)) from None
    document: dict[str, Any] = json.loads(
        render("json", outcome.findings, outcome.summary, ctx.root)
    )
    return document


@WORKSPACE_TOOLS.tool()
def fix_opportunities(
    ctx: McpContext,
    paths: Paths = None,
    all_functions: Annotated[
        bool, "every function of the files, not only the profile's hot ones"
    ] = False,
    include_unproven: IncludeUnproven = False,
) -> list[Opportunity]:
    """Fix opportunities with their validated diffs (nothing is written; see apply_fix)."""
    from perfpilot.server.render import display_path
    from perfpilot.skills.opportunities import FixRefused, file_opportunities

    hot_by_file = _hot_by_file(ctx)
    if not all_functions and ctx.loaded is None:
        raise ToolError(
            (ctx.profile_problem or "no profile is loaded")
            + ": call load_profile, or pass all_functions=true"
        )
    restrict = _existing(ctx, paths)
    files = _python_files(ctx, restrict) if all_functions else sorted(hot_by_file)
    if restrict is not None and not all_functions:
        from perfpilot.tools.hotspots import under_any

        files = [f for f in files if under_any(f, restrict)]
    skills = ctx.space.skills().with_transforms()
    found: list[Opportunity] = []
    for done, file in enumerate(files):
        display = display_path(file, ctx.root)
        ctx.progress(done, len(files), f"fixing {display}")
        hot = None if all_functions else hot_by_file.get(file)
        try:
            found += file_opportunities(
                Path(file),
                display,
                hot,
                skills,
                root=str(ctx.root),
                python=ctx.python,
                include_unproven=_unproven(ctx, include_unproven),
            )
        except FixRefused as exc:
            raise ToolError(str(exc)) from None
    found.sort(key=lambda o: -(o.saving_percent or 0.0))
    return found


@WORKSPACE_TOOLS.tool(read_only=False, destructive=True)
def apply_fix(
    ctx: McpContext,
    path: Annotated[str, "the file, as fix_opportunities reported it"],
    qualname: Annotated[str, "the function, as fix_opportunities reported it"],
    skill: Annotated[str, "the skill, as fix_opportunities reported it"],
    key: Annotated[str, "the opportunity's key, as fix_opportunities reported it"],
    sha256: Annotated[str, "the file's content hash that fix_opportunities reported"],
    unsafe: Annotated[bool, "also apply a fix whose applicability is unsafe"] = False,
    include_unproven: IncludeUnproven = False,
) -> Applied:
    """Write one validated fix to its file, atomically; refused if the file changed since."""
    from perfpilot.skills.opportunities import FixRefused, apply_opportunity
    from perfpilot.tools.model import Applicability

    file = ctx.resolve(path)
    if not file.is_file():
        raise ToolError(f"{path}: no such file")
    display = ctx.relative(file)
    hot = _hot_by_file(ctx).get(str(file))
    evidence = hot if hot is not None and qualname in hot else None
    try:
        return apply_opportunity(
            file,
            display,
            evidence,
            ctx.space.skills().with_transforms(),
            qualname=qualname,
            skill=skill,
            key=key,
            expected_sha256=sha256,
            minimum=Applicability.UNSAFE if unsafe else Applicability.SAFE,
            root=str(ctx.root),
            python=ctx.python,
            include_unproven=_unproven(ctx, include_unproven),
        )
    except FixRefused as exc:
        raise ToolError(str(exc)) from None


@WORKSPACE_TOOLS.tool(read_only=False, destructive=False, runs_user_code=True)
async def profile_command(
    ctx: McpContext,
    command: Annotated[list[str], 'the command as words, e.g. ["python", "workload.py"]'],
    sampler: Literal["cprofile", "py-spy"] = "cprofile",
    timeout_seconds: Annotated[int, "stop the program after this long"] = 600,
) -> ProfileRunResult:
    """RUNS THE GIVEN COMMAND (the user's code) under a profiler, then loads its profile.

    Allowed only when the user started the server with --allow-run or set `allow_run = true`
    under [mcp] in ~/.config/perfpilot/config.toml; a workspace cannot allow it.
    """
    import anyio

    from perfpilot.tools.profiling import ProfilingError, run_profiled_async

    if not ctx.space.allow_run:
        raise ToolError(
            "refused: running commands is off. The user can allow it by starting"
            " `perfpilot mcp --allow-run` or by setting `allow_run = true` under [mcp] in"
            " ~/.config/perfpilot/config.toml. Or run `perfpilot profile -- CMD` yourself"
            " and call load_profile."
        )
    if not command:
        raise ToolError("profile_command: the command is empty")
    if not 1 <= timeout_seconds <= MAX_RUN_SECONDS:
        raise ToolError(f"timeout_seconds must be between 1 and {MAX_RUN_SECONDS}")
    ctx.progress(0, None, f"running {shlex.join(command)}")
    try:
        with anyio.fail_after(timeout_seconds):
            run, tail = await run_profiled_async(command, ctx.root, sampler)
    except TimeoutError:
        raise ToolError(f"`{shlex.join(command)}` ran longer than {timeout_seconds} s") from None
    except ProfilingError as exc:
        raise ToolError(f"cannot profile `{shlex.join(command)}`: {exc}") from None
    if run.returncode != 0:
        raise ToolError(
            f"`{shlex.join(command)}` exited with status {run.returncode}; its profile"
            f" ({ctx.relative(run.output)}) was not loaded. Output: {tail.strip()[-600:]}"
        )
    loaded = load_profile(ctx, [str(run.output)])
    return ProfileRunResult(
        command=list(command),
        profile=ctx.relative(run.output),
        seconds=round(run.seconds, 3),
        exit_status=run.returncode,
        output_tail=tail[-2000:],
        loaded=loaded,
    )


def _profile_paths(ctx: McpContext, profiles: list[str] | None) -> list[str]:
    """Explicit profiles (checked), else the loaded ones, else what the session discovers."""
    if profiles:
        chosen = []
        for path in profiles:
            full = Path(path) if os.path.isabs(path) else ctx.root / path
            if not full.is_file():
                raise ToolError(f"{path}: no such profile file")
            chosen.append(str(full))
        return chosen
    if ctx.loaded is not None:
        return list(ctx.loaded.paths)
    return ctx.space.session().discover()


def _existing(ctx: McpContext, paths: list[str] | None) -> list[str] | None:
    if not paths:
        return None
    resolved = []
    for path in paths:
        full = ctx.resolve(path)
        if not full.exists():
            raise ToolError(f"{path}: no such file or directory")
        resolved.append(str(full))
    return resolved


def _hot_by_file(ctx: McpContext) -> dict[str, dict[str, Evidence]]:
    from perfpilot.skills.fixing import hot_evidence

    if ctx.loaded is None:
        return {}
    return hot_evidence(ctx.loaded.result, ctx.space.settings.threshold)


def _python_files(ctx: McpContext, restrict: list[str] | None) -> list[str]:
    from perfpilot.tools.hotspots import under_any

    index = ctx.space.session().index
    files = [os.path.join(index.root, rel) for rel in index.python_files()]
    return [f for f in files if restrict is None or under_any(f, restrict)]
