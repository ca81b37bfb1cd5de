"""Skill discovery: SKILL.md validation, the trust rule for code, installed packages' skills."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perfpilot.skills.plugin_scan import may_declare
from perfpilot.skills.registry import ENTRY_POINT_GROUP, SkillSet, discover, load_skill
from perfpilot.skills.runner import Target, find_opportunities
from perfpilot.skills.transform_loading import TransformError
from perfpilot.tools.model import Applicability
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source

GOOD = """\
---
name: {name}
description: Use it when it helps.
metadata:
  code: {code}
  applicability: unsafe
  kind: offense
---
# Body
How to fix it.
"""


_WHEN = "---\nname: bad-skill\ndescription: d\nmetadata:\n  applicability: safe\n  {}\n---\n"


def write_skill(folder: Path, name: str, text: str | None = None, code: str = "PP150") -> Path:
    skill = folder / name
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(text if text is not None else GOOD.format(name=name, code=code))
    return skill


def test_builtin_skills_load_with_transforms() -> None:
    found = discover(packages=False)
    assert not found.problems, found.problems
    regex = found.by_code("PP105")
    assert regex is not None and regex.transform is not None and regex.origin == "built-in"
    assert regex.applicability is Applicability.SAFE
    assert regex.transform.code == "PP105" and regex.transform.name == "precompile-regex"
    codes = [s.code for s in found.skills]
    assert len(codes) == len(set(codes))
    for skill in found.skills:
        assert skill.body.strip() and skill.description


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter\n", "must start with `---`"),
        ("---\nname: [unclosed\n---\n", "not valid YAML"),
        ("---\nname: other-name\ndescription: d\n---\n", "but the folder is"),
        ("---\nname: bad-skill\n---\n", "`description` is missing"),
        ("---\nname: bad-skill\ndescription: d\nmetadata:\n  code: X1\n---\n", "not a PP1xx"),
        ("---\nname: bad-skill\ndescription: d\nmetadata:\n  kind: attack\n---\n", "kind"),
        ("---\nname: bad-skill\ndescription: d\nmetadata:\n  applicability: yes\n---\n", "one of"),
        ("---\nname: bad-skill\ndescription: d\n", "no closing"),
        (_WHEN.format("applicability-default: risky\n  applicability-safe-when: x"), "a level"),
        (_WHEN.format("applicability-safe-when: if x"), "default must be a level"),
        (_WHEN.format("applicability-default: unsafe\n  applicability-odd-when: x"), "odd-when"),
        (
            _WHEN.format("applicability-default: unsafe\n  applicability-display-only-when: x"),
            "highest level",
        ),
    ],
)
def test_invalid_skill_files_are_reported_with_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    write_skill(tmp_path / ".perfpilot" / "skills", "bad-skill", text)
    found = discover(tmp_path, packages=False)
    assert found.by_name("bad-skill") is None
    (reported,) = [p for p in found.problems if "bad-skill" in p]
    assert problem in reported and "SKILL.md" in reported


def test_workspace_skills_are_words_and_cannot_replace_builtins(tmp_path: Path) -> None:
    skills = tmp_path / ".perfpilot" / "skills"
    write_skill(skills, "our-cache", code="PP160")
    (skills / "our-cache" / "transform.py").write_text("raise SystemExit('imported!')\n")
    write_skill(skills, "precompile-regex", code="PP161")
    write_skill(skills, "steals-code", code="PP105")
    found = discover(tmp_path, packages=False)
    ours = found.by_name("our-cache")
    assert ours is not None and ours.transform is None and ours.origin == "workspace"
    assert found.by_name("precompile-regex").origin == "built-in"  # type: ignore[union-attr]
    assert found.by_name("steals-code") is None
    assert sum("clashes with the built-in" in p for p in found.problems) == 2


def test_trusted_transform_problems_are_reported(tmp_path: Path) -> None:
    """A transform that fails to import is reported: at discovery, or at first use when lazy."""
    broken = write_skill(tmp_path, "broken-one")
    (broken / "transform.py").write_text("import nonexistent_module_xyz\n")
    with pytest.raises(TransformError, match="import failed: ModuleNotFoundError"):
        load_skill(broken / "SKILL.md", "package demo", trusted=True).transform  # noqa: B018
    empty = write_skill(tmp_path, "empty-one", code="PP151")
    (empty / "transform.py").write_text("X = 1\n")
    with pytest.raises(TransformError, match="defines no TRANSFORM"):
        load_skill(empty / "SKILL.md", "package demo", trusted=True).transform  # noqa: B018
    eager = SkillSet([load_skill(p / "SKILL.md", "package demo", True) for p in (broken, empty)])
    assert eager.load_transforms() == eager.problems and len(eager.problems) == 2
    assert eager.skills == []  # dropped, as discovery does unless lazy


def test_lazy_discovery_imports_a_transform_only_when_a_function_triggers_it() -> None:
    """`check` discovers lazily: guard-noop-replace's transform loads on a `.replace(`."""
    found = discover(packages=False, lazy=True)
    skill = found.by_name("guard-noop-replace")
    assert skill is not None and skill.loader is not None and str(skill.trigger) == "replace"
    assert not skill.loader.loaded and not any(s.loader.loaded for s in found.with_transforms())
    text = "def f(n):\n    return n + 1\n"
    index = index_source(text, "m.py")
    targets = [Target(f) for f in index.functions]
    assert find_opportunities(text, "m.py", targets, [skill], facts_of_source(text)) == []
    assert not skill.loader.loaded
    text = 'def f(s):\n    s = s.replace("&", "&amp;")\n    return s\n'
    index = index_source(text, "m.py")
    targets = [Target(f) for f in index.functions]
    (hit,) = find_opportunities(text, "m.py", targets, [skill], facts_of_source(text))
    assert hit.skill is skill and skill.loader.loaded


