"""Prepare a mitigation for the top regression: candidates, checks, branch, PR description."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from perfpilot.tools.defense.detect import FunctionChange
from perfpilot.tools.defense.mitigate import (
    Candidate,
    Extra,
    Mitigation,
    Verify,
    _validated,
    best_candidate,
    check_candidates,
    commit_branch,
    revert_candidate,
    skill_candidates,
)
from perfpilot.tools.defense.regress import RegressReport
from perfpilot.tools.defense.rootcause import Culprit

MITIGATIONS_DIR = Path(".perfpilot") / "mitigations"


def prepare_mitigation(
    root: Path,
    report: RegressReport,
    *,
    workload: Sequence[str],
    tests: Sequence[str] | None = None,
    verify: Verify | None = None,
    extra: Extra | None = None,
    repeat: int = 5,
    function: str | None = None,
) -> Mitigation:
    """Build, check and commit the best fix for the largest regression with a root cause.

    `function` (`path:qualname`) picks another regression than the largest.
    """
    change, culprit = _top(report, function)
    mitigation = Mitigation(function=change.key, verified=verify is not None)
    mitigation.candidates.append(revert_candidate(root, report.head, change, culprit))
    mitigation.candidates += skill_candidates(root, report.head, change)
    if extra is not None:
        head_text = _head_text(root, report.head, change)
        for title, source in extra(head_text, change, culprit):
            candidate = _validated(root, report.head, change, Candidate("agent", title), source)
            mitigation.candidates.append(candidate)
    mitigation.head_share, mitigation.head_program_s = check_candidates(
        root, report.head, change, mitigation.candidates, workload=workload, tests=tests,
        verify=verify, repeat=repeat,
    )  # fmt: skip
    best = best_candidate(mitigation.candidates, mitigation.head_share)
    mitigation.description = describe(report, change, culprit, mitigation, best, tests)
    if best is not None:
        message = f"perf: {best.title}\n\n{_commit_body(change, culprit, mitigation, best)}"
        mitigation.branch, mitigation.commit = commit_branch(
            root, report.head, change, best, message
        )
        mitigation.description = describe(report, change, culprit, mitigation, best, tests)
    return mitigation


def write_description(root: Path, mitigation: Mitigation) -> Path:
    """Write the PR description under .perfpilot/mitigations/ (perfpilot's folder)."""
    name = (mitigation.branch or "no-branch").replace("/", "-")
    path = root / MITIGATIONS_DIR / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(mitigation.description, encoding="utf-8")
    return path


def discard_mitigation(root: Path, branch: str, commit: str, description: str | None) -> bool:
    """Undo a finished mitigation the user cancelled: delete its branch (only a
    `perfpilot/` branch still at `commit`) and its description; True when the branch went."""
    from perfpilot.tools.defense.repo import git

    if description:
        path = Path(description)
        if path.parent == root / MITIGATIONS_DIR and path.suffix == ".md":
            path.unlink(missing_ok=True)
    if not branch.startswith("perfpilot/") or not commit:
        return False
    # Never delete a branch that moved on since the job committed it: that is someone's work.
    at = git(root, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", check=False).strip()
    if at != commit:
        return False
    git(root, "branch", "-D", branch, check=False)
    return True


def _top(report: RegressReport, function: str | None) -> tuple[FunctionChange, Culprit]:
    for change in report.regressions:
        causes = report.causes.get(change.key)
        wanted = function is None or change.key == function
        if isinstance(change, FunctionChange) and causes and wanted:
            return change, causes[0]
    which = f" of {function}" if function else ""
    raise ValueError(f"no regression{which} with a root cause to mitigate")


def _head_text(root: Path, head: str, change: FunctionChange) -> str:
    from perfpilot.tools.defense.repo import file_at

    return file_at(root, head, change.path) or ""


def _commit_body(
    change: FunctionChange, culprit: Culprit, mitigation: Mitigation, best: Candidate
) -> str:
    lines = [
        f"`{change.qualname}` ({change.path}) regressed by {change.delta:+.1f} points of the"
        f" program (p={change.p_value:.2g}) in {culprit.commit.sha[:10]}"
        f" '{culprit.commit.summary}'.",
    ]
    if best.share is not None and mitigation.head_share is not None:
        lines.append(
            f"Own share with this change: {best.share:.1f}% (head {mitigation.head_share:.1f}%,"
            f" base {change.base_share:.1f}%)."
        )
    lines.append("Prepared by perfpilot regress --mitigate; review before merging.")
    return "\n".join(lines) + "\n"


def describe(
    report: RegressReport,
    change: FunctionChange,
    culprit: Culprit,
    mitigation: Mitigation,
    best: Candidate | None,
    tests: Sequence[str] | None,
) -> str:
    """The pull-request description, in Markdown: evidence, root cause, what was checked."""
    commit = culprit.commit
    title = best.title if best else f"No mitigation found for `{change.qualname}`"
    out = [f"# {title}", ""]
    out += [
        f"`{change.qualname}` in `{change.path}` regressed between `{(report.base or '')[:10]}`"
        f" and `{report.head[:10]}`.",
        "",
        "## Evidence",
        "",
        "| | base | head | " + ("with this change |" if best else ""),
        "|---|---|---|" + ("---|" if best else ""),
    ]
    with_share = f" {best.share:.2f}% |" if best and best.share is not None else ""
    with_time = f" {best.program_s:.3f} s |" if best and best.program_s is not None else ""
    out.append(
        f"| own share of the program | {change.base_share:.2f}% | {change.head_share:.2f}% |"
        + with_share
    )
    if change.base_ms is not None and change.head_ms is not None:
        out.append(f"| own time per run | {change.base_ms:.1f} ms | {change.head_ms:.1f} ms |"
                   + (" |" if best else ""))  # fmt: skip
    if mitigation.head_program_s is not None and best:
        out.append(f"| program time per run (this check) | | {mitigation.head_program_s:.3f} s |"
                   + with_time)  # fmt: skip
    if best is not None and mitigation.verified:
        # The chosen change on the function's recorded calls (perfpilot verify).
        out.append(f"| recorded calls of the function (verify) | | | {best.verified} |")
    low, high = change.interval
    out += [
        "",
        f"Rank test p={change.p_value:.2g} (Benjamini-Hochberg q={change.q_value:.2g}),"
        f" 95% interval of the change {low:+.2f} .. {high:+.2f} points, {change.method}.",
        "",
        "## Root cause",
        "",
        f"{commit.sha[:10]} by {commit.author}, {commit.date[:10]}: {commit.summary}"
        + (" (confirmed by bisection)" if culprit.bisected else ""),
        "",
        "```diff",
        culprit.hunk,
        "```",
        "",
        "## What was checked",
        "",
        "| candidate | validation | tests | verification | own share |",
        "|---|---|---|---|---|",
    ]
    for candidate in mitigation.candidates:
        validation = "passed" if candidate.text else f"refused: {candidate.refusal}"
        if candidate.text and candidate.refusal:
            validation = f"passed; {candidate.refusal}"
        share = f"{candidate.share:.2f}%" if candidate.share is not None else "-"
        chosen = " (chosen)" if candidate is best else ""
        out.append(
            f"| {candidate.origin}: {candidate.title}{chosen} | {validation} | {candidate.tests}"
            f" | {candidate.verified} | {share} |"
        )
    if not tests:
        out += ["", "The project's tests were not run (pass `--test-cmd CMD`)."]
    if mitigation.branch:
        out += ["", f"Branch `{mitigation.branch}` (commit `{(mitigation.commit or '')[:10]}`),"
                " local only: nothing was pushed."]  # fmt: skip
    return "\n".join(out) + "\n"
