"""SKILL.md `measured-median`/`measured-fixes`: reading them, holding back unproven skills,
and ranking opportunities by measured effect (a verdict here, the median, the static effect)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from perfpilot.skills import verdicts
from perfpilot.skills.fixing import Evidence, findings_in, scan_text
from perfpilot.skills.measured import Measured
from perfpilot.skills.registry import discover, load_skill
from perfpilot.skills.runner import build_fix
from perfpilot.skills.skill_spec import validate_skill_folder
from perfpilot.tools.verify.model import Speed, Verdict, VerdictKind
from tests.conftest import REPO
from tests.skills.unproven_package import CODE, make_skill_package

WORDS = """---
name: {name}
description: Use when testing the measured figures.
metadata:
  code: PP196
  kind: offense
{figures}
---
Body.
"""
# One hot function where three skills fire: precompile-regex (PP105), join-string-concat
# (PP104) and, on the membership test, slow-membership (PP197, the package's).
HOT = """import re


def render(rows, known):
    out = ""
    for row in rows:
        if row in ["x", "y", "z"]:
            out += row
        if re.match("a+", row):
            out += "!"
    return out
"""


def words_skill(root: Path, name: str, figures: str) -> Path:
    folder = root / ".perfpilot" / "skills" / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(WORDS.format(name=name, figures=figures))
    return folder


@pytest.fixture(autouse=True)
def no_verdicts() -> None:
    verdicts.forget_all()


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        ("  measured-median: 1.12\n  measured-fixes: 7", Measured(1.12, 7)),
        ('  measured-median: "1.02"\n  measured-fixes: "5"', Measured(1.02, 5)),
        ("  measured-median: 0", Measured(0.0, None)),
    ],
)
def test_figures_are_read(tmp_path: Path, figures: str, expected: Measured) -> None:
    folder = words_skill(tmp_path, "measured", figures)
    skill = load_skill(folder / "SKILL.md", "workspace", trusted=False)
    assert skill.measured == expected and not skill.warnings
    assert skill.unproven is (expected.median < 1.05)


@pytest.mark.parametrize(
    ("figures", "complaint"),
    [
        ("  measured-median: fast", "measured-median must be a number >= 0, not 'fast'"),
        ("  measured-median: -1.2", "measured-median must be a number >= 0, not -1.2"),
        ("  measured-median: true", "measured-median must be a number >= 0, not True"),
        ("  measured-median: .nan", "measured-median must be a number >= 0"),
        ("  measured-median: 1.2\n  measured-fixes: 2.5", "measured-fixes must be a whole"),
        ("  measured-fixes: 3", "measured-fixes without metadata.measured-median"),
    ],
)
def test_bad_figures_are_reported_and_the_skill_still_loads(
    tmp_path: Path, figures: str, complaint: str
) -> None:
    words_skill(tmp_path, "measured", figures)
    found = discover(tmp_path)
    skill = found.by_name("measured")
    assert skill is not None  # a typo in a figure neither hides the skill nor gates it
    assert not skill.unproven
    assert any(complaint in p and "measured/SKILL.md" in p for p in found.problems), found.problems
    assert any(complaint in str(p) for p in validate_skill_folder(skill.path.parent))


def test_skills_listing_shows_figures(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    words_skill(tmp_path, "measured", "  measured-median: 1.02\n  measured-fixes: 5")
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "skills"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("PP196  measured "))
    assert "1.02x over 5 fixes" in lines[index]
    assert "not offered by default" in lines[index + 1]


def _skills(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regex_median: float | None):
    """Built-ins (precompile-regex measured as asked, via a copy) and the package's skill."""
    monkeypatch.syspath_prepend(str(make_skill_package(tmp_path / "site")))
    found = discover(None)
    assert found.by_code(CODE) is not None, found.problems
    # The built-ins as unmeasured skills: what is tested here must not move with the corpus.
    skills = [
        s if s.code == CODE else replace(s, measured=None)
        for s in found.with_transforms()
        if s.code in ("PP104", "PP105", CODE)
    ]
    if regex_median is not None:
        copy = tmp_path / "copy" / "precompile-regex"
        shutil.copytree(REPO / "skills" / "precompile-regex", copy)
        md = copy / "SKILL.md"
        text = re.sub(r"  measured-(median|fixes): .*\n", "", md.read_text())
        md.write_text(
            text.replace(
                "  effect: 0.15\n",
                f"  effect: 0.15\n  measured-median: {regex_median}\n  measured-fixes: 4\n",
            )
        )
        regex = load_skill(md, "built-in", trusted=True)
        skills = [regex if s.code == "PP105" else s for s in skills]
    return skills


