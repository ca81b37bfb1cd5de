"""A regression check end to end: gather runs (history or fresh), compare, trace, make findings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from perfpilot.tools.defense.detect import (
    IMPROVEMENT,
    NEW_HOT,
    REGRESSION,
    Comparison,
    DetectOptions,
    FunctionChange,
    compare_runs,
)
from perfpilot.tools.defense.history import History, Run
from perfpilot.tools.defense.recording import profile_runs
from perfpilot.tools.defense.repo import GitState, first_parent_chain, temporary_worktree
from perfpilot.tools.defense.rootcause import Culprit, culprit_targets, rank_commits
from perfpilot.tools.defense.series import SeriesChange, SeriesReport, detect_series
from perfpilot.tools.model import Finding, Severity

REGRESSED, NEW_HOT_FUNCTION, IMPROVED = "PP201", "PP202", "PP203"
DEFAULT_REPEAT = 20


class RegressError(Exception):
    """The comparison cannot be made (no runs, ...); one line for the user."""


@dataclass(slots=True)
class RegressReport:
    """What `regress` found: the comparison (two commits) or the series, and the suspects."""

    workload: str
    base: str | None
    head: str
    base_runs: list[Run] = field(default_factory=list)
    head_runs: list[Run] = field(default_factory=list)
    comparison: Comparison | None = None
    series: SeriesReport | None = None
    series_runs: list[Run] = field(default_factory=list)
    causes: dict[str, list[Culprit]] = field(default_factory=dict)

    @property
    def regressions(self) -> list[FunctionChange | SeriesChange]:
        """Regressed and new hot functions, largest first."""
        if self.comparison is not None:
            return list(self.comparison.regressions)
        assert self.series is not None
        return [c for c in self.series.changes if c.delta > 0]


def runs_from_history(
    history: History, workload: str, base: str, head: str
) -> tuple[list[Run], list[Run]]:
    """The recorded runs of `workload` at the two commits (full SHAs)."""
    base_runs = history.runs(workload, [base])
    head_runs = history.runs(workload, [head])
    for side, sha, runs in (("base", base, base_runs), ("head", head, head_runs)):
        if not runs:
            raise RegressError(
                f"no recorded run of workload {workload!r} at {side} {sha[:10]}; record one"
                " (`perfpilot record --workload NAME -- CMD` on that commit) or use --run CMD"
            )
    return base_runs, head_runs


def runs_alternately(
    root: Path,
    base: str,
    head: str,
    command: Sequence[str],
    *,
    workload: str,
    repeat: int,
    sampler: str = "cprofile",
    output: TextIO | None = None,
    clock: str = "cpu",
) -> tuple[list[Run], list[Run]]:
    """Check base and head out in temporary worktrees and run the workload alternately.

    The order flips every round (base-head, head-base, ...) so that a machine warming up
    or slowing down during the comparison does not favour one side.
    """
    base_runs: list[Run] = []
    head_runs: list[Run] = []
    with temporary_worktree(root, base) as base_tree, temporary_worktree(root, head) as head_tree:
        sides = [(base_tree, base, base_runs), (head_tree, head, head_runs)]
        for round_number in range(repeat):
            for tree, sha, into in sides if round_number % 2 == 0 else sides[::-1]:
                into += profile_runs(
                    command, tree, tree, workload=workload, repeat=1, sampler=sampler,
                    git=GitState(sha, False, None), stdout=output, clock=clock,
                )  # fmt: skip
    return base_runs, head_runs


def compare(report: RegressReport, options: DetectOptions) -> None:
    """Fill `report.comparison` from its base and head runs."""
    report.comparison = compare_runs(report.base_runs, report.head_runs, options)


def compare_series(
    report: RegressReport, root: Path, history: History, options: DetectOptions
) -> None:
    """Fill `report.series` from the recorded runs along head's first-parent chain."""
    chain = first_parent_chain(root, report.head)
    runs = history.runs(report.workload, chain)
    if not runs:
        raise RegressError(
            f"no recorded run of workload {report.workload!r} on the history of"
            f" {report.head[:10]}; record some with `perfpilot record`"
        )
    report.series_runs = runs
    report.series = detect_series(chain, runs, options)
    if report.base is None and report.series.commits:
        report.base = report.series.commits[0]


def trace(report: RegressReport, root: Path) -> None:
    """Rank the commits of base..head for each regression (the root cause)."""
    if report.base is None:
        return
    gains = _gains(report)
    for change in report.regressions:
        callees = _callees(report, change.key)
        targets = culprit_targets(
            change.key, callees, gains, change.path, change.qualname,
            getattr(change, "hot_lines", ()) or _hot_lines(report, change.key),
        )  # fmt: skip
        base = report.base if isinstance(change, FunctionChange) else _before(report, change)
        report.causes[change.key] = rank_commits(root, base, report.head, targets)


