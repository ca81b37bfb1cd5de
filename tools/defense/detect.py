"""Compare two sets of runs function by function: what regressed, improved, appeared or moved.

The primary measure is a function's *own share* of the program (self time plus library code
it calls directly, as a percentage of the run): a slower or busier machine scales every
function alike, so shares stay put where absolute times drift. Absolute time is tested too
and reported beside it. Tests: Mann-Whitney over repeated runs, or a Poisson rate test on
sample counts when there is a single sampled run on a side; Benjamini-Hochberg over all the
functions compared; a minimum effect; the cost-shift filter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

from perfpilot.tools.defense.history import Run
from perfpilot.tools.defense.stats import (
    benjamini_hochberg,
    binomial_upper_tail,
    mann_whitney,
    shift_interval,
)

REGRESSION, NEW_HOT, IMPROVEMENT, COST_SHIFT = "regression", "new", "improvement", "cost-shift"
# Below this many runs per side, a sampled profile's counts are more informative than ranks.
MIN_RANK_RUNS = 5
# Level at which absolute time must confirm a share change when shares alone cannot tell.
TIME_ALPHA = 0.05
# The unchanged functions must hold this share of the program to serve as the reference.
STABLE_MIN = 20.0


@dataclass(frozen=True, slots=True)
class DetectOptions:
    """The knobs of a comparison; the defaults hold the A/A false-alarm rate under 1 %."""

    fdr: float = 0.01  # Benjamini-Hochberg level over all the functions compared
    min_effect: float = 0.5  # percentage points of the program
    min_relative: float = 0.05  # and this fraction of the function's own base share
    # Functions below this share on both sides are not tested: they cannot change by the
    # minimum effect without reaching it, so skipping them loses nothing and spares tests.
    floor: float | None = None  # default: min_effect
    # A rise is a cost shift when related functions lost at least this fraction of it.
    shift_fraction: float = 0.6

    @property
    def test_floor(self) -> float:
        """The share below which a function is not tested (the floor, or the min effect)."""
        return self.min_effect if self.floor is None else self.floor


@dataclass(slots=True)
class FunctionChange:
    """How one function changed between base and head; shares in percent, times in ms/run."""

    key: str
    path: str
    qualname: str
    def_line: int
    base_share: float
    head_share: float
    base_ms: float | None
    head_ms: float | None
    p_value: float  # one-sided, in the direction of the change
    q_value: float  # Benjamini-Hochberg, within the regressions or the improvements
    p_time: float | None  # the same test on absolute time, when the unit converts to time
    interval: tuple[float, float]  # confidence interval of the share change (points)
    method: str  # "mann-whitney" or "poisson"
    kind: str | None = None  # REGRESSION, NEW_HOT, IMPROVEMENT, COST_SHIFT or None
    shifted_from: list[str] = field(default_factory=list)
    hot_lines: list[int] = field(default_factory=list)
    p_up: float = 1.0  # one-sided p-value that the share grew
    p_down: float = 1.0  # ... that it shrank

    @property
    def delta(self) -> float:
        """The change of the own share, in percentage points of the program."""
        return self.head_share - self.base_share


@dataclass(slots=True)
class Comparison:
    """Every function compared, the ones that matter classified; `warnings` for the user."""

    base_runs: int
    head_runs: int
    tested: int
    changes: list[FunctionChange]
    warnings: list[str] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[FunctionChange]:
        """The changes of these kinds, largest effect first."""
        found = [c for c in self.changes if c.kind in kinds]
        return sorted(found, key=lambda c: -abs(c.delta))

    @property
    def regressions(self) -> list[FunctionChange]:
        """Regressed functions and new hot functions."""
        return self.of_kind(REGRESSION, NEW_HOT)


def compare_runs(
    base: Sequence[Run], head: Sequence[Run], options: DetectOptions | None = None
) -> Comparison:
    """Compare the runs of base with the runs of head, per function."""
    options = options or DetectOptions()
    if not base or not head:
        raise ValueError("both sides need at least one run")
    warnings = []
    sampled = all(r.samples for r in (*base, *head))
    use_counts = sampled and min(len(base), len(head)) < MIN_RANK_RUNS
    keys = sorted({k for run in (*base, *head) for k in run.functions})
    changes = []
    for key in keys:
        base_shares = [r.share(key) for r in base]
        head_shares = [r.share(key) for r in head]
        if max(median(base_shares), median(head_shares)) < options.test_floor:
            continue
        changes.append(_change(key, base, head, base_shares, head_shares, use_counts))
    if not use_counts and changes:
        # The smallest p-value a rank test can give with these many runs (all of head above
        # all of base); if even that cannot pass the FDR bar for one of m tests, say so.
        smallest = 2 / math.comb(len(base) + len(head), len(base))
        if smallest > options.fdr / len(changes):
            warnings.append(
                f"{len(base)} base and {len(head)} head runs cannot show a significant change"
                f" among {len(changes)} functions (the smallest possible p is {smallest:.2g});"
                " use --repeat 20 or more, or a sampling profiler with one run per side"
            )
    # Two one-sided families: regressions (what gates CI) and improvements (notes), each
    # under Benjamini-Hochberg on its own.
    q_up = benjamini_hochberg([c.p_up for c in changes])
    q_down = benjamini_hochberg([c.p_down for c in changes])
    for change, up, down in zip(changes, q_up, q_down):
        rising = change.delta > 0
        change.p_value = change.p_up if rising else change.p_down
        change.q_value = up if rising else down
    for change in changes:
        change.kind = _classify(change, options)
    _filter_dilution(changes, base, head, options)
    _filter_cost_shifts(changes, base, head, options)
    return Comparison(len(base), len(head), len(changes), changes, warnings)


def _change(
    key: str,
    base: Sequence[Run],
    head: Sequence[Run],
    base_shares: list[float],
    head_shares: list[float],
    use_counts: bool,
) -> FunctionChange:
    figures = next(
        r.functions[key] for r in (*reversed(head), *reversed(base)) if key in r.functions
    )
    base_times = _times(base, key)
    head_times = _times(head, key)
    if use_counts:
        count_base = sum(_samples(r, key) for r in base)
        count_head = sum(_samples(r, key) for r in head)
        total_base = sum(r.samples or 0 for r in base)
        total_head = sum(r.samples or 0 for r in head)
        p_up, p_down = count_tests(count_base, total_base, count_head, total_head)
        interval = _proportion_interval(count_base, total_base, count_head, total_head)
        p_time, method = None, "poisson"
    else:
        ranks = mann_whitney(base_shares, head_shares)
        p_up, p_down = ranks.p_greater, ranks.p_less
        _, low, high = shift_interval(base_shares, head_shares)
        interval = (low, high)
        p_time = None
        if base_times and head_times:
            timed = mann_whitney(base_times, head_times)
            p_time = timed.p_greater if median(head_shares) >= median(base_shares) else timed.p_less
        method = "mann-whitney"
    hot = sorted(figures.hot_lines, key=lambda line: -figures.hot_lines[line])
    return FunctionChange(
        key=key,
        path=figures.path,
        qualname=figures.qualname,
        def_line=figures.def_line,
        base_share=median(base_shares),
        head_share=median(head_shares),
        base_ms=median(base_times) * 1000 if base_times else None,
        head_ms=median(head_times) * 1000 if head_times else None,
        p_value=min(p_up, p_down),
        q_value=1.0,
        p_up=p_up,
        p_down=p_down,
        p_time=p_time,
        interval=interval,
        method=method,
        hot_lines=hot[:5],
    )


def _samples(run: Run, key: str) -> int:
    figures = run.functions.get(key)
    return figures.samples or 0 if figures is not None else 0


def count_tests(
    count_base: int, total_base: float, count_head: int, total_head: float
) -> tuple[float, float]:
    """One-sided Poisson rate tests (grew, shrank) on one function's sample counts."""
    trials = count_base + count_head
    rate = total_head / (total_base + total_head) if total_base + total_head > 0 else 0.5
    up = binomial_upper_tail(count_head, trials, rate)
    down = binomial_upper_tail(count_base, trials, 1 - rate)
    return up, down