def test_installed_package_skills_via_entry_point(tmp_path: Path) -> None:
    package = tmp_path / "site" / "acme_perf"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    write_skill(package, "acme-batching", code="PP170")
    dist = tmp_path / "site" / "acme_perf-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-perf\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[perfpilot.skills]\nacme = acme_perf\n")
    script = textwrap.dedent(
        """\
        from perfpilot.skills.registry import discover
        found = discover()
        skill = found.by_name("acme-batching")
        print(skill.origin, skill.code, found.problems)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "package acme-perf PP170 []"


def test_module_facts() -> None:
    facts = facts_of_source(
        textwrap.dedent(
            '''\
            """Doc."""
            from __future__ import annotations
            import re, os.path as p
            from functools import cache as c
            try:
                import ujson as json
            except ImportError:
                import json
            X = 1
            def f(): pass
            '''
        )
    )
    assert facts.refers_to("re", "re") and facts.binding_for("functools.cache") == "c"
    assert facts.imports["p"] == "os.path"
    assert "json" in facts.rebound and "X" in facts.rebound
    assert facts.import_line == 4 and facts.has_imports
    assert {"X", "c", "f", "json"} <= facts.identifiers


def test_module_facts_keep_new_imports_below_a_shebang_and_docstring() -> None:
    text = '#!/usr/bin/env python3\n# Licence: MIT\n"""Doc."""\n\n\ndef f():\n    pass\n'
    assert facts_of_source(text).import_line == 3
    assert facts_of_source("#!/usr/bin/env python3\nx = 1\n").import_line == 1


def test_plugin_scan_rules_out_only_what_importlib_metadata_would_not_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No importlib.metadata import when no distribution names the group; it is asked else."""
    site = tmp_path / "site"
    other = site / "other-1.0.dist-info"
    other.mkdir(parents=True)
    (other / "entry_points.txt").write_text("[console_scripts]\nother = other:main\n")
    (site / "legacy.egg-info").write_text("Metadata-Version: 1.0\n")  # a file, not a folder
    monkeypatch.setattr(sys, "path", [str(site), str(tmp_path / "missing")])
    assert not may_declare(ENTRY_POINT_GROUP)
    (other / "entry_points.txt").write_text("[perfpilot.skills]\nacme = acme_perf\n")
    assert may_declare(ENTRY_POINT_GROUP)
    (other / "entry_points.txt").unlink()
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip archive on sys.path
    monkeypatch.setattr(sys, "path", [str(site), str(archive)])
    assert may_declare(ENTRY_POINT_GROUP)
