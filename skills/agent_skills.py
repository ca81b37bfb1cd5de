"""perfpilot's skills for other agents: the MCP workflow each one follows, and the export.

`perfpilot skills export DIR` writes one Agent Skills folder per skill (SKILL.md only): the
skill's own words plus the perfpilot MCP tools to call, in order. The MCP server serves the
same text as a prompt, so an agent gets perfpilot's words either way.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from perfpilot.skills.registry import Skill
from perfpilot.skills.skill_spec import MAX_DESCRIPTION, Problem, validate_skill_folder

SERVER = "perfpilot"
COMPATIBILITY = (
    "Needs the perfpilot MCP server (`perfpilot mcp`, from `pip install perfpilot`) connected"
    " under the name `perfpilot`, and a Python project with a CPU profile."
)


def is_deterministic(skill: Skill) -> bool:
    """Does perfpilot build this skill's fixes itself (a trusted transform beside SKILL.md)?"""
    if skill.transform is not None:
        return True
    return skill.origin != "workspace" and (skill.path.parent / "transform.py").is_file()


def tool_workflow(skill: Skill, function: str | None = None) -> str:
    """The perfpilot MCP tools to call for this skill, in order (Markdown)."""
    target = f"`{function}`" if function else "the function"
    where = "`path`/`qualname` of " + target
    evidence = [
        "## With perfpilot's MCP tools",
        f"The `{SERVER}` MCP server has the profile, the source index and the validator.",
        "1. Make sure a profile is loaded: `hot_functions` lists the hottest functions; when it"
        " says no profile is loaded, call `load_profile` with a profile file (or, only if the"
        " user allowed it, `profile_command` with the program to run).",
        f"2. Read the evidence for {target}: `function_profile` (shares, calls, hot lines,"
        f" callers, callees) and `function_source` with {where}.",
    ]
    if is_deterministic(skill):
        code = f" ({skill.code})" if skill.code else ""
        steps = [
            f"3. Call `fix_opportunities` (optionally `paths` = the file) and pick the entries"
            f" whose `skill` is `{skill.name}`{code}. Each carries a validated `diff`, its"
            " `applicability` and, when refused, the reason.",
            "4. Show the diff to the user. When they agree, call `apply_fix` with the entry's"
            " `path`, `qualname`, `skill`, `key` and `sha256` (add `unsafe: true` for an unsafe"
            " fix). It writes atomically and refuses a file that changed since.",
            "5. If perfpilot found nothing but the pattern is there, write the change yourself"
            " following the rules above, check it with `validate_edit`, and show the diff.",
        ]
    else:
        steps = [
            "3. Find where the time goes (the rules above); `references` shows call sites and"
            " `git_history` who changed the function last.",
            "4. Write the new function and check it with `validate_edit` (syntax, style,"
            " same signature); fix what it reports and check again.",
            "5. Show the validated diff to the user; edit the file only when they agree.",
        ]
    closing = [
        "6. Afterwards, `check` (findings as data) confirms what is left; re-profiling"
        " measures the gain.",
    ]
    return "\n".join([*evidence, *steps, *closing]) + "\n"


def agent_skill_text(skill: Skill) -> str:
    """The SKILL.md of the exported skill: spec-conformant front matter, words, workflow."""
    metadata = {"source": f"perfpilot {skill.origin} skill"}
    metadata.update({str(k): str(v) for k, v in skill.metadata.items()})
    front = {
        "name": skill.name,
        "description": _description(skill),
        "compatibility": COMPATIBILITY,
        "metadata": metadata,
    }
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{header}---\n{skill.body.rstrip()}\n\n{tool_workflow(skill)}"


def export_skills(skills: list[Skill], directory: Path) -> list[Path]:
    """Write one folder per skill under `directory` (each validated); returns the folders.

    Each SKILL.md is written atomically; a skill whose export breaks the specification is
    not written and raises ValueError naming the rule.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for skill in skills:
        folder = directory / skill.name
        if folder.is_symlink():
            raise ValueError(f"{folder}: is a symbolic link; not writing through it")
        folder.mkdir(exist_ok=True)
        _write_atomic(folder / "SKILL.md", agent_skill_text(skill))
        problems: list[Problem] = validate_skill_folder(folder)
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        written.append(folder)
    return written


def _description(skill: Skill) -> str:
    extra = " Uses the perfpilot MCP tools (profile evidence, validated fixes)."
    text = " ".join(skill.description.split())
    if len(text) + len(extra) <= MAX_DESCRIPTION:
        return text + extra
    return text[: MAX_DESCRIPTION - 1].rstrip() + "…"


def _write_atomic(path: Path, text: str) -> None:
    if path.is_symlink():
        raise ValueError(f"{path}: is a symbolic link; not writing through it")
    handle, temporary = tempfile.mkstemp(prefix=".SKILL.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