def _times(runs: Sequence[Run], key: str) -> list[float]:
    values = [r.seconds(key) for r in runs]
    return [v for v in values if v is not None]


def _proportion_interval(
    count_a: int, total_a: float, count_b: int, total_b: float
) -> tuple[float, float]:
    """95 % Wald interval of the difference of two sample shares, in percentage points."""
    pa, pb = count_a / total_a, count_b / total_b
    spread = 1.96 * ((pa * (1 - pa) / total_a + pb * (1 - pb) / total_b) ** 0.5)
    return (100 * (pb - pa - spread), 100 * (pb - pa + spread))


def _classify(change: FunctionChange, options: DetectOptions) -> str | None:
    if change.q_value > options.fdr:
        return None
    delta = change.delta
    if abs(delta) < options.min_effect:
        return None
    if change.base_share > 0 and abs(delta) < options.min_relative * change.base_share:
        return None
    if delta < 0:
        return IMPROVEMENT
    return NEW_HOT if change.base_share == 0 else REGRESSION


def _filter_dilution(
    changes: list[FunctionChange],
    base: Sequence[Run],
    head: Sequence[Run],
    options: DetectOptions,
) -> None:
    """Drop changes that are only the echo of others: shares sum to 100 %, so one function
    getting much slower shrinks everyone else's share, and a big improvement inflates them.

    Each flagged function is re-measured against the functions that did not change (its own
    time over theirs); the flagged set is refined until it stops changing.
    """
    for _ in range(4):
        flagged = {c.key for c in changes if c.kind is not None}
        if not flagged:
            return
        stable_base = [stable_mass(r, flagged) for r in base]
        stable_head = [stable_mass(r, flagged) for r in head]
        if min(median(stable_base), median(stable_head)) < STABLE_MIN:
            # Almost nothing stayed put, so there is no reference to measure against: only
            # a change that absolute time confirms (significantly, the same way) stands.
            for change in changes:
                if change.kind is not None and change.p_time is not None:
                    agrees = (change.head_ms or 0) - (change.base_ms or 0) > 0
                    if change.p_time >= TIME_ALPHA or agrees != (change.delta > 0):
                        change.kind = None
            return
        changed = False
        for change in changes:
            if change.key not in flagged:
                continue
            base_ratio = [r.share(change.key) / m for r, m in zip(base, stable_base) if m > 0]
            head_ratio = [r.share(change.key) / m for r, m in zip(head, stable_head) if m > 0]
            # The ratio's change expressed in points of the base program.
            delta = (median(head_ratio) - median(base_ratio)) * median(stable_base)
            same_way = (delta > 0) == (change.delta > 0)
            relative = abs(delta) >= options.min_relative * change.base_share
            if not (same_way and abs(delta) >= options.min_effect and relative):
                change.kind = None
                changed = True
        if not changed:
            return