def test_unproven_skill_is_held_back_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    skills = _skills(tmp_path, monkeypatch, None)
    hot = {"render": Evidence(50.0, 1000)}
    codes = [f.code for f in findings_in(HOT, "m.py", hot, skills)]
    assert CODE not in codes and {"PP104", "PP105"} <= set(codes)
    with_unproven = findings_in(HOT, "m.py", hot, skills, include_unproven=True)
    (mine,) = [f for f in with_unproven if f.code == CODE]
    assert mine.data["estimate"] == "skill median on the corpus (6 fixes)"
    assert mine.data["speedup"] == 1.01


def test_ranking_by_measured_effect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hot = {"render": Evidence(50.0, 1000)}
    # Static estimates: join 0.2 and regex 0.15 of the function: join first.
    static = findings_in(HOT, "m.py", hot, _skills(tmp_path, monkeypatch, None))
    assert [f.code for f in static] == ["PP104", "PP105"]
    assert all(f.data["estimate"] == "static estimate" for f in static)
    assert "(~10% CPU, static estimate)" in static[0].message
    # precompile-regex measured 1.5x over 4 fixes: 1/3 of the function, above join's 0.2.
    skills = _skills(tmp_path / "2", monkeypatch, 1.5)
    ranked = findings_in(HOT, "m.py", hot, skills, include_unproven=True)
    assert [f.code for f in ranked] == ["PP105", "PP104", CODE]
    assert ranked[0].data["saving_percent"] == pytest.approx(50 * (1 - 1 / 1.5), abs=0.01)
    assert "skill median on the corpus (4 fixes)" in ranked[0].message
    # A verdict on this very function outranks both, and offers the unproven skill.
    (membership,) = [f for f in scan_text(HOT, "m.py", hot, skills) if f.skill.code == CODE]
    fix = build_fix(HOT, membership)
    speed = Speed(3.0, 2.8, 3.2, 0.02, 1.05, 64, 20, 3.0, 1.0)
    verdict = Verdict(VerdictKind.FASTER, "faster: 3.00x", 64, speed)
    verdicts.remember(HOT, membership, fix, verdict)
    ranked = findings_in(HOT, "m.py", hot, skills)
    assert [f.code for f in ranked] == [CODE, "PP105", "PP104"]
    assert ranked[0].data["estimate"] == "measured on this function"
    assert ranked[0].data["saving_percent"] == pytest.approx(50 * (1 - 1 / 3.0), abs=0.01)
    # Measured slower here: offered only on request, and ranked last.
    slower = Speed(0.9, 0.85, 0.95, 0.02, 1.05, 64, 20, 1.0, 1.1)
    verdicts.remember(HOT, membership, fix, Verdict(VerdictKind.NOT_FASTER, "not", 64, slower))
    assert CODE not in [f.code for f in findings_in(HOT, "m.py", hot, skills)]
    ranked = findings_in(HOT, "m.py", hot, skills, include_unproven=True)
    assert ranked[-1].code == CODE and ranked[-1].data["saving_percent"] < 0


ALIAS = """import math


def norms(values):
    out = 0.0
    for value in values:
        out += math.sqrt(value)
    return out


def largest(values):
    return sorted(values)[-1]
"""


def _faster(text: str, found: object) -> None:
    speed = Speed(1.2, 1.15, 1.25, 0.02, 1.05, 64, 20, 1.2, 1.0)
    fix = build_fix(text, found)  # type: ignore[arg-type]
    verdicts.remember(text, found, fix, Verdict(VerdictKind.FASTER, "faster", 64, speed))  # type: ignore[arg-type]


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="PP107's table is per version")
def test_a_faster_verdict_raises_local_alias_to_unsafe_and_nothing_else() -> None:
    skills = [s for s in discover(None).with_transforms() if s.code in ("PP107", "PP108")]
    hot = {"norms": Evidence(40.0, 10), "largest": Evidence(10.0, 10)}
    found = {f.skill.code: f for f in scan_text(ALIAS, "m.py", hot, skills)}
    alias, minmax = found["PP107"], found["PP108"]
    assert alias.claim.name == minmax.claim.name == "DISPLAY_ONLY"
    for item in (alias, minmax):
        _faster(ALIAS, item)
    # local-alias holds it back for want of speed evidence: this verdict is the evidence.
    assert alias.claim.name == "UNSAFE"
    assert build_fix(ALIAS, alias).applicability.name == "UNSAFE"
    # sorted()[-1] -> max() is display-only for behaviour (ties), which a replay cannot prove.
    assert minmax.claim.name == "DISPLAY_ONLY"
    # An edit of the function forgets the verdict: display-only again.
    edited = ALIAS.replace("out = 0.0", "out = 0.0  # total")
    (again,) = [f for f in scan_text(edited, "m.py", hot, skills) if f.skill.code == "PP107"]
    assert again.claim.name == "DISPLAY_ONLY"
