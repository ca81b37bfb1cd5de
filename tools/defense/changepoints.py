"""Change points of a series of groups (the runs at each commit): binary segmentation, capped.

Each split looks for the cut (a step, or a stretch in the middle that differs from what
surrounds it) whose rank test is most significant. The segment's values are ranked once;
prefix sums of the ranks per group then give every candidate's Mann-Whitney statistic in
O(1), so a split costs O(N log N) for the ranking plus O(m * BUMP_LIMIT) for the candidates
(m groups, N values) instead of a full rank test per candidate (O(m^2 * N log N)). Only the
best few candidates by that statistic get the median check and the exact test.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from perfpilot.tools.defense.stats import _ranks, mann_whitney

# A bump (a stretch that came back) is searched up to this many commits long; a longer one
# is two steps, which the single cuts find one after the other.
BUMP_LIMIT = 40
# Candidates, best statistic first, that get the median check and the exact rank test.
CHECKED = 12


@dataclass(frozen=True, slots=True)
class Level:
    """A stretch of a series (groups first..last, inclusive) at one level (the median)."""

    first: int
    last: int
    level: float


def segment(groups: Sequence[Sequence[float]], alpha: float, min_shift: float) -> list[Level]:
    """Split a series of groups (the runs at each commit) into stretches of constant level.

    A cut is kept when its rank-test p-value is below `alpha` and the medians differ by at
    least `min_shift`; each piece is then cut again. A change that reverts shows up as a
    stretch that returns to the level before it, which is how the went-away filter sees it.
    """
    levels: list[Level] = []
    pending = [(0, len(groups) - 1)]
    while pending:  # a work list, not recursion: a long noisy series must not hit the limit
        first, last = pending.pop()
        cut = best_cut(groups[first : last + 1], alpha, min_shift)
        if cut is None:
            values = [v for g in groups[first : last + 1] for v in g]
            levels.append(Level(first, last, median(values) if values else 0.0))
            continue
        bounds = [first, *(first + b for b in cut), last + 1]
        pending += [(low, high - 1) for low, high in zip(bounds, bounds[1:])]
    return _merged(groups, sorted(levels, key=lambda level: level.first), min_shift)


def _merged(
    groups: Sequence[Sequence[float]], levels: list[Level], min_shift: float
) -> list[Level]:
    """Join neighbouring stretches whose levels differ by less than `min_shift`.

    A bump longer than BUMP_LIMIT is cut in pieces at one level; it is one stretch.
    """
    out: list[Level] = []
    for level in levels:
        if out and abs(out[-1].level - level.level) < min_shift:
            first = out.pop().first
            values = [v for g in groups[first : level.last + 1] for v in g]
            level = Level(first, level.last, median(values) if values else 0.0)
        out.append(level)
    return out


def best_cut(
    groups: Sequence[Sequence[float]], alpha: float, min_shift: float
) -> tuple[int, ...] | None:
    """The most significant cut of `groups`: (start,) for a step, (start, stop) for a bump."""
    m = len(groups)
    values = [v for g in groups for v in g]
    n = len(values)
    if m < 2 or n < 2:
        return None
    ranks, ties = _ranks(values)
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1))
    scale = ((n + 1) - tie_term) / 12
    if scale <= 0:
        return None  # every value equal: nothing to cut
    count = [0] * (m + 1)
    rank_sum = [0.0] * (m + 1)
    position = 0
    for index, group in enumerate(groups):
        size = len(group)
        count[index + 1] = count[index] + size
        rank_sum[index + 1] = rank_sum[index] + sum(ranks[position : position + size])
        position += size
    candidates = heapq.nlargest(CHECKED, _scores(count, rank_sum, n, scale, m))
    best: tuple[float, tuple[int, ...]] | None = None
    for _, start, stop in candidates:
        inside = [v for g in groups[start:stop] for v in g]
        outside = [v for g in (*groups[:start], *groups[stop:]) for v in g]
        if abs(median(inside) - median(outside)) < min_shift:
            continue
        p_value = mann_whitney(outside, inside).p_value
        if best is None or p_value < best[0]:
            best = (p_value, (start,) if stop == m else (start, stop))
    return best[1] if best is not None and best[0] < alpha else None


def _scores(
    count: list[int], rank_sum: list[float], n: int, scale: float, m: int
) -> list[tuple[float, int, int]]:
    """|z| of the rank-sum statistic of every candidate stretch groups[start:stop]."""
    out = []
    sqrt = math.sqrt
    for start in range(1, m):
        before_n, before_r = count[start], rank_sum[start]
        for stop in (m, *range(start + 1, min(m, start + 1 + BUMP_LIMIT))):
            inside = count[stop] - before_n
            outside = n - inside
            if inside == 0 or outside == 0:
                continue
            u = rank_sum[stop] - before_r - inside * (inside + 1) / 2
            out.append(
                (abs(u - inside * outside / 2) / sqrt(inside * outside * scale), start, stop)
            )
    return out
