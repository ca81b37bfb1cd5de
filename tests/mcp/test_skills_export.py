"""`perfpilot skills export DIR`: Agent Skills folders that pass the specification's rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perfpilot.server.mcp.workspace_tools import WORKSPACE_TOOLS
from perfpilot.skills.registry import BUILTIN_DIR, discover
from perfpilot.skills.skill_spec import validate_skill_folder, validate_skill_tree
from perfpilot.tools.agent_tools import TOOLS
from tests.mcp.conftest import perfpilot

TOOL_NAMES = {t.name for t in [*TOOLS, *WORKSPACE_TOOLS]}
GOOD_BODY = "# Title\n\nDo the thing.\n"


def write_skill(root: Path, folder: str, front: str, body: str = GOOD_BODY) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "SKILL.md").write_text(f"---\n{front}---\n{body}")
    return path


def test_export_writes_valid_agent_skills_that_name_real_mcp_tools(tmp_path: Path) -> None:
    out = tmp_path / "agent-skills"
    done = perfpilot("skills", "export", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    built_in = sorted(s.name for s in discover(packages=False).skills)
    assert sorted(p.name for p in out.iterdir()) == built_in
    assert validate_skill_tree(out) == []
    for folder in out.iterdir():
        text = (folder / "SKILL.md").read_text()
        mentioned = set(re.findall(r"`([a-z_]+)`", text)) & TOOL_NAMES
        assert {
            "hot_functions",
            "function_profile",
            "function_source",
            "validate_edit",
        } <= mentioned
        deterministic = (BUILTIN_DIR / folder.name / "transform.py").is_file()
        assert ("fix_opportunities" in mentioned) == deterministic, folder.name
        assert ("apply_fix" in mentioned) == deterministic, folder.name
        # The skill's own words come along.
        original = (BUILTIN_DIR / folder.name / "SKILL.md").read_text().split("---", 2)[2]
        assert original.strip()[:200] in text
    # Exporting again replaces the files in place (idempotent), still valid.
    again = perfpilot("skills", "export", str(out), cwd=tmp_path)
    assert again.returncode == 0 and validate_skill_tree(out) == []


def test_export_needs_a_directory_and_refuses_a_file(tmp_path: Path) -> None:
    missing = perfpilot("skills", "export", cwd=tmp_path)
    assert missing.returncode == 2 and "perfpilot skills export DIR" in missing.stderr
    file = tmp_path / "a-file"
    file.write_text("x")
    refused = perfpilot("skills", "export", str(file), cwd=tmp_path)
    assert refused.returncode == 2 and "not a directory" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_the_built_in_skill_md_files_break_only_the_metadata_string_rule(tmp_path: Path) -> None:
    # The source SKILL.md files keep numbers in metadata (effect: 0.3); the export turns
    # them into strings. The validator must see that difference, and nothing else.
    for skill in discover(packages=False).skills:
        problems = validate_skill_folder(skill.path.parent)
        assert all("metadata" in p.message for p in problems), problems


@pytest.mark.parametrize(
    ("folder", "front", "body", "expected"),
    [
        ("Upper-Case", "name: Upper-Case\ndescription: d\n", GOOD_BODY, "lower-case"),
        ("two--hyphens", "name: two--hyphens\ndescription: d\n", GOOD_BODY, "single hyphens"),
        ("-leading", "name: -leading\ndescription: d\n", GOOD_BODY, "single hyphens"),
        ("other", "name: not-other\ndescription: d\n", GOOD_BODY, "differs from the folder"),
        ("a" * 65, f"name: {'a' * 65}\ndescription: d\n", GOOD_BODY, "at most 64"),
        ("no-description", "name: no-description\n", GOOD_BODY, "`description` is required"),
        ("long", f"name: long\ndescription: {'x' * 1025}\n", GOOD_BODY, "at most 1024"),
        ("extra", "name: extra\ndescription: d\nversion: 2\n", GOOD_BODY, "unknown field"),
        ("meta", "name: meta\ndescription: d\nmetadata:\n  n: 1\n", GOOD_BODY, "strings"),
        ("compat", f"name: compat\ndescription: d\ncompatibility: {'c' * 501}\n", GOOD_BODY, "500"),
        ("big", "name: big\ndescription: d\n", "line\n" * 500, "under 500"),
        ("wordy", "name: wordy\ndescription: d\n", "word " * 4500, "5000"),
        ("empty", "name: empty\ndescription: d\n", "\n", "body is empty"),
    ],
)
def test_the_validator_catches_each_rule(
    tmp_path: Path, folder: str, front: str, body: str, expected: str
) -> None:
    problems = validate_skill_folder(write_skill(tmp_path, folder, front, body))
    assert problems and any(expected in p.message for p in problems), problems


def test_the_validator_accepts_a_minimal_skill_and_rejects_missing_front_matter(
    tmp_path: Path,
) -> None:
    assert (
        validate_skill_folder(write_skill(tmp_path, "fine", "name: fine\ndescription: d\n")) == []
    )
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "SKILL.md").write_text("# no front matter\n")
    assert "front matter" in validate_skill_folder(bare)[0].message
    assert "no SKILL.md" in validate_skill_folder(tmp_path / "absent")[0].message
