"""The tools perfpilot offers (to the LLM agent and MCP): read-only, except two.

None of the read-only ones runs the user's code: sources are parsed (tree-sitter, ast, jedi's
static analysis), history comes from `git blame`, validation runs ruff and compile().
`propose_edit` (with verification on) and `verify_fix` run the user's function on its
recorded calls, in a limited subprocess, and only when the user turned verification on.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from perfpilot.tools.registry import ToolError
from perfpilot.tools.tool_context import (
    TOOLS,
    FunctionRef,
    NewSource,
    Path_,
    Qualname,
    ToolContext,
)

if TYPE_CHECKING:
    # Types only: listing the tools (an MCP client's first request) must not pay for
    # tree-sitter, the validation pipeline or the profile loaders; the tools import them.
    from perfpilot.tools.function_edit import EditCheck
    from perfpilot.tools.git_history import LineHistory
    from perfpilot.tools.mapping import MappedFunction
    from perfpilot.tools.profile_session import LoadedProfiles
    from perfpilot.tools.verify.model import Verdict


@dataclass(frozen=True, slots=True)
class HotEntry:
    """One hot function of the loaded profiles."""

    rank: int
    path: str
    qualname: str
    own_percent: float
    self_percent: float
    total_percent: float
    calls: int | None


@dataclass(frozen=True, slots=True)
class Share:
    """A caller, callee or line with its share of the profile (percent)."""

    name: str
    percent: float


@dataclass(frozen=True, slots=True)
class FunctionProfile:
    """What the profiles measured for one function."""

    path: str
    qualname: str
    rank: int | None
    own_percent: float
    self_percent: float
    library_percent: float
    total_percent: float
    calls: int | None
    callers: list[Share]
    callees: list[Share]
    hot_lines: list[Share]  # name = line number as text, as profiled
    changed_since_profile: bool
    profiles: list[str]


@dataclass(frozen=True, slots=True)
class FunctionText:
    """A function's source with the imports of its module."""

    path: str
    qualname: str
    first_line: int
    end_line: int
    source: str
    imports: list[str]


@dataclass(frozen=True, slots=True)
class Reference:
    """A place that names the function (call site, import, or the definition itself)."""

    path: str
    line: int
    column: int
    code: str
    is_definition: bool


@dataclass(frozen=True, slots=True)
class SkillSummary:
    """A skill's name and when to use it."""

    name: str
    code: str | None
    origin: str
    description: str


@dataclass(frozen=True, slots=True)
class SkillText:
    """A skill's full text (SKILL.md body)."""

    name: str
    origin: str
    description: str
    body: str


@TOOLS.tool()
def hot_functions(
    ctx: ToolContext, limit: Annotated[int, "at most this many"] = 20
) -> list[HotEntry]:
    """The hot functions of the loaded profiles, hottest first (by own time)."""
    loaded = _loaded(ctx)
    return [
        HotEntry(
            rank=hot.rank,
            path=ctx.relative(hot.mapped.function.path),
            qualname=hot.mapped.function.qualname,
            own_percent=round(hot.own_share, 2),
            self_percent=round(hot.self_share, 2),
            total_percent=round(hot.total_share, 2),
            calls=hot.mapped.calls,
        )
        for hot in loaded.hot[: max(1, limit)]
    ]


@TOOLS.tool()
def function_profile(ctx: ToolContext, path: Path_, qualname: Qualname) -> FunctionProfile:
    """Self/total time, calls, callers, callees and hot lines of one function, from the profiles."""
    loaded = _loaded(ctx)
    file, _, current = ctx.function(path, qualname)
    mapped = _mapped(loaded, file, qualname)
    if mapped is None:
        raise ToolError(f"{path}: `{qualname}` does not appear in the loaded profiles")
    share = loaded.profile.share
    rank = next((h.rank for h in loaded.hot if h.mapped is mapped), None)

    def top(edges: dict[str, float]) -> list[Share]:
        best = sorted(edges.items(), key=lambda kv: -kv[1])[:8]
        return [Share(name, round(share(t), 2)) for name, t in best]

    lines = sorted(mapped.line_times.items(), key=lambda kv: -kv[1])[:8]
    return FunctionProfile(
        path=ctx.relative(file),
        qualname=qualname,
        rank=rank,
        own_percent=round(share(mapped.own_time), 2),
        self_percent=round(share(mapped.self_time), 2),
        library_percent=round(share(mapped.library_time), 2),
        total_percent=round(share(mapped.total_time), 2),
        calls=mapped.calls,
        callers=top(mapped.callers),
        callees=top(mapped.callees),
        hot_lines=[Share(str(line), round(share(t), 2)) for line, t in lines],
        changed_since_profile=current.body_hash != mapped.function.body_hash,
        profiles=[os.path.basename(p) for p in loaded.paths],
    )


