"""The regressions of the current branch: HEAD's recorded runs against the base branch's.

What the editor shows (PP2xx on the def lines of regressed functions) comes from here. The
two sides are chosen as a reviewer of the branch would:
- head: the newest commit of the branch (HEAD's first-parent chain after the fork point)
  that has recorded runs of the workload — usually HEAD itself;
- base: the newest commit with recorded runs at or before the fork point, i.e. the
  merge-base of HEAD with the base branch (`base` setting, else the default branch:
  `origin/HEAD`, else a local main/master/trunk/develop).
On the default branch itself (no fork), head is the newest recorded commit and base the
recorded commit before it: "what the last change did". Nothing is run; only the history
database and git are read, so it is cheap and safe to do for any workspace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from perfpilot.tools.defense.detect import DetectOptions
from perfpilot.tools.defense.history import HISTORY_FILE, HistoryError, open_history
from perfpilot.tools.defense.regress import RegressReport, compare, findings, trace
from perfpilot.tools.defense.repo import GitError, branch_exists, first_parent_chain, git, resolve
from perfpilot.tools.defense.rootcause import Culprit
from perfpilot.tools.model import Finding

DEFAULT_BRANCHES = ("main", "master", "trunk", "develop")


@dataclass(frozen=True, slots=True)
class BranchOptions:
    """Which workload to compare, and against which branch (None: the default branch)."""

    workload: str = "default"
    base: str | None = None


@dataclass(slots=True)
class BranchRegressions:
    """The comparison for the branch: findings (PP201/202/203), root causes, or why none."""

    stamp: tuple[object, ...]
    findings: list[Finding] = field(default_factory=list)
    report: RegressReport | None = None
    reason: str = ""  # why there is nothing to show (no history, no run on the branch, ...)

    def causes(self, key: str) -> list[Culprit]:
        """The ranked suspect commits of one regressed function (`path:qualname`)."""
        return self.report.causes.get(key, []) if self.report is not None else []


def stamp(root: Path, options: BranchOptions) -> tuple[object, ...]:
    """What the result depends on: the database files (WAL included), HEAD, the options.

    In WAL mode new runs land in `history.db-wal` until a checkpoint, so both files count.
    """
    parts: list[object] = [options]
    for name in (HISTORY_FILE, Path(f"{HISTORY_FILE}-wal")):
        try:
            info = os.stat(root / name)
            parts.append((info.st_mtime_ns, info.st_size))
        except OSError:
            parts.append(None)
    if parts[1] is None:
        return tuple(parts)  # no history: nothing to compare, no need to ask git
    try:
        parts.append(git(root, "rev-parse", "-q", "--verify", "HEAD").strip())
    except GitError:
        parts.append(None)
    return tuple(parts)


def branch_regressions(
    root: Path, options: BranchOptions, detect: DetectOptions | None = None
) -> BranchRegressions:
    """Compare the branch's newest recorded runs with the base's; never raises for the user."""
    result = BranchRegressions(stamp(root, options))
    if not (root / HISTORY_FILE).is_file():
        result.reason = "no history (record runs with `perfpilot record`)"
        return result
    try:
        with open_history(root / HISTORY_FILE, create=False) as history:
            recorded = {r.commit for r in history.runs(options.workload, with_functions=False)}
            sides = _sides(root, options, recorded)
            if isinstance(sides, str):
                result.reason = sides
                return result
            base, head = sides
            report = RegressReport(options.workload, base, head)
            report.base_runs = history.runs(options.workload, [base])
            report.head_runs = history.runs(options.workload, [head])
        compare(report, detect or DetectOptions())
        trace(report, root)
    except (HistoryError, GitError, ValueError) as exc:
        result.reason = str(exc)
        return result
    result.report = report
    result.findings = findings(report, root)
    if not result.findings:
        warnings = report.comparison.warnings if report.comparison else []
        result.reason = warnings[0] if warnings else "no regression"
    return result


def _sides(root: Path, options: BranchOptions, recorded: set[str | None]) -> tuple[str, str] | str:
    """(base, head) commits with recorded runs, or the reason there are none."""
    head = resolve(root, "HEAD")
    chain = first_parent_chain(root, head)
    fork = _fork_point(root, head, options.base)
    if fork is None or fork == head or fork not in chain:
        # On the base branch itself: the newest recorded commit against the one before it.
        ours = [sha for sha in chain if sha in recorded]
        if len(ours) < 2:
            return f"fewer than two recorded commits of workload {options.workload!r} here"
        return ours[-2], ours[-1]
    branch = chain[chain.index(fork) + 1 :]
    mine = [sha for sha in branch if sha in recorded]
    if not mine:
        return f"no recorded run of workload {options.workload!r} on this branch"
    theirs = [sha for sha in first_parent_chain(root, fork) if sha in recorded]
    if not theirs:
        return f"no recorded run of workload {options.workload!r} at or before {fork[:10]}"
    return theirs[-1], mine[-1]


def _fork_point(root: Path, head: str, base: str | None) -> str | None:
    """The merge-base of HEAD with `base` (or the default branch); None when there is none."""
    ref = base or default_branch(root)
    if ref is None:
        return None
    try:
        return git(root, "merge-base", head, resolve(root, ref)).strip() or None
    except GitError:
        return None


def default_branch(root: Path) -> str | None:
    """`origin/HEAD`'s branch, else the first local main/master/trunk/develop."""
    remote = git(root, "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD", check=False)
    if remote.strip():
        return remote.strip()
    return next((name for name in DEFAULT_BRANCHES if branch_exists(root, name)), None)
