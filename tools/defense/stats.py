"""Pure-stdlib statistics for regression detection: rank test, count test, FDR, change points.

No SciPy: perfpilot runs in CI images and editors where a 40 MB dependency for four tests is
not welcome; each function here is short and checked against published values in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist, median

_NORMAL = NormalDist()
# Exact Mann-Whitney distribution up to this many values per side (no ties); normal beyond.
EXACT_LIMIT = 30
# Exact binomial sums up to this many trials; the normal approximation is excellent beyond.
BINOMIAL_EXACT_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class RankTest:
    """Mann-Whitney U of `y` against `x`: U counts pairs where y beats x (ties count half)."""

    u: float
    p_value: float  # two-sided
    exact: bool
    p_greater: float = 1.0  # one-sided: y tends to be larger than x
    p_less: float = 1.0  # one-sided: y tends to be smaller


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> RankTest:
    """Mann-Whitney U test of `y` against `x`: two-sided and both one-sided p-values."""
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return RankTest(0.0, 1.0, True)
    ranks, tie_groups = _ranks([*x, *y])
    r2 = sum(ranks[n1:])
    u = r2 - n2 * (n2 + 1) / 2  # pairs (x_i, y_j) with y_j > x_i
    mean = n1 * n2 / 2
    if not any(size > 1 for size in tie_groups) and max(n1, n2) <= EXACT_LIMIT:
        counts = _u_distribution(n1, n2)
        total = math.comb(n1 + n2, n1)
        low = min(u, n1 * n2 - u)
        tail = sum(counts[: int(low) + 1]) / total
        greater = sum(counts[int(u) :]) / total  # P(U >= u)
        less = sum(counts[: int(u) + 1]) / total  # P(U <= u)
        return RankTest(u, min(1.0, 2 * tail), True, min(1.0, greater), min(1.0, less))
    n = n1 + n2
    tie_term = sum(t**3 - t for t in tie_groups) / (n * (n - 1))
    variance = n1 * n2 / 12 * ((n + 1) - tie_term)
    if variance <= 0:
        return RankTest(u, 1.0, False)
    sd = math.sqrt(variance)
    z = (abs(u - mean) - 0.5) / sd  # continuity correction
    greater = 1 - _NORMAL.cdf((u - mean - 0.5) / sd)
    less = _NORMAL.cdf((u - mean + 0.5) / sd)
    return RankTest(u, min(1.0, 2 * (1 - _NORMAL.cdf(max(z, 0.0)))), False, greater, less)


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Mid-ranks (1-based) of `values`, and the sizes of the groups of tied values."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    groups: list[int] = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        groups.append(end - start + 1)
        start = end + 1
    return ranks, groups


@lru_cache(maxsize=256)
def _u_distribution(n1: int, n2: int) -> tuple[int, ...]:
    """How many of the C(n1+n2, n1) orderings give each U = 0..n1*n2 (no ties)."""
    # Coefficients of the Gaussian binomial [n1+n2 choose n1]_q, built one factor at a time:
    # prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i).
    size = n1 * n2 + 1
    poly = [0] * size
    poly[0] = 1
    for i in range(1, n1 + 1):
        step = n2 + i
        for k in range(size - 1, step - 1, -1):  # multiply by (1 - q^step)
            poly[k] -= poly[k - step]
        for k in range(i, size):  # divide by (1 - q^i)
            poly[k] += poly[k - i]
    return tuple(poly)


def binomial_p_value(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial test of `k` successes in `n` trials at rate `p`.

    Sums the probabilities of every outcome no more likely than `k` (like R's binom.test).
    """
    if n <= 0 or p <= 0.0 or p >= 1.0:
        return 1.0
    if n > BINOMIAL_EXACT_LIMIT:
        z = (abs(k - n * p) - 0.5) / math.sqrt(n * p * (1 - p))
        return min(1.0, 2 * (1 - _NORMAL.cdf(max(z, 0.0))))
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)

    def log_pmf(i: int) -> float:
        return base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q

    limit = log_pmf(k) + 1e-7
    total = 0.0
    for i in range(n + 1):
        value = log_pmf(i)
        if value <= limit:
            total += math.exp(value)
    return min(1.0, total)


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if n <= 0 or k > n or p <= 0.0:
        return 0.0 if k > 0 else 1.0
    if p >= 1.0:
        return 1.0
    if n > BINOMIAL_EXACT_LIMIT:
        return 1 - _NORMAL.cdf((k - 0.5 - n * p) / math.sqrt(n * p * (1 - p)))
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    total = 0.0
    for i in range(k, n + 1):
        total += math.exp(
            base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        )
    return min(1.0, total)


def poisson_rate_test(count_a: int, exposure_a: float, count_b: int, exposure_b: float) -> float:
    """Two-sided test that two Poisson counts have the same rate per unit of exposure.

    Conditional on the sum, b's count is binomial with p = exposure_b / (a + b): for sample
    counts of one function in two profiles, the exposures are the profiles' sample totals.
    """
    if exposure_a <= 0 or exposure_b <= 0:
        return 1.0
    return binomial_p_value(count_b, count_a + count_b, exposure_b / (exposure_a + exposure_b))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input's order."""
    m = len(p_values)
    order = sorted(range(m), key=p_values.__getitem__, reverse=True)
    adjusted = [1.0] * m
    running = 1.0
    for position, index in enumerate(order):
        rank = m - position
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = min(1.0, running)
    return adjusted


def shift_interval(
    x: Sequence[float], y: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float]:
    """Hodges-Lehmann shift of `y` over `x` and its distribution-free confidence interval.

    The interval is Moses's: order statistics of the pairwise differences y_j - x_i, chosen
    with the normal approximation of U's distribution.
    """
    differences = sorted(b - a for a in x for b in y)
    if not differences:
        return 0.0, 0.0, 0.0
    n1, n2 = len(x), len(y)
    z = _NORMAL.inv_cdf(0.5 + confidence / 2)
    k = int(n1 * n2 / 2 - z * math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12))
    k = max(0, min(k, len(differences) - 1))
    return median(differences), differences[k], differences[len(differences) - 1 - k]
