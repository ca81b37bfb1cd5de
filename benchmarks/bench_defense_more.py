"""The rename/move, went-away and mitigation checks of bench_defense.py (real runs each)."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path

from bench_defense import ANCHOR, COMMAND, FILE, PLANTED, TARGET, commit, edit, git

from perfpilot.tools.defense.detect import DetectOptions, compare_runs
from perfpilot.tools.defense.recording import profile_runs
from perfpilot.tools.defense.regress import RegressReport, runs_alternately
from perfpilot.tools.defense.repo import GitState, temporary_worktree
from perfpilot.tools.defense.series import detect_series
from perfpilot.tools.defense.solver import prepare_mitigation

HOTTEST = "loganalyzer/enrich.py:edit_distance"


def rename_and_move(root: Path) -> None:
    """Rename the hottest function and move it to a new module, call sites updated."""
    enrich = root / "loganalyzer/enrich.py"
    text = enrich.read_text()
    start, end = text.index("def edit_distance"), text.index("def guess_bot")
    function = text[start:end].replace("edit_distance(", "levenshtein(")
    (root / "loganalyzer/distance.py").write_text(
        '"""String distances."""\n\nfrom __future__ import annotations\n\n\n'
        + function.rstrip()
        + "\n"
    )
    rest = (text[:start] + text[end:]).replace("edit_distance(", "levenshtein(")
    rest = rest.replace(
        "from .parsing import", "from .distance import levenshtein\nfrom .parsing import"
    )
    enrich.write_text(rest)


def moved_and_went_away(
    root: Path, head: str, k: int, repeat: int, options: DetectOptions
) -> Iterator[str]:
    """Rows: a rename+move is not a regression; a reverted step is not reported (series)."""
    git(root, "checkout", "-q", "-b", "refactor", head)
    rename_and_move(root)
    moved = commit(root, "enrich: edit_distance -> distance.levenshtein")
    base_runs, head_runs = runs_alternately(
        root, head, moved, COMMAND, workload="mv", repeat=repeat
    )
    comparison = compare_runs(base_runs, head_runs, options)
    reported = [c.key for c in comparison.regressions]
    shifted = [c.key for c in comparison.of_kind("cost-shift")]
    yield (f"| rename+move of the hottest function ({HOTTEST}) | 1 |"
           f" reported: {reported or 'none'};"
           f" cost shifts: {shifted} | none reported |")  # fmt: skip

    # History: base, slow (5x the planted cost), note, revert, note; 4 runs at each commit.
    git(root, "checkout", "-q", "-b", "series", head)
    chain = [git(root, "rev-parse", "HEAD")]
    edit(root, FILE, ANCHOR, ANCHOR + PLANTED.format(k=k * 5))
    chain.append(commit(root, "slow"))
    (root / "NOTES.md").write_text("one\n")
    chain.append(commit(root, "note"))
    edit(root, FILE, ANCHOR + PLANTED.format(k=k * 5), ANCHOR)
    chain.append(commit(root, "Revert slow"))
    (root / "NOTES.md").write_text("two\n")
    chain.append(commit(root, "note 2"))
    runs = []
    for sha in chain:
        with temporary_worktree(root, sha) as tree:
            runs += profile_runs(COMMAND, tree, tree, workload="series", repeat=4,
                                 git=GitState(sha, False, None))  # fmt: skip
    reverted = detect_series(chain, runs, options)
    kept = detect_series(chain[:3], [r for r in runs if r.commit in chain[:3]], options)
    went = [c.key for c in reverted.went_away]
    yield (f"| history: slowdown reverted 2 commits later | 1 | reported:"
           f" {[c.key for c in reverted.changes] or 'none'}; went away: {TARGET in went} | none"
           " reported |")  # fmt: skip
    yield (f"| history control: the same slowdown not reverted | 1 | reported:"
           f" {[c.key for c in kept.changes]} | {TARGET} |")  # fmt: skip
    git(root, "checkout", "-q", "main")


def mitigation_check(root: Path, report: RegressReport, base_runs: list) -> Iterator[str]:
    """Rows: the mitigation branch for the planted regression: validated, tested, timed."""
    before = (git(root, "rev-parse", "main"), git(root, "status", "--porcelain"))
    tests = ["python3", "workload.py", "--lines", "300"]  # the example's own end-to-end run
    mitigation = prepare_mitigation(root, report, workload=COMMAND, tests=tests, repeat=8)
    chosen = next(
        (c for c in mitigation.candidates if mitigation.branch and c.title in mitigation.description
         and "(chosen)" in mitigation.description and c.share is not None),
        None,
    )  # fmt: skip
    base_share = statistics.median(r.share(TARGET) for r in base_runs)
    after = (git(root, "rev-parse", "main"), git(root, "status", "--porcelain"))
    yield (f"| mitigation branch | 1 | {mitigation.branch}: {chosen.title if chosen else None};"
           f" validated: {bool(chosen and chosen.text)}; tests: {chosen.tests if chosen else '-'}"
           " | validated, tests pass |")  # fmt: skip
    share = f"{chosen.share:.2f}%" if chosen and chosen.share is not None else "-"
    program = f"{chosen.program_s:.3f} s" if chosen and chosen.program_s is not None else "-"
    yield (
        f"| time restored (own share of {TARGET}) | 1 | base {base_share:.2f}%, head"
        f" {mitigation.head_share:.2f}%, mitigated {share}; program"
        f" {mitigation.head_program_s:.3f} s -> {program} (8 interleaved runs) | back to base |"
    )
    yield f"| user's branch and tree untouched | 1 | {before == after} | True |"
