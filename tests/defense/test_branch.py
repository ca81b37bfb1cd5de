"""Which runs the editor compares: the branch's newest recorded commit against its base's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from perfpilot.tools.defense.branch import BranchOptions, branch_regressions
from tests.defense.conftest import commit_all, git, perfpilot
from tests.defense.test_regress import SLOW_LINE
from tests.defense.test_series_dilution import PROFILE


def record(root: Path, runs: int = 6) -> None:
    """Import `runs` real CPU-time cProfile runs of app.py at HEAD into the history."""
    sha = git(root, "rev-parse", "HEAD").strip()
    names = []
    for number in range(runs):
        name = f"{sha[:7]}-{number}.prof"
        subprocess.run([sys.executable, "-c", PROFILE, name], cwd=root, check=True)
        names += ["--profile", name]
    done = perfpilot("record", *names, "--commit", sha, cwd=root)
    assert done.returncode == 0, done.stderr
    for name in names[1::2]:
        (root / name).unlink()


def test_on_the_default_branch_the_newest_recorded_commit_is_compared_with_the_one_before(
    repo: Path,
) -> None:
    assert branch_regressions(repo, BranchOptions()).reason.startswith("no history")
    base = git(repo, "rev-parse", "HEAD").strip()
    record(repo)
    app = repo / "app.py"
    app.write_text(app.read_text().replace("        total += i % 7\n",
                                           "        total += i % 7\n" + SLOW_LINE))  # fmt: skip
    slow = commit_all(repo, "parse: count digits too")
    record(repo)
    (repo / "notes.txt").write_text("later, unrecorded\n")
    commit_all(repo, "notes")

    result = branch_regressions(repo, BranchOptions())
    assert result.report is not None
    assert (result.report.base, result.report.head) == (base, slow)
    assert [(f.code, f.data["qualname"]) for f in result.findings if f.code != "PP203"] == [
        ("PP201", "parse")
    ]
    assert result.causes("app.py:parse")[0].commit.sha == slow

    # A branch without a recorded run of its own has nothing to show (and says why).
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "more.txt").write_text("branch work\n")
    commit_all(repo, "branch work")
    result = branch_regressions(repo, BranchOptions())
    assert result.findings == [] and "no recorded run" in result.reason
    # Another workload name: nothing recorded under it.
    other = branch_regressions(repo, BranchOptions(workload="api"))
    assert other.findings == [] and "'api'" in other.reason
