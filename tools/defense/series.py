"""Change points over a history series: where a function's share stepped, and whether it stayed.

The series is the runs at each commit of a first-parent chain, oldest first. A function's
series is cut into stretches of constant level (binary segmentation with a rank test); the
change that matters is between the first stretch and the last one. A step that came back
down (a change reverted, a noisy week) leaves the last stretch at the first one's level:
that is the went-away filter, and such steps are listed as `went_away`, not reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

from perfpilot.tools.defense.changepoints import Level, segment
from perfpilot.tools.defense.detect import STABLE_MIN, DetectOptions, stable_mass
from perfpilot.tools.defense.history import Run
from perfpilot.tools.defense.stats import benjamini_hochberg, mann_whitney

# Binary segmentation's per-split level; the final first-vs-last test is FDR-controlled.
SEGMENT_ALPHA = 0.01


@dataclass(slots=True)
class SeriesChange:
    """A function whose level at the end of the series differs from its level at the start."""

    key: str
    path: str
    qualname: str
    def_line: int
    commit: str  # the first commit of the stretch where the new level began
    before: float  # share, percent
    after: float
    p_value: float  # one-sided, in the direction the level moved
    q_value: float = 1.0
    levels: list[Level] = field(default_factory=list)
    series: list[float] = field(default_factory=list)  # median share per commit (NaN = no run)

    @property
    def delta(self) -> float:
        """Change of the own share, percentage points."""
        return self.after - self.before


@dataclass(slots=True)
class SeriesReport:
    """Persistent changes, and steps that went away (for the record)."""

    commits: list[str]
    changes: list[SeriesChange]
    went_away: list[SeriesChange]
    # Share changes that were only the echo of another function's change (time unchanged).
    diluted: list[SeriesChange] = field(default_factory=list)


def detect_series(
    chain: Sequence[str], runs: Sequence[Run], options: DetectOptions | None = None
) -> SeriesReport:
    """Find persistent share changes over the commits of `chain` (oldest first)."""
    options = options or DetectOptions()
    by_commit: dict[str, list[Run]] = {}
    for run in runs:
        if run.commit is not None:
            by_commit.setdefault(run.commit, []).append(run)
    commits = [sha for sha in chain if sha in by_commit]
    keys = sorted({k for run in runs if run.commit in by_commit for k in run.functions})
    found: list[SeriesChange] = []
    went_away: list[SeriesChange] = []
    for key in keys:
        groups = [[run.share(key) for run in by_commit[sha]] for sha in commits]
        times = [[run.seconds(key) for run in by_commit[sha]] for sha in commits]
        if len(groups) < 2 or max(median(g) for g in groups) < options.test_floor:
            continue
        levels = segment(groups, SEGMENT_ALPHA, options.min_effect)
        if len(levels) < 2:
            continue
        change = _change(key, runs, commits, groups, levels)
        if _matters(change.delta, change.before, options) and _time_agrees(change, times):
            found.append(change)
        else:
            went_away.append(change)
    for change, q in zip(found, benjamini_hochberg([c.p_value for c in found])):
        change.q_value = q
    changes = [c for c in found if c.q_value <= options.fdr]
    # A step whose end level is not surely different from its start did not persist either.
    went_away += [c for c in found if c.q_value > options.fdr]
    diluted = drop_diluted(changes, [by_commit[sha] for sha in commits], options)
    return SeriesReport(commits, sorted(changes, key=lambda c: -abs(c.delta)), went_away, diluted)


def _change(
    key: str,
    runs: Sequence[Run],
    commits: list[str],
    groups: list[list[float]],
    levels: list[Level],
) -> SeriesChange:
    first, last = levels[0], levels[-1]
    before = [v for g in groups[first.first : first.last + 1] for v in g]
    after = [v for g in groups[last.first : last.last + 1] for v in g]
    # The new level began where the series crossed halfway and never came back.
    midpoint = (first.level + last.level) / 2
    rising = last.level >= first.level
    start = last
    for level in reversed(levels[1:]):
        if (level.level >= midpoint) == rising:
            start = level
        else:
            break
    figures = next(r.functions[key] for r in reversed(runs) if key in r.functions)
    return SeriesChange(
        key=key,
        path=figures.path,
        qualname=figures.qualname,
        def_line=figures.def_line,
        commit=commits[start.first],
        before=first.level,
        after=last.level,
        p_value=_one_sided(before, after, last.level >= first.level),
        levels=levels,
        series=[median(g) for g in groups],
    )


def _one_sided(before: list[float], after: list[float], rising: bool) -> float:
    """The rank test's one-sided p-value in the direction the level moved."""
    result = mann_whitney(before, after)
    return result.p_greater if rising else result.p_less


def _time_agrees(change: SeriesChange, times: list[list[float | None]]) -> bool:
    """False when the function's time moved against its share (it only took up the slack
    of another function's change: shares sum to 100 %)."""
    first, last = change.levels[0], change.levels[-1]
    before = [t for g in times[first.first : first.last + 1] for t in g if t is not None]
    after = [t for g in times[last.first : last.last + 1] for t in g if t is not None]
    if not before or not after:
        return True
    return (median(after) - median(before)) * change.delta >= 0


def _matters(delta: float, before: float, options: DetectOptions) -> bool:
    if abs(delta) < options.min_effect:
        return False
    return before <= 0 or abs(delta) >= options.min_relative * before


def drop_diluted(
    found: list[SeriesChange], groups: Sequence[Sequence[Run]], options: DetectOptions
) -> list[SeriesChange]:
    """Remove (and return) the changes that are only the echo of others, as pairwise does.

    Shares sum to 100 %: when one function grows, every other function's share shrinks while
    its time stays put. Each change is re-measured against the functions that did not change
    (its own time over theirs, first stretch against last); the flagged set is refined until
    it stops changing. Without such a reference (almost everything changed) the time check
    of `_time_agrees` is all there is.
    """
    dropped: list[SeriesChange] = []
    for _ in range(4):
        flagged = {c.key for c in found}
        if not flagged:
            break
        echoes = []
        for change in found:
            first, last = change.levels[0], change.levels[-1]
            before = [r for g in groups[first.first : first.last + 1] for r in g]
            after = [r for g in groups[last.first : last.last + 1] for r in g]
            stable_before = [stable_mass(r, flagged) for r in before]
            stable_after = [stable_mass(r, flagged) for r in after]
            if min(median(stable_before), median(stable_after)) < STABLE_MIN:
                continue
            ratio_before = [r.share(change.key) / s for r, s in zip(before, stable_before) if s]
            ratio_after = [r.share(change.key) / s for r, s in zip(after, stable_after) if s]
            delta = (median(ratio_after) - median(ratio_before)) * median(stable_before)
            if (delta > 0) != (change.delta > 0) or not _matters(delta, change.before, options):
                echoes.append(change)
        if not echoes:
            break
        for change in echoes:
            found.remove(change)
        dropped += echoes
    return dropped
