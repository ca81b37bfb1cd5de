"""`perfpilot check --select/--ignore` (and the project's `select`/`ignore`), ruff's rule: the
most specific entry decides; what is left out is neither reported nor fixed."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from perfpilot.tools.code_selection import CodeSelection, CodeSelectionError, parse_codes
from tests.cli.test_check import example, perfpilot  # noqa: F401 - the module's fixture

__all__ = ["example"]


@pytest.mark.parametrize(
    ("select", "ignore", "kept", "dropped"),
    [
        ((), (), ["PP001", "PP105"], []),
        (("PP1",), (), ["PP105", "PP110"], ["PP001", "PP201"]),
        (("PP1",), ("PP107",), ["PP105"], ["PP107", "PP001"]),
        (("PP",), ("PP1",), ["PP001", "PP201"], ["PP105"]),
        (("PP110",), ("PP1",), ["PP110"], ["PP105"]),  # the more specific select wins
        (("ALL",), ("PP10",), ["PP110", "PP001"], ["PP105"]),
        (("PP1",), ("PP1",), [], ["PP105"]),  # a tie: ignored
    ],
)
def test_the_most_specific_entry_decides(
    select: tuple[str, ...], ignore: tuple[str, ...], kept: list[str], dropped: list[str]
) -> None:
    chosen = CodeSelection(select, ignore)
    assert [code for code in kept if chosen.wants(code)] == kept
    assert [code for code in dropped if chosen.wants(code)] == []


def test_entries_are_checked_and_normalised() -> None:
    assert parse_codes(["pp1, PP107", "PP1"], "--select") == ("PP1", "PP107")
    with pytest.raises(CodeSelectionError, match="--ignore: 'E501' is not a code"):
        parse_codes(["E501"], "--ignore")


def codes_of(done: object) -> set[str]:
    return {f["code"] for f in json.loads(done.stdout)["findings"]}  # type: ignore[attr-defined]


def test_check_reports_only_what_is_selected(example: Path) -> None:  # noqa: F811
    every = codes_of(perfpilot("check", "--profile", "example.prof", "--output-format", "json",
                               "--include-unproven", cwd=example))  # fmt: skip
    assert "PP001" in every and len({c for c in every if c.startswith("PP1")}) >= 2, every
    skills = codes_of(perfpilot("check", "--profile", "example.prof", "--output-format", "json",
                                "--include-unproven", "--select", "PP1", cwd=example))  # fmt: skip
    assert skills == {c for c in every if c.startswith("PP1")}
    one = sorted(skills)[0]
    rest = codes_of(perfpilot("check", "--profile", "example.prof", "--output-format", "json",
                              "--include-unproven", "--ignore", one, cwd=example))  # fmt: skip
    assert rest == every - {one}
    bad = perfpilot("check", "--profile", "example.prof", "--select", "E501", cwd=example)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "'E501'" in bad.stderr


def test_fix_applies_only_the_selected_codes_and_the_project_may_choose(
    example: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(example, root)
    before = {p: p.read_text() for p in root.rglob("*.py")}
    counted = count_codes(root)
    fixable = sorted(c for c in counted if c.startswith("PP1"))
    # The project leaves out every skill: --fix changes nothing, PP001 is still reported.
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'loganalyzer'\n[tool.perfpilot]\nignore = ['PP1']\n"
    )
    done = perfpilot("check", "--profile", "example.prof", "--fix", "--unsafe-fixes",
                     "--include-unproven", "--output-format", "json", cwd=root)  # fmt: skip
    assert codes_of(done) == {"PP001"}, done.stdout
    assert {p: p.read_text() for p in root.rglob("*.py")} == before
    # --ignore on the command line replaces the project's: now only the first skill's fixes go in.
    done = perfpilot("check", "--profile", "example.prof", "--fix", "--unsafe-fixes",
                     "--include-unproven", "--ignore", ",".join(fixable[1:]), cwd=root)  # fmt: skip
    assert [p for p in before if p.read_text() != before[p]], done.stdout + done.stderr
    (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
    after = count_codes(root)
    assert after[fixable[0]] < counted[fixable[0]], (counted, after)
    assert {c: after[c] for c in fixable[1:]} == {c: counted[c] for c in fixable[1:]}


def count_codes(root: Path) -> Counter[str]:
    done = perfpilot("check", "--profile", "example.prof", "--output-format", "json",
                     "--include-unproven", cwd=root)  # fmt: skip
    return Counter(f["code"] for f in json.loads(done.stdout)["findings"])
