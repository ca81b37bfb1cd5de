"""The validation stages on their own: syntax, style (real ruff), guard, and the pipeline order."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from perfpilot.tools.validate import validate_edit
from perfpilot.tools.validate.style import check_style
from perfpilot.tools.validate.syntax import check_syntax, project_python

ORIGINAL = textwrap.dedent(
    """\
    import os


    def f(x):
        return os.path.join(x, "a")
    """
)


def project(tmp_path: Path, config: str = "") -> str:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n" + config)
    return str(tmp_path)


def test_syntax_names_the_line() -> None:
    result = check_syntax("def f(:\n    pass\n", "m.py")
    assert not result.passed and "line 1" in result.reason
    assert check_syntax(ORIGINAL, "m.py").passed


def test_syntax_checks_the_projects_oldest_python() -> None:
    match_statement = "match x:\n    case 1:\n        pass\n"
    assert check_syntax(match_statement, "m.py").passed
    old = check_syntax(match_statement, "m.py", python=(3, 8))
    assert not old.passed and "Python 3.8" in old.reason


def test_compile_errors_tree_sitter_accepts_are_caught() -> None:
    # Parses as a tree, but CPython rejects `return` outside a function.
    result = check_syntax("return 1\n", "m.py")
    assert not result.passed and "does not compile" in result.reason


def test_project_python_from_requires_python(tmp_path: Path) -> None:
    root = project(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[project]\nrequires-python = '>=3.9'\n")
    assert project_python(root) == (3, 9)
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\ntarget-version = 'py312'\n")
    assert project_python(root) == (3, 12)
    assert project_python(str(tmp_path / "missing")) is None


def test_style_refuses_a_new_violation_only(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.ruff.lint]\nselect = ["F"]\n')
    unused = ORIGINAL.replace("import os\n", "import os\nimport sys\n")
    outcome = check_style(ORIGINAL, unused, str(tmp_path / "m.py"), root)
    assert not outcome.result.passed and "F401" in outcome.result.reason
    # A violation the original already had is not the fix's fault.
    outcome = check_style(unused, unused.replace('"a"', '"b"'), str(tmp_path / "m.py"), root)
    assert outcome.result.passed, outcome.result.reason


def test_style_lets_ruff_place_an_added_import(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.ruff.lint]\nselect = ["I"]\n')
    added = "import sys\n" + ORIGINAL
    outcome = check_style(ORIGINAL, added, str(tmp_path / "m.py"), root)
    assert outcome.result.passed, outcome.result.reason
    assert outcome.text.startswith("import os\nimport sys\n")


def test_style_refuses_tabs_in_a_spaces_file(tmp_path: Path) -> None:
    root = project(tmp_path, '[tool.ruff.lint]\nselect = ["F"]\n')
    tabbed = ORIGINAL.replace('    return os.path.join(x, "a")', '\treturn os.path.join(x, "a")')
    not_formatted = ORIGINAL.replace('"a"', "'a'")  # so no formatter normalises the tab
    outcome = check_style(not_formatted, tabbed.replace('"a"', "'a'"), str(tmp_path / "m.py"), root)
    assert not outcome.result.passed and "indented unlike" in outcome.result.reason


def test_pipeline_order_and_guard(tmp_path: Path) -> None:
    root = project(tmp_path)
    path = str(tmp_path / "m.py")
    changed = ORIGINAL.replace('"a"', '"b"')
    ok = validate_edit(ORIGINAL, changed, path, claim=Applicability.SAFE, root=root)
    assert ok.applicability is Applicability.SAFE and ok.text == changed
    assert [s.stage for s in ok.stages] == ["transform", "syntax", "style"]
    refused = validate_edit(
        ORIGINAL, changed, path, claim=Applicability.SAFE, root=root, guard=lambda: "impure"
    )
    assert refused.text is None and refused.refusal == "guard: impure"

    def crashing_guard() -> str | None:
        raise RuntimeError("bug")

    crashed = validate_edit(
        ORIGINAL, changed, path, claim=Applicability.SAFE, root=root, guard=crashing_guard
    )
    assert crashed.refusal is not None and "RuntimeError" in crashed.refusal
    broken = validate_edit(ORIGINAL, "def f(:\n", path, claim=Applicability.SAFE, root=root)
    assert broken.refusal is not None and broken.refusal.startswith("syntax:")
    assert [s.stage for s in broken.stages] == ["transform", "syntax"]
    same = validate_edit(ORIGINAL, ORIGINAL, path, claim=Applicability.SAFE, root=root)
    assert same.refusal == "syntax: the edit changes nothing"


@pytest.mark.parametrize("bad_config", ["[tool.ruff\n", "[tool.ruff.lint]\nselect = 3\n"])
def test_a_broken_ruff_config_refuses_rather_than_guesses(tmp_path: Path, bad_config: str) -> None:
    (tmp_path / "pyproject.toml").write_text(bad_config)
    outcome = check_style(
        ORIGINAL, ORIGINAL.replace('"a"', '"b"'), str(tmp_path / "m.py"), str(tmp_path)
    )
    assert not outcome.result.passed and outcome.result.reason.startswith("not checked")
