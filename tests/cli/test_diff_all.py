"""`--diff` is the patch `--fix` would write; `--diff-all` adds every other fix, marked."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.cli.test_check import perfpilot
from tests.cli.test_fix import digest, write_module

MODULE = """\
import re
import statistics


def words(text):
    return re.findall(r"\\w+", text)


def slow(items, targets):
    count = 0
    for item in items:
        if item > statistics.median(targets):
            count += 1
    return count
"""


def test_diff_is_the_patch_and_names_what_it_leaves_out(tmp_path: Path) -> None:
    write_module(tmp_path, MODULE)
    before = digest(tmp_path)
    done = perfpilot("check", "--all", "--diff", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "+_WORDS_RE = re.compile(" in done.stdout
    assert "# PP1" not in done.stdout and "statistics.median(targets)\n+" not in done.stdout
    assert re.search(r"\d+ display-only \(see them with --diff-all\)", done.stderr), done.stderr
    (tmp_path / "fix.patch").write_text(done.stdout)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    applied = subprocess.run(
        ["git", "apply", "--check", "fix.patch"], cwd=tmp_path, capture_output=True, text=True
    )
    assert applied.returncode == 0, applied.stderr
    assert digest(tmp_path) == before


def test_diff_all_shows_every_applicability_marked(tmp_path: Path) -> None:
    write_module(tmp_path, MODULE)
    before = digest(tmp_path)
    done = perfpilot("check", "--all", "--diff-all", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    patch, _, rest = done.stdout.partition("\n# PP")
    assert "+_WORDS_RE = re.compile(" in patch and "median" not in patch
    markers = re.findall(r"^# (PP\d+) ([a-z-]+): (.*) \(not applied\)$", done.stdout, re.M)
    levels = {code: level for code, level, _ in markers}
    assert levels.get("PP102") == "unsafe", markers
    assert levels.get("PP107") in ("display-only", "unsafe"), markers  # measured per version
    alias = done.stdout.split("# PP107 ", 1)[1]
    assert alias.splitlines()[1:3] == ["--- a/demo.py", "+++ b/demo.py"]
    assert "+    median = statistics.median\n" in alias
    assert digest(tmp_path) == before
    # With --unsafe-fixes the hoist is in the patch (the alias then has no loop to serve).
    wider = perfpilot("check", "--all", "--diff-all", "--unsafe-fixes", cwd=tmp_path)
    assert "+    median_targets = statistics.median(targets)\n" in wider.stdout
    assert "# PP102" not in wider.stdout
