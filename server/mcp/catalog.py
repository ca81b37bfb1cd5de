"""Resources and prompts: the loaded profiles, the ranked hot functions, and the skills.

Skills are read as words only (no transform is imported) so that listing them stays cheap.
Workspace skills are served as resources (data) but not as prompts: a repository's text must
not reach the agent dressed as perfpilot's own instructions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perfpilot.server.mcp.workspace import Workspace
from perfpilot.tools.registry import ToolError, to_data

if TYPE_CHECKING:
    from perfpilot.skills.registry import SkillSet

PROFILES_URI = "perfpilot://profiles"
HOT_FUNCTIONS_URI = "perfpilot://hot-functions"
SKILL_URI = "perfpilot://skills/{name}"
FUNCTION_ARGUMENT = "function"


@dataclass(frozen=True, slots=True)
class ResourceEntry:
    """One resource as listed."""

    uri: str
    name: str
    description: str
    mime_type: str


@dataclass(frozen=True, slots=True)
class PromptEntry:
    """One prompt as listed: a skill, asked about one function."""

    name: str
    description: str


def resources(workspace: Workspace) -> list[ResourceEntry]:
    """The fixed resources, then one per skill."""
    entries = [
        ResourceEntry(
            PROFILES_URI,
            "profiles",
            "The loaded profiles: files, formats, duration, top hot functions, input problems.",
            "application/json",
        ),
        ResourceEntry(
            HOT_FUNCTIONS_URI,
            "hot-functions",
            "Every hot function of the loaded profiles, ranked by own time.",
            "application/json",
        ),
    ]
    for skill in _skills(workspace).skills:
        entries.append(
            ResourceEntry(
                SKILL_URI.format(name=skill.name),
                f"skill {skill.name}",
                f"SKILL.md of the {skill.origin} skill {skill.name}: {skill.description[:200]}",
                "text/markdown",
            )
        )
    return entries


def read(workspace: Workspace, uri: str) -> tuple[str, str] | None:
    """(text, mime type) of a resource; None for an unknown URI; ToolError when unavailable."""
    import threading

    from perfpilot.server.mcp.workspace_tools import profile_summary
    from perfpilot.tools.agent_tools import hot_functions

    if uri in (PROFILES_URI, HOT_FUNCTIONS_URI):
        ctx = workspace.context(threading.Event(), lambda done, total, message: None)
        if uri == PROFILES_URI:
            data = to_data(profile_summary(ctx)) if ctx.loaded else {"profiles": []}
            if ctx.loaded is None and ctx.profile_problem:
                data["problem"] = ctx.profile_problem
        else:
            limit = len(ctx.loaded.hot) if ctx.loaded else 0
            data = {"hot_functions": to_data(hot_functions(ctx, limit)) if ctx.loaded else []}
        return json.dumps(data, indent=1), "application/json"
    prefix = SKILL_URI.split("{", 1)[0]
    if uri.startswith(prefix):
        skill = _skills(workspace).by_name(uri[len(prefix) :])
        if skill is None:
            return None
        return skill.path.read_text(encoding="utf-8"), "text/markdown"
    return None


def prompts(workspace: Workspace) -> list[PromptEntry]:
    """One prompt per built-in or installed skill."""
    return [
        PromptEntry(skill.name, skill.description)
        for skill in _skills(workspace).skills
        if skill.origin != "workspace"
    ]


def render_prompt(workspace: Workspace, name: str, arguments: dict[str, str]) -> str:
    """The prompt text: apply this skill to one function, with the tools to call."""
    from perfpilot.skills.agent_skills import tool_workflow

    skill = _skills(workspace).by_name(name)
    if skill is None or skill.origin == "workspace":
        known = ", ".join(p.name for p in prompts(workspace))
        raise ToolError(f"no prompt named {name!r} (known: {known})")
    function = (arguments.get(FUNCTION_ARGUMENT) or "").strip()
    if not function:
        raise ToolError(
            f"prompt {name}: argument {FUNCTION_ARGUMENT!r} is required, e.g."
            " pkg/module.py::Class.method"
        )
    path, sep, qualname = function.rpartition("::")
    where = (
        f"the function `{qualname}` in `{path}`"
        if sep and path
        else f"the function `{function}` (find its file with `hot_functions`)"
    )
    return (
        f"Apply perfpilot's skill `{skill.name}` to {where}, in the workspace"
        f" {workspace.root}.\n\n{skill.body.rstrip()}\n\n{tool_workflow(skill, function)}"
    )


def _skills(workspace: Workspace) -> SkillSet:
    from perfpilot.skills.registry import discover

    return discover(workspace.root, transforms=False)