def stable_mass(run: Run, flagged: set[str]) -> float:
    """The share of the program (percent) taken by functions not in `flagged`."""
    if run.total <= 0:
        return 0.0
    return 100.0 * sum(f.own for k, f in run.functions.items() if k not in flagged) / run.total


def _filter_cost_shifts(
    changes: list[FunctionChange],
    base: Sequence[Run],
    head: Sequence[Run],
    options: DetectOptions,
) -> None:
    """A rise matched by a fall in related functions (renamed, split, inlined, moved) is a shift.

    Related: functions that vanished or appeared, the riser's callers and callees, and
    same-named functions elsewhere. A fall is corrected for dilution (a real riser shrinks
    everyone else's share) before it counts.
    """
    by_key = {c.key: c for c in changes}
    base_keys = {k for r in base for k in r.functions}
    head_keys = {k for r in head for k in r.functions}
    vanished = base_keys - head_keys
    for change in changes:
        if change.kind not in (REGRESSION, NEW_HOT):
            continue
        related = set(vanished) | (head_keys - base_keys)
        for run in (*base, *head):
            figures = run.functions.get(change.key)
            if figures is not None:
                related.update(figures.callees)
            related.update(k for k, f in run.functions.items() if change.key in f.callees)
        bare = change.qualname.rsplit(".", 1)[-1]
        related.update(k for k in by_key if k.rsplit(":", 1)[-1].rsplit(".", 1)[-1] == bare)
        related.discard(change.key)
        levels = {}
        for key in related:
            other = by_key.get(key)
            if other is None:
                levels[key] = (
                    median(r.share(key) for r in base),
                    median(r.share(key) for r in head),
                )
            else:
                levels[key] = (other.base_share, other.head_share)
        # Dilution: what the rest of the program (neither the riser nor its related
        # functions) lost in share. Cost that only moved leaves the rest where it was; a real
        # slowdown shrinks it, and every related function with it, which is not a shift.
        rest_base = 100.0 - change.base_share - sum(b for b, _ in levels.values())
        rest_head = 100.0 - change.head_share - sum(h for _, h in levels.values())
        dilution = min(1.0, rest_head / rest_base) if rest_base > 1.0 else 1.0
        fallen = []
        total_fall = 0.0
        for key, (base_share, head_share) in levels.items():
            fall = base_share * dilution - head_share
            if fall > 0.25 * options.min_effect:
                fallen.append(key)
                total_fall += fall
        if total_fall >= options.shift_fraction * change.delta:
            change.kind = COST_SHIFT
            change.shifted_from = sorted(fallen)
            for key in fallen:
                if key in by_key and by_key[key].kind == IMPROVEMENT:
                    by_key[key].kind = COST_SHIFT
