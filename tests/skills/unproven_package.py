"""An installed skill package (entry point `perfpilot.skills`) whose skill the corpus measured.

`slow-membership` (PP197) is set-membership's transform under another name and code, with
`measured-median` below 1.05: an unproven skill, as a third-party package would ship one. The
package is a real distribution on a folder put on PYTHONPATH (a `.dist-info` with its entry
points), so a `perfpilot` subprocess and the language server discover it as users' would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import REPO

CODE = "PP197"
NAME = "slow-membership"
MEDIAN, FIXES = 1.01, 6
SKILL_MD = f"""---
name: {NAME}
description: >-
  Use when a hot loop tests membership in a list that does not change in the loop: test
  against a set built once before the loop (a test copy of set-membership).
metadata:
  code: {CODE}
  applicability: safe
  kind: offense
  effect: 0.5
  measured-median: {MEDIAN}
  measured-fixes: {FIXES}
---
Test skill: set-membership's transform, measured below 1.05x (so held back by default).
"""


def make_skill_package(where: Path, median: object = MEDIAN) -> Path:
    """Write the package and its dist-info under `where`; returns the folder for PYTHONPATH."""
    package = where / "unproven_skills"
    folder = package / NAME
    shutil.copytree(
        REPO / "skills" / "set-membership",
        folder,
        ignore=shutil.ignore_patterns("__pycache__", "SKILL.md"),
    )
    (package / "__init__.py").write_text('"""Skills measured on the corpus."""\n')
    (folder / "SKILL.md").write_text(SKILL_MD.replace(str(MEDIAN), str(median), 1))
    info = where / "unproven_skills-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: unproven-skills\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[perfpilot.skills]\nunproven = unproven_skills\n")
    return where
