"""Root-cause ranking on a real git history (git log -L over the function's span)."""

from __future__ import annotations

from pathlib import Path

from perfpilot.tools.defense.rootcause import Target, rank_commits
from tests.defense.conftest import commit_all, git


def test_a_rename_ranks_below_a_change_that_adds_work_and_comments_do_not_count(
    repo: Path,
) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    app = repo / "app.py"
    text = app.read_text()
    app.write_text(text.replace("    out = []\n", "    # collect the digits\n    out = []\n"))
    comment = commit_all(repo, "render: a comment")
    text = app.read_text()
    app.write_text(text.replace("out.append(str(i))", "out.append(str(i).zfill(12))"))
    slower = commit_all(repo, "render: pad the digits")
    app.write_text(app.read_text().replace("out", "parts"))
    rename = commit_all(repo, "render: rename out to parts")
    (repo / "other.txt").write_text("unrelated\n")
    commit_all(repo, "unrelated file")

    ranked = rank_commits(repo, base, "HEAD", [Target("app.py", "render", 1.0)])
    shas = [c.commit.sha for c in ranked]
    assert shas == [slower, rename]  # the comment-only commit changed no code
    assert comment not in shas
    top = ranked[0]
    assert top.commit.author == "Ann Author" and top.commit.summary == "render: pad the digits"
    assert top.lines_changed == 2 and "+        out.append(str(i).zfill(12))" in top.hunk
    assert ranked[1].lines_changed == 6 and ranked[1].score < top.score