@TOOLS.tool()
def function_source(ctx: ToolContext, path: Path_, qualname: Qualname) -> FunctionText:
    """The source of one function (with line numbers) and the import statements of its module."""
    file, text, function = ctx.function(path, qualname)
    lines = text.splitlines()
    source = "".join(f"{line}\n" for line in lines[function.first_line - 1 : function.end_line])
    return FunctionText(
        path=ctx.relative(file),
        qualname=function.qualname,
        first_line=function.first_line,
        end_line=function.end_line,
        source=source,
        imports=module_imports(text),
    )


@TOOLS.tool()
def references(
    ctx: ToolContext,
    path: Path_,
    qualname: Qualname,
    limit: Annotated[int, "at most this many"] = 30,
) -> list[Reference]:
    """Call sites and other references of a function across the workspace (static, jedi)."""
    import jedi
    from jedi.api.environment import InterpreterEnvironment

    root = str(ctx.root.resolve())

    class Environment(InterpreterEnvironment):
        def get_sys_path(self) -> list[str]:  # compiled modules load only from these
            return [p for p in super().get_sys_path() if p and not _inside(p, root)]

    file, text, function = ctx.function(path, qualname)
    # No subprocess, no extension module from the workspace: jedi only reads and parses here.
    project = jedi.Project(root, load_unsafe_extensions=False, added_sys_path=(root,))
    script = jedi.Script(text, path=str(file), project=project, environment=Environment())
    try:
        names = script.get_references(function.name_line, function.name_column - 1, scope="project")
    except Exception as exc:  # noqa: BLE001 - jedi's failures on odd code must not stop the agent
        raise ToolError(f"references of `{qualname}` could not be computed ({exc})") from None
    found = []
    for name in names[: max(1, limit)]:
        module = name.module_path
        if module is None:
            continue
        try:
            relative = ctx.relative(module)
        except ValueError:
            continue
        if relative.startswith(".."):
            continue
        found.append(
            Reference(
                path=relative,
                line=name.line or 0,
                column=(name.column or 0) + 1,
                code=name.get_line_code().strip()[:200],
                is_definition=name.is_definition(),
            )
        )
    return found


@TOOLS.tool()
def git_history(
    ctx: ToolContext,
    path: Path_,
    qualname: Qualname,
    limit: Annotated[int, "at most this many commits"] = 10,
) -> LineHistory:
    """The commits that last changed the function's lines (git blame), newest first."""
    from perfpilot.tools.git_history import blame_lines

    file, text, function = ctx.function(path, qualname)
    return blame_lines(ctx.root, file, function.first_line, function.end_line, text, limit)


@TOOLS.tool()
def list_skills(ctx: ToolContext) -> list[SkillSummary]:
    """The performance skills available (built-in, installed, and the project's own)."""
    skills = ctx.skills.skills if ctx.skills else []
    return [SkillSummary(s.name, s.code, s.origin, s.description) for s in skills]


@TOOLS.tool()
def skill_text(ctx: ToolContext, name: Annotated[str, "the skill's name"]) -> SkillText:
    """The full text of one skill: when a pattern is worth fixing and how to fix it."""
    skill = ctx.skills.by_name(name) if ctx.skills else None
    if skill is None:
        known = ", ".join(s.name for s in ctx.skills.skills) if ctx.skills else "none"
        raise ToolError(f"no skill named {name!r} (known: {known})")
    return SkillText(skill.name, skill.origin, skill.description, skill.body)