def _before(report: RegressReport, change: SeriesChange) -> str:
    """The commit just before the series change began (where the old level was measured)."""
    assert report.series is not None
    commits = report.series.commits
    index = commits.index(change.commit)
    return commits[max(0, index - 1)] if index > 0 else (report.base or change.commit)


def _gains(report: RegressReport) -> dict[str, float]:
    if report.comparison is not None:
        return {c.key: c.delta for c in report.comparison.changes}
    assert report.series is not None
    return {c.key: c.delta for c in (*report.series.changes, *report.series.went_away)}


def _callees(report: RegressReport, key: str) -> dict[str, float]:
    runs = report.head_runs or report.series_runs
    for run in reversed(runs):
        if key in run.functions:
            return run.functions[key].callees
    return {}


def _hot_lines(report: RegressReport, key: str) -> list[int]:
    for run in reversed(report.head_runs or report.series_runs):
        figures = run.functions.get(key)
        if figures is not None:
            return sorted(figures.hot_lines, key=lambda line: -figures.hot_lines[line])[:5]
    return []


def findings(report: RegressReport, root: Path) -> list[Finding]:
    """PP201 (regressed), PP202 (new hot function) and PP203 (improvement) findings."""
    out: list[Finding] = []
    if report.comparison is not None:
        for change in report.comparison.of_kind(REGRESSION, NEW_HOT, IMPROVEMENT):
            out.append(_finding(change, report, root))
    elif report.series is not None:
        for change in report.series.changes:
            out.append(_series_finding(change, report, root))
    return out


def _since(report: RegressReport, key: str) -> tuple[str, dict[str, object]]:
    causes = report.causes.get(key) or []
    if not causes:
        return "", {}
    top = causes[0].commit
    summary = top.summary if len(top.summary) <= 60 else top.summary[:57] + "..."
    return f" since {top.sha[:7]} '{summary}'", {"commit": top.sha, "summary": top.summary}


def _finding(change: FunctionChange, report: RegressReport, root: Path) -> Finding:
    times = ""
    if change.base_ms is not None and change.head_ms is not None:
        times = f"{change.base_ms:.1f} -> {change.head_ms:.1f} ms/run, "
    evidence = f"({times}p={change.p_value:.2g}, q={change.q_value:.2g})"
    since, cause = _since(report, change.key) if change.kind != IMPROVEMENT else ("", {})
    share = f"{change.base_share:.1f}% -> {change.head_share:.1f}%"
    if change.kind == REGRESSION:
        code, severity = REGRESSED, Severity.WARNING
        message = f"`{change.qualname}` regressed: {change.delta:+.1f}% of the program {evidence}"
        message += f"{since}; own share {share}"
    elif change.kind == NEW_HOT:
        code, severity = NEW_HOT_FUNCTION, Severity.WARNING
        message = f"New hot function `{change.qualname}`: {change.head_share:.1f}% of the program"
        message += f" {evidence}{since}"
    else:
        code, severity = IMPROVED, Severity.INFORMATION
        message = f"`{change.qualname}` improved: {change.delta:+.1f}% of the program {evidence}"
    low, high = change.interval
    data: dict[str, object] = {
        "qualname": change.qualname,
        "base_percent": round(change.base_share, 3),
        "head_percent": round(change.head_share, 3),
        "delta_points": round(change.delta, 3),
        "interval_points": [round(low, 3), round(high, 3)],
        "base_ms": change.base_ms,
        "head_ms": change.head_ms,
        "p_value": change.p_value,
        "q_value": change.q_value,
        "p_time": change.p_time,
        "method": change.method,
        **cause,
    }
    return Finding(
        code, message, os.path.join(root, change.path), change.def_line, 1, severity=severity,
        data=data,
    )  # fmt: skip


def _series_finding(change: SeriesChange, report: RegressReport, root: Path) -> Finding:
    rising = change.delta > 0
    since, cause = _since(report, change.key) if rising else ("", {})
    evidence = f"(p={change.p_value:.2g}, q={change.q_value:.2g}, from {change.commit[:7]} on)"
    verb = "regressed" if rising else "improved"
    message = (
        f"`{change.qualname}` {verb}: {change.delta:+.1f}% of the program"
        f" ({change.before:.1f}% -> {change.after:.1f}%) {evidence}{since}"
    )
    return Finding(
        REGRESSED if rising else IMPROVED,
        message,
        os.path.join(root, change.path),
        change.def_line,
        1,
        severity=Severity.WARNING if rising else Severity.INFORMATION,
        data={
            "qualname": change.qualname,
            "before_percent": round(change.before, 3),
            "after_percent": round(change.after, 3),
            "delta_points": round(change.delta, 3),
            "change_commit": change.commit,
            "p_value": change.p_value,
            "q_value": change.q_value,
            **cause,
        },
    )
