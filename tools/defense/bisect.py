"""`regress --bisect`: measure the suspect commits by binary search to confirm the culprit.

The static ranking (how much of the function a commit changed) cannot tell a one-line slowdown
from a harmless rename of a local variable; a measurement can. Suspects are ordered as
history made them; each probe checks a suspect out in a temporary worktree, runs the workload
a few times, and asks whether the function's share is nearer the head's level or the base's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from statistics import median

from perfpilot.tools.defense.detect import DetectOptions, FunctionChange
from perfpilot.tools.defense.recording import profile_runs
from perfpilot.tools.defense.regress import RegressReport
from perfpilot.tools.defense.repo import GitState, commits_between, temporary_worktree
from perfpilot.tools.defense.rootcause import Culprit

PROBE_RUNS = 5


def bisect_report(
    report: RegressReport,
    root: Path,
    command: Sequence[str],
    sampler: str,
    options: DetectOptions,
    probe_runs: int = PROBE_RUNS,
) -> None:
    """Confirm the culprit of each regression by measuring; it moves to the front, marked."""
    if report.base is None:
        return
    order = [c.sha for c in commits_between(root, report.base, report.head)]
    for change in report.regressions:
        if not isinstance(change, FunctionChange):
            continue
        suspects = report.causes.get(change.key) or []
        if len(suspects) < 2:
            continue
        found = bisect_function(
            root, change, suspects, order, command, sampler, report.workload, probe_runs
        )
        if found is not None:
            found.bisected = True
            suspects.remove(found)
            suspects.insert(0, found)


def bisect_function(
    root: Path,
    change: FunctionChange,
    suspects: list[Culprit],
    order: list[str],
    command: Sequence[str],
    sampler: str,
    workload: str,
    probe_runs: int,
) -> Culprit | None:
    """The first suspect (in history order) at which the function's share reached the new level."""
    position = {sha: index for index, sha in enumerate(order)}
    ordered = sorted(
        (s for s in suspects if s.commit.sha in position), key=lambda s: position[s.commit.sha]
    )
    if not ordered:
        return None
    midpoint = (change.base_share + change.head_share) / 2
    low, high = 0, len(ordered) - 1  # the culprit is ordered[high] unless shown earlier
    while low < high:
        middle = (low + high) // 2
        share = _share_at(root, ordered[middle].commit.sha, change.key, command, sampler,
                          workload, probe_runs)  # fmt: skip
        print(
            f"perfpilot: bisect: {ordered[middle].commit.sha[:10]} `{change.qualname}`"
            f" {share:.1f}% (base {change.base_share:.1f}%, head {change.head_share:.1f}%)",
            file=sys.stderr,
        )
        if share >= midpoint:
            high = middle
        else:
            low = middle + 1
    return ordered[low]


def _share_at(
    root: Path,
    sha: str,
    key: str,
    command: Sequence[str],
    sampler: str,
    workload: str,
    runs: int,
) -> float:
    with temporary_worktree(root, sha) as tree:
        measured = profile_runs(
            command, tree, tree, workload=workload, repeat=runs, sampler=sampler,
            git=GitState(sha, False, None), stdout=sys.stderr,
        )  # fmt: skip
    return median(run.share(key) for run in measured)
