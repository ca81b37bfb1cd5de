"""The defense's typed tools (`regressions`, `root_cause`) for the agent and the MCP server.

Both only read: the recorded history and git. Neither runs the user's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from perfpilot.tools.defense.detect import DetectOptions
from perfpilot.tools.defense.history import HISTORY_FILE, HistoryError, open_history
from perfpilot.tools.defense.regress import (
    RegressError,
    RegressReport,
    compare,
    compare_series,
    findings,
    runs_from_history,
    trace,
)
from perfpilot.tools.defense.repo import GitError, resolve
from perfpilot.tools.defense.rootcause import Target, rank_commits
from perfpilot.tools.registry import ToolError
from perfpilot.tools.tool_context import TOOLS, Qualname, ToolContext

Ref = Annotated[str, "a git revision: a SHA, a branch, HEAD~3, ..."]


@dataclass(frozen=True, slots=True)
class RegressionEntry:
    """One function that changed between base and head, with how sure the test is."""

    code: str  # PP201 regressed, PP202 new hot function, PP203 improved
    path: str
    line: int
    qualname: str
    message: str
    delta_points: float
    p_value: float
    q_value: float
    suspect_commit: str | None


@dataclass(frozen=True, slots=True)
class Regressions:
    """The comparison's outcome: base and head commits and the functions that changed."""

    workload: str
    base: str | None
    head: str
    entries: list[RegressionEntry]


@dataclass(frozen=True, slots=True)
class SuspectCommit:
    """A commit of base..head that changed the function, ranked by how likely it is the cause."""

    sha: str
    author: str
    date: str
    summary: str
    score: float
    lines_changed: int
    touched_hot_lines: bool
    hunk: str


def _report(ctx: ToolContext, workload: str, base: str | None, head: str) -> RegressReport:
    try:
        head_sha = resolve(ctx.root, head)
        base_sha = resolve(ctx.root, base) if base else None
        report = RegressReport(workload, base_sha, head_sha)
        with open_history(ctx.root / HISTORY_FILE, create=False) as history:
            if base_sha is not None:
                report.base_runs, report.head_runs = runs_from_history(
                    history, workload, base_sha, head_sha
                )
                compare(report, DetectOptions())
            else:
                compare_series(report, ctx.root, history, DetectOptions())
    except (GitError, HistoryError, RegressError, ValueError) as exc:
        raise ToolError(str(exc)) from None
    trace(report, ctx.root)
    return report


@TOOLS.tool()
def regressions(
    ctx: ToolContext,
    base: Annotated[str | None, "compare against this commit; omit to scan head's history"] = None,
    head: Ref = "HEAD",
    workload: Annotated[str, "the recorded workload's name"] = "default",
) -> Regressions:
    """Functions that got slower (or faster) between two commits, from the recorded history."""
    report = _report(ctx, workload, base, head)
    entries = []
    for finding in findings(report, ctx.root):
        data = finding.data
        entries.append(
            RegressionEntry(
                code=finding.code,
                path=ctx.relative(finding.path),
                line=finding.line,
                qualname=str(data.get("qualname", "")),
                message=finding.message,
                delta_points=float(data.get("delta_points", 0.0)),  # type: ignore[arg-type]
                p_value=float(data.get("p_value", 1.0)),  # type: ignore[arg-type]
                q_value=float(data.get("q_value", 1.0)),  # type: ignore[arg-type]
                suspect_commit=data.get("commit"),  # type: ignore[arg-type]
            )
        )
    return Regressions(workload, report.base, report.head, entries)


@TOOLS.tool()
def root_cause(
    ctx: ToolContext,
    path: Annotated[str, "the function's file, relative to the workspace root"],
    qualname: Qualname,
    base: Ref,
    head: Ref = "HEAD",
    limit: Annotated[int, "at most this many commits"] = 5,
) -> list[SuspectCommit]:
    """The commits of base..head that changed the function, most likely culprit first."""
    ctx.resolve(path)  # refuses a path outside the workspace
    try:
        base_sha, head_sha = resolve(ctx.root, base), resolve(ctx.root, head)
    except GitError as exc:
        raise ToolError(str(exc)) from None
    culprits = rank_commits(ctx.root, base_sha, head_sha, [Target(path, qualname, 1.0)])
    return [
        SuspectCommit(
            sha=c.commit.sha,
            author=c.commit.author,
            date=c.commit.date,
            summary=c.commit.summary,
            score=round(c.score, 4),
            lines_changed=c.lines_changed,
            touched_hot_lines=c.touched_hot,
            hunk=c.hunk[:8000],
        )
        for c in culprits[:limit]
    ]
