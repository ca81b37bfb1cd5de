"""`perfpilot check --fix / --diff / --unsafe-fixes / --all` on real files."""

from __future__ import annotations

import hashlib
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.cli.test_check import WORKLOAD, findings, perfpilot
from tests.conftest import REPO


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private, profiled copy of the example: these tests write to it."""
    root = tmp_path / "example"
    shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
    done = perfpilot("profile", "-o", "example.prof", "--", *WORKLOAD, cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.py"))
    }


def report_hash(root: Path) -> str:
    """The workload's own checksum of its report: the program's behaviour."""
    done = perfpilot("profile", "-o", "again.prof", "--", *WORKLOAD, cwd=root)
    assert done.returncode == 0, done.stderr
    profile_output = done.stdout + done.stderr
    line = next(x for x in profile_output.splitlines() if x.startswith("report sha256:"))
    return line


def test_diff_shows_the_safe_fixes_and_changes_nothing(example: Path) -> None:
    before = digest(example)
    done = perfpilot("check", "--profile", "example.prof", "--diff", cwd=example)
    assert done.returncode == 1, done.stderr
    assert "--- a/loganalyzer/parsing.py" in done.stdout
    assert "+_PARSE_LINE_RE = re.compile(" in done.stdout
    assert "Would apply" in done.stderr
    assert digest(example) == before


def test_fix_writes_safe_fixes_and_keeps_behaviour(example: Path) -> None:
    expected = report_hash(example)
    done = perfpilot("check", "--profile", "example.prof", "--fix", cwd=example)
    assert done.returncode in (0, 1), done.stderr
    summary = done.stdout.splitlines()
    applied = next(line for line in summary if line.startswith("Applied "))
    count = int(applied.split()[1])
    assert count >= 1, applied
    assert "_PARSE_LINE_RE.match(" in (example / "loganalyzer/parsing.py").read_text()
    # Fixed opportunities are no longer reported; unsafe ones still are.
    assert not any(f["code"] == "PP105" for f in findings(done.stdout))
    assert report_hash(example) == expected
    again = perfpilot("check", "--profile", "example.prof", "--fix", cwd=example)
    assert "Applied 0 safe fixes in 0 files" in again.stdout
    # No stray temporary files from the atomic writes.
    assert not list(example.rglob("*.tmp"))


def test_unsafe_fixes_need_fix_or_diff(example: Path) -> None:
    done = perfpilot("check", "--profile", "example.prof", "--unsafe-fixes", cwd=example)
    assert done.returncode == 2 and "--unsafe-fixes needs --fix or --diff" in done.stderr


def test_json_carries_the_fix_summary(example: Path) -> None:
    done = perfpilot(
        "check", "--profile", "example.prof", "--fix", "--output-format", "json", cwd=example
    )
    document = json.loads(done.stdout)
    assert document["fixes"]["mode"] == "fix" and document["fixes"]["applied"] >= 1
    offense = [f for f in document["findings"] if f["code"].startswith("PP1")]
    for finding in offense:
        assert finding["data"]["applicability"] in ("safe", "unsafe", "display-only")
        assert finding["data"]["skill"]


def write_module(root: Path, text: str, config: str = "") -> Path:
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n" + config)
    path = root / "demo.py"
    path.write_text(textwrap.dedent(text))
    return path


def test_all_scans_every_function_without_a_profile(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        """\
        import re


        def words(text):
            return re.findall(r"\\w+", text)
        """,
    )
    done = perfpilot("check", "--all", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    (finding,) = findings(done.stdout)
    assert finding["code"] == "PP105" and finding["path"] == "demo.py"
    assert done.stdout.splitlines()[-1].startswith("No profile: looked at every function")
    fixed = perfpilot("check", "--all", "--fix", cwd=tmp_path)
    assert "Applied 1 safe fix in 1 file" in fixed.stdout, fixed.stdout
    assert "_WORDS_RE.findall(text)" in (tmp_path / "demo.py").read_text()


def test_a_fix_that_breaks_the_projects_style_is_refused_with_its_reason(tmp_path: Path) -> None:
    # Single quotes: the file is not formatter-clean, so perfpilot does not reformat the new
    # line, and the module constant is longer than the project allows.
    path = write_module(
        tmp_path,
        """\
        import re


        def check(s):
            return re.match(
                'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
                s,
            )
        """,
        config='[tool.ruff]\nline-length = 45\n[tool.ruff.lint]\nselect = ["E501"]\n',
    )
    before = path.read_text()
    done = perfpilot("check", "--all", "--fix", cwd=tmp_path)
    assert "1 refused" in done.stdout, done.stdout
    assert "refused: demo.py: PP105" in done.stdout
    assert "style: new ruff violation: E501" in done.stdout
    assert path.read_text() == before


def test_ignore_comment_suppresses(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        """\
        import re


        def words(text):
            return re.findall(r"\\w+", text)  # perfpilot: ignore[PP105]
        """,
    )
    done = perfpilot("check", "--all", cwd=tmp_path)
    assert done.returncode == 0 and findings(done.stdout) == [], done.stdout


def test_skills_lists_builtin_and_workspace_skills(tmp_path: Path) -> None:
    folder = tmp_path / ".perfpilot" / "skills" / "team-caching"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        "---\nname: team-caching\ndescription: Use our cache helper. Always.\n"
        "metadata:\n  code: PP190\n---\n# Our cache\n"
    )
    # A workspace transform is never imported: this one would leave a file behind.
    (folder / "transform.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    done = perfpilot("skills", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("PP105  precompile-regex") for line in lines)
    team = next(line for line in lines if "team-caching" in line)
    assert "words only" in team and "workspace" in team
    assert not (tmp_path / "imported").exists()
    shown = perfpilot("skills", "precompile-regex", cwd=tmp_path)
    assert shown.stdout.startswith("---\nname: precompile-regex\n")


def test_a_formatted_project_gets_formatted_fixes(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """\
        import re


        def check(s):
            return re.match(
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                s,
            )
        """,
        config='[tool.ruff]\nline-length = 45\n[tool.ruff.lint]\nselect = ["E501"]\n',
    )
    done = perfpilot("check", "--all", "--fix", cwd=tmp_path)
    assert "Applied 1 safe fix in 1 file" in done.stdout, done.stdout
    # The file was ruff-format clean, so the new code is formatted too (wrapped at 45).
    assert (
        '_CHECK_RE = re.compile(\n    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"\n)\n' in path.read_text()
    )
