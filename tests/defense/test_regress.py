"""`perfpilot regress` end to end on a real git repository, with the program really run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from perfpilot.tools.agent_tools import TOOLS, ToolContext
from perfpilot.tools.registry import to_data
from tests.defense.conftest import commit_all, git, perfpilot
from tests.defense.html_probe import CHROMIUM, render_in_chromium

SLOW_LINE = "        total += len(str(i)) * 0\n"


def plant_slowdown(root: Path) -> str:
    """Make `parse` slower in one commit between two harmless ones; return the culprit SHA."""
    app = root / "app.py"
    (root / "README.md").write_text("An app.\n")
    commit_all(root, "docs: a readme")
    text = app.read_text().replace(
        "        total += i % 7\n", "        total += i % 7\n" + SLOW_LINE
    )
    app.write_text(text)
    culprit = commit_all(root, "parse: count digits too")
    app.write_text(app.read_text().replace("def helper(n):\n", "def helper(n):\n    # sum\n"))
    commit_all(root, "helper: a comment")
    return culprit


def check_html_report(report: Path, scratch: Path, culprit: str) -> None:
    """The report is self-contained and Chromium draws its bars, series and diff."""
    text = report.read_text()
    assert "Content-Security-Policy" in text and "<script" not in text
    assert not re.search(r"(src|href)=|https?://", text)
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    seen = render_in_chromium(report, scratch)
    assert seen["sections"] == ["app.py:parse"]
    base_bar, head_bar = seen["bars"]  # type: ignore[misc]
    assert 0 < base_bar < head_bar
    assert seen["points"] == 12  # 6 base and 6 head runs
    assert seen["seriesHeights"][0] > 100 and seen["changeLines"][0] > 50  # type: ignore[index]
    assert seen["added"] == ["+" + SLOW_LINE.rstrip("\n")]  # type: ignore[union-attr]
    assert culprit[:10] in seen["cause"][0]  # type: ignore[index]
    assert seen["summary"].startswith("1 regression")  # type: ignore[union-attr]


def test_run_mode_finds_the_slowed_function_and_its_commit(repo: Path) -> None:
    culprit = plant_slowdown(repo)
    before = (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"))
    done = perfpilot("regress", "--base", "HEAD~3", "--run", "python3 app.py", "--repeat", "6",
                     "--output-format", "json", cwd=repo)  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    reported = [f for f in report["findings"] if f["code"] in ("PP201", "PP202")]
    assert len(reported) == 1, [(f["message"], f["data"]) for f in reported]
    (finding,) = reported
    assert finding["code"] == "PP201" and finding["filename"] == "app.py"
    assert finding["location"]["row"] == 1  # parse's def line
    data = finding["data"]
    assert data["qualname"] == "parse" and data["delta_points"] > 5
    assert data["p_value"] < 0.01 and data["q_value"] < 0.01
    assert data["head_ms"] > data["base_ms"] and data["commit"] == culprit
    low, high = data["interval_points"]
    assert 0 < low <= high
    causes = report["root_causes"]["app.py:parse"]
    assert causes[0]["commit"] == culprit and causes[0]["author"] == "Ann Author"
    assert SLOW_LINE.strip() in causes[0]["hunk"]
    # The user's branch, HEAD and work tree are as they were; no worktree is left behind.
    assert (git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")) == before
    assert git(repo, "worktree", "list").count("\n") == 1
    # The runs were stored: history mode now answers without running anything.
    text = perfpilot("regress", "--base", "HEAD~3", "--head", "HEAD", "--html", "out/report.html",
                     cwd=repo)  # fmt: skip
    assert text.returncode == 1, text.stderr
    check_html_report(repo / "out" / "report.html", repo.parent, culprit)
    line = text.stdout.splitlines()[0]
    assert re.match(
        r"app\.py:1:1: PP201 `parse` regressed: \+\d+\.\d% of the program \(\d+\.\d -> \d+\.\d"
        rf" ms/run, p=[\d.e-]+, q=[\d.e-]+\) since {culprit[:7]} 'parse: count digits too'",
        line,
    ), line
    assert "Root cause of `parse`" in text.stdout and SLOW_LINE.strip() in text.stdout
    github = perfpilot("regress", "--base", "HEAD~3", "--output-format", "github", cwd=repo)
    assert github.stdout.startswith("::warning title=perfpilot (PP201),file=app.py,line=1")
    sarif = json.loads(perfpilot("regress", "--base", "HEAD~3", "--output-format", "sarif",
                                 cwd=repo).stdout)  # fmt: skip
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "PP201" and result["level"] == "warning"
    # The same answers through the typed tools (agent, MCP), from the history alone.
    ctx = ToolContext(root=repo)
    found = to_data(TOOLS.get("regressions").call(ctx, {"base": "HEAD~3"}))  # type: ignore[union-attr]
    (entry,) = found["entries"]
    assert (entry["code"], entry["path"], entry["qualname"]) == ("PP201", "app.py", "parse")
    assert entry["suspect_commit"] == culprit and entry["q_value"] < 0.01
    arguments = {"path": "app.py", "qualname": "parse", "base": "HEAD~3"}
    suspects = to_data(TOOLS.get("root_cause").call(ctx, arguments))  # type: ignore[union-attr]
    assert [s["sha"] for s in suspects] == [culprit]
    assert SLOW_LINE.strip() in suspects[0]["hunk"]


def test_a_renamed_hot_function_is_not_a_regression(repo: Path) -> None:
    app = repo / "app.py"
    app.write_text(app.read_text().replace("parse(", "tokenize("))
    commit_all(repo, "rename parse to tokenize")
    done = perfpilot("regress", "--base", "HEAD~1", "--run", "python3 app.py", "--repeat", "8",
                     "--output-format", "json", cwd=repo)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert not [f for f in report["findings"] if f["code"] in ("PP201", "PP202")]
    shifts = {s["function"]: s["from"] for s in report["cost_shifts"]}
    assert "app.py:parse" in shifts["app.py:tokenize"]


def test_regress_errors_are_one_line(repo: Path) -> None:
    for args, words in (
        (["regress", "--base", "nope", "--run", "python3 app.py"], "'nope' is not a commit"),
        (["regress", "--base", "HEAD"], "no history yet"),
        (["regress", "--run", "python3 app.py"], "--run needs --base"),
    ):
        done = perfpilot(*args, cwd=repo)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr


def test_history_mode_reports_a_step_that_stays_and_not_one_that_went_away(repo: Path) -> None:
    app = repo / "app.py"
    original = app.read_text()

    def record(repeat: int = 3) -> None:
        done = perfpilot("record", "--repeat", str(repeat), "--", "python3", "app.py", cwd=repo)
        assert done.returncode == 0, done.stderr

    record(6)
    app.write_text(
        original.replace("        total += i % 7\n", "        total += i % 7\n" + SLOW_LINE)
    )
    culprit = commit_all(repo, "parse: count digits too")
    record()
    (repo / "notes.txt").write_text("unrelated\n")
    step_head = commit_all(repo, "notes")
    record()
    app.write_text(original)
    commit_all(repo, "Revert 'parse: count digits too'")
    record()
    (repo / "notes.txt").write_text("still unrelated\n")
    commit_all(repo, "more notes")
    record()

    gone = perfpilot("regress", "--output-format", "json", cwd=repo)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    report = json.loads(gone.stdout)
    assert report["findings"] == []
    assert "app.py:parse" in [w["function"] for w in report["went_away"]]
    assert "went away" in report["summary"]

    stayed = perfpilot("regress", "--head", step_head, "--output-format", "json", cwd=repo)
    assert stayed.returncode == 1, stayed.stdout + stayed.stderr
    report = json.loads(stayed.stdout)
    (finding,) = [f for f in report["findings"] if f["code"] == "PP201"]
    assert finding["data"]["qualname"] == "parse"
    assert finding["data"]["change_commit"] == culprit and finding["data"]["commit"] == culprit


def test_one_pair_of_sampled_profiles_uses_the_count_test(repo: Path) -> None:
    culprit = plant_slowdown(repo)
    done = perfpilot("regress", "--base", "HEAD~3", "--run", "python3 app.py 600", "--repeat", "1",
                     "--sampler", "py-spy", "--output-format", "json", cwd=repo)  # fmt: skip
    if "py-spy" in done.stderr and "permission" in done.stderr.lower():
        pytest.skip("py-spy cannot trace here")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    # One pair of wall-clock samples cannot tell load from code: on a busy machine a second
    # function can cross the count test too (a clean CI run saw it once). What this test
    # checks is that the planted one is found by that test, with its commit.
    reported = {
        f["data"]["qualname"]: f["data"] for f in report["findings"] if f["code"] == "PP201"
    }
    assert "parse" in reported, list(reported)
    data = reported["parse"]
    assert data["method"] == "poisson"
    assert data["q_value"] < 0.01 and data["commit"] == culprit