@TOOLS.tool()
def validate_edit(
    ctx: ToolContext, path: Path_, qualname: Qualname, new_source: NewSource
) -> EditCheck:
    """Run the validation pipeline on a replacement of the function, without proposing it."""
    return _check(ctx, path, qualname, new_source)


# It records a proposal for a person to review; nothing is written.
@TOOLS.tool(read_only=False, destructive=False)
def propose_edit(
    ctx: ToolContext,
    path: Path_,
    qualname: Qualname,
    new_source: NewSource,
    explanation: Annotated[str, "why the new version is faster, in two sentences"] = "",
) -> EditCheck:
    """Propose the final replacement of the function; it is validated and shown to a person."""
    check = _check(ctx, path, qualname, new_source)
    if check.ok and ctx.verify is not None:
        check = _verified(ctx, path, qualname, check)
    if check.ok:
        ref = FunctionRef(str(ctx.resolve(path)), qualname)
        ctx.proposals.append((ref, check, explanation))
    return check


@TOOLS.tool(read_only=False)
def verify_fix(ctx: ToolContext, path: Path_, qualname: Qualname, new_source: NewSource) -> Verdict:
    """Replay the function's recorded calls against a replacement: behaviour and speed verdict."""
    from perfpilot.tools.verify.verify_fix import verify_change

    if ctx.verify is None:
        raise ToolError(
            "verification runs the program's code and is off: the user turns it on"
            " (perfpilot verify, --verify, the editor's perfpilot.verify setting, or"
            " `perfpilot mcp --allow-run`)"
        )
    check = _check(ctx, path, qualname, new_source)
    if not check.ok or check.text is None:
        raise ToolError(f"the replacement does not pass validation: {check.reason}")
    file, text, _ = ctx.function(path, qualname)
    return verify_change(ctx.root, str(file), qualname, text, check.text, ctx.verify)


def _verified(ctx: ToolContext, path: str, qualname: str, check: EditCheck) -> EditCheck:
    """`check` with its verdict; refused when it behaves differently or is not faster."""
    from perfpilot.tools.verify.model import VerdictKind
    from perfpilot.tools.verify.verify_fix import verify_change

    assert check.text is not None and ctx.verify is not None
    file, text, _ = ctx.function(path, qualname)
    verdict = verify_change(ctx.root, str(file), qualname, text, check.text, ctx.verify)
    if verdict.kind in (VerdictKind.DIFFERS, VerdictKind.NOT_FASTER):
        return replace(check, ok=False, reason=f"verify: {verdict.summary}", verdict=verdict)
    return replace(check, verdict=verdict)


def _check(ctx: ToolContext, path: str, qualname: str, new_source: str) -> EditCheck:
    from perfpilot.tools.function_edit import check_function_edit

    file, text, function = ctx.function(path, qualname)
    target = ctx.target
    if target is not None and (
        os.path.realpath(target.path) != str(file) or target.qualname != qualname
    ):
        raise ToolError(
            f"refused: only `{target.qualname}` in {ctx.relative(target.path)} may be edited;"
            f" `{qualname}` in {ctx.relative(file)} is not the function being optimized"
        )
    return check_function_edit(
        text,
        str(file),
        function,
        new_source,
        display_path=ctx.relative(file),
        root=str(ctx.root),
        python=ctx.python,
    )


def module_imports(text: str) -> list[str]:
    """The module-level import statements of a file, as written."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return [
            line.strip()
            for line in text.splitlines()
            if line.startswith(("import ", "from ")) and " import " in line + " "
        ]
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(ast.get_source_segment(text, node) or ast.unparse(node))
    return found


def _inside(path: str, root: str) -> bool:
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _loaded(ctx: ToolContext) -> LoadedProfiles:
    if ctx.loaded is None:
        raise ToolError("no profile is loaded: profile evidence is not available")
    return ctx.loaded


def _mapped(loaded: LoadedProfiles, file: Path, qualname: str) -> MappedFunction | None:
    real = os.path.realpath(file)
    for function, mapped in loaded.result.functions.items():
        if function.qualname == qualname and os.path.realpath(function.path) == real:
            return mapped
    return None


# The defense's tools (regressions, root_cause) register on TOOLS, so they come last.
from perfpilot.tools.defense import tools as _defense_tools  # noqa: E402, F401
