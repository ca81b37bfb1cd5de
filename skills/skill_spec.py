"""A validator for Agent Skills folders, written from the specification (agentskills.io).

The rules checked, as the specification states them:
- a skill is a folder holding `SKILL.md`, which starts with YAML front matter between `---`
  lines, followed by a Markdown body;
- `name` (required): 1-64 characters, lower-case letters, digits and hyphens only, not
  starting or ending with a hyphen, no two hyphens in a row, and equal to the folder's name;
- `description` (required): a non-empty string of at most 1024 characters;
- optional fields: `license` (string), `compatibility` (string, at most 500 characters),
  `metadata` (a map of string keys to string values), `allowed-tools` (a space-separated
  string); no other top-level field;
- perfpilot's `metadata.measured-median` / `measured-fixes`, when present, are numbers >= 0
  (written as strings, like every metadata value); `metadata.trigger`, when present, is
  space-separated groups of `|`-separated substrings (skills/triggers.py);
- the body should stay under the recommended size for loading on activation: fewer than
  500 lines and about 5000 tokens (estimated here as characters / 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from perfpilot.skills.measured import measured_of
from perfpilot.skills.triggers import trigger_of

NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
MAX_BODY_LINES = 500
MAX_BODY_TOKENS = 5000
ALLOWED_FIELDS = ("name", "description", "license", "compatibility", "metadata", "allowed-tools")


@dataclass(frozen=True, slots=True)
class Problem:
    """One rule a skill folder breaks."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def estimate_tokens(text: str) -> int:
    """A conservative token estimate (about four characters a token for English and code)."""
    return (len(text) + 3) // 4


def validate_skill_folder(folder: Path) -> list[Problem]:
    """Every rule of the specification that `folder` breaks (empty when it is valid)."""
    skill_md = folder / "SKILL.md"
    where = str(skill_md)
    if not skill_md.is_file():
        return [Problem(str(folder), "no SKILL.md")]
    try:
        text = skill_md.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(where, f"cannot read as UTF-8: {exc}")]
    parts = _front_matter(text)
    if parts is None:
        return [Problem(where, "must start with YAML front matter between `---` lines")]
    front_text, body = parts
    try:
        front = yaml.safe_load(front_text)
    except yaml.YAMLError as exc:
        return [Problem(where, f"front matter is not valid YAML: {exc}")]
    if not isinstance(front, dict):
        return [Problem(where, "front matter must be a mapping")]
    problems = [Problem(where, f"unknown field {k!r}") for k in front if k not in ALLOWED_FIELDS]
    problems += _name_problems(front.get("name"), folder.name, where)
    problems += _description_problems(front.get("description"), where)
    problems += _optional_problems(front, where)
    problems += _body_problems(body, where)
    return problems


def validate_skill_tree(directory: Path) -> list[Problem]:
    """Validate every skill folder under `directory` (each subfolder is a skill)."""
    folders = sorted(p for p in directory.iterdir() if p.is_dir())
    if not folders:
        return [Problem(str(directory), "holds no skill folder")]
    return [problem for folder in folders for problem in validate_skill_folder(folder)]


def _front_matter(text: str) -> tuple[str, str] | None:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    return None


def _name_problems(name: object, folder: str, where: str) -> list[Problem]:
    if not isinstance(name, str) or not name:
        return [Problem(where, "`name` is required (a non-empty string)")]
    problems = []
    if len(name) > MAX_NAME:
        problems.append(Problem(where, f"`name` is {len(name)} characters (at most {MAX_NAME})"))
    if not NAME.match(name):
        problems.append(
            Problem(
                where,
                f"`name` {name!r} must be lower-case letters, digits and single hyphens,"
                " not starting or ending with a hyphen",
            )
        )
    if name != folder:
        problems.append(Problem(where, f"`name` {name!r} differs from the folder {folder!r}"))
    return problems


def _description_problems(description: object, where: str) -> list[Problem]:
    if not isinstance(description, str) or not description.strip():
        return [Problem(where, "`description` is required (a non-empty string)")]
    if len(description) > MAX_DESCRIPTION:
        return [
            Problem(
                where,
                f"`description` is {len(description)} characters (at most {MAX_DESCRIPTION})",
            )
        ]
    return []


def _optional_problems(front: dict[object, object], where: str) -> list[Problem]:
    problems = []
    for key in ("license", "allowed-tools"):
        if key in front and not isinstance(front[key], str):
            problems.append(Problem(where, f"`{key}` must be a string"))
    if "compatibility" in front:
        value = front["compatibility"]
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(where, "`compatibility` must be a non-empty string"))
        elif len(value) > MAX_COMPATIBILITY:
            problems.append(
                Problem(where, f"`compatibility` is {len(value)} characters (at most 500)")
            )
    if "metadata" in front:
        metadata = front["metadata"]
        if not isinstance(metadata, dict):
            problems.append(Problem(where, "`metadata` must be a map"))
        else:
            for key, value in metadata.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    problems.append(
                        Problem(where, f"`metadata` {key!r}: keys and values must be strings")
                    )
            # perfpilot's own keys: the corpus figures must read as numbers (skills/measured.py),
            # the trigger as groups of substrings (skills/triggers.py)
            problems += [Problem(where, text) for text in measured_of(metadata)[1]]
            problems += [Problem(where, text) for text in trigger_of(metadata)[1]]
    return problems


def _body_problems(body: str, where: str) -> list[Problem]:
    problems = []
    if not body.strip():
        problems.append(Problem(where, "the Markdown body is empty"))
    lines = len(body.splitlines())
    if lines >= MAX_BODY_LINES:
        problems.append(Problem(where, f"the body has {lines} lines (keep it under 500)"))
    tokens = estimate_tokens(body)
    if tokens > MAX_BODY_TOKENS:
        problems.append(Problem(where, f"the body is ~{tokens} tokens (keep it under 5000)"))
    return problems
