"""The defense statistics against published values (R / SciPy documentation examples)."""

from __future__ import annotations

import math

import pytest

from perfpilot.tools.defense.changepoints import segment
from perfpilot.tools.defense.stats import (
    benjamini_hochberg,
    binomial_p_value,
    binomial_upper_tail,
    mann_whitney,
    poisson_rate_test,
    shift_interval,
)


def test_mann_whitney_exact_complete_separation() -> None:
    # Two-sided exact p for 5 vs 5 with no overlap: 2 / C(10, 5) = 2 / 252.
    result = mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert result.exact and result.u == 25
    assert result.p_value == pytest.approx(2 / 252)


def test_mann_whitney_exact_matches_scipy() -> None:
    # scipy.stats.mannwhitneyu([1,2,3,4,5], [1.5,2.5,3.5,4.5,5.5], method="exact") -> 0.690476
    result = mann_whitney([1, 2, 3, 4, 5], [1.5, 2.5, 3.5, 4.5, 5.5])
    assert result.p_value == pytest.approx(0.6904761904761905)


def test_mann_whitney_ties_use_the_corrected_normal_approximation() -> None:
    # By hand: U = 22, tie-corrected variance 21.528, continuity-corrected z = 1.9397.
    result = mann_whitney([1, 1, 2, 2, 3], [2, 3, 3, 4, 4])
    assert not result.exact and result.u == 22
    assert result.p_value == pytest.approx(0.05241, abs=1e-4)


def test_mann_whitney_is_symmetric_and_sane_on_identical_samples() -> None:
    x, y = [3.1, 2.2, 5.0, 4.4, 1.0, 0.5], [2.0, 6.1, 7.7, 3.3, 9.9, 8.1]
    assert mann_whitney(x, y).p_value == pytest.approx(mann_whitney(y, x).p_value)
    assert mann_whitney([1.0] * 6, [1.0] * 6).p_value == 1.0
    assert mann_whitney([], [1.0]).p_value == 1.0


def test_binomial_matches_r_binom_test() -> None:
    # R: binom.test(7, 10)$p.value = 0.34375; binom.test(682, 925, 3/4)$p.value = 0.3825
    assert binomial_p_value(7, 10, 0.5) == pytest.approx(0.34375)
    assert binomial_p_value(682, 925, 0.75) == pytest.approx(0.3824916, rel=1e-5)
    assert binomial_p_value(0, 20, 0.5) == pytest.approx(2 * 0.5**20)


def test_poisson_rate_test_finds_a_doubled_rate_and_not_an_equal_one() -> None:
    assert poisson_rate_test(100, 10_000, 200, 10_000) < 1e-6
    assert poisson_rate_test(100, 10_000, 105, 10_000) > 0.5
    # Unequal exposures: the same rate in twice the samples is no change.
    assert poisson_rate_test(100, 10_000, 200, 20_000) > 0.9


def test_benjamini_hochberg_matches_statsmodels() -> None:
    # statsmodels multipletests([0.01, 0.04, 0.03, 0.005], method="fdr_bh")[1]
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg([]) == []
    assert benjamini_hochberg([1.0, 1.0]) == [1.0, 1.0]


def test_shift_interval_covers_the_true_shift() -> None:
    x = [10 + math.sin(i) for i in range(12)]
    y = [v + 3 for v in x]
    estimate, low, high = shift_interval(x, y)
    assert estimate == pytest.approx(3)
    assert low <= 3 <= high


def test_segment_finds_a_step_and_a_bump_that_returns() -> None:
    low, high = [1.0, 1.1, 0.9, 1.05], [2.0, 2.1, 1.9, 2.05]
    step = segment([low] * 5 + [high] * 5, alpha=0.01, min_shift=0.5)
    assert [(s.first, s.last) for s in step] == [(0, 4), (5, 9)]
    bump = segment([low] * 5 + [high] * 3 + [low] * 5, alpha=0.01, min_shift=0.5)
    assert len(bump) == 3 and bump[0].level == pytest.approx(bump[-1].level)
    flat = segment([low] * 8, alpha=0.01, min_shift=0.5)
    assert len(flat) == 1


def test_one_sided_rank_p_values() -> None:
    # All of y above all of x, 5 vs 5: P(U >= 25) = 1 / 252 (exact); the other tail is 1.
    result = mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert result.p_greater == pytest.approx(1 / 252)
    assert result.p_less == pytest.approx(1.0)
    tied = mann_whitney([1, 1, 2, 2, 3], [2, 3, 3, 4, 4])
    assert tied.p_greater == pytest.approx(tied.p_value / 2)


def test_binomial_upper_tail() -> None:
    # P(X >= 7), X ~ Binomial(10, 1/2) = (120 + 45 + 10 + 1) / 1024
    assert binomial_upper_tail(7, 10, 0.5) == pytest.approx(176 / 1024)
    assert binomial_upper_tail(0, 10, 0.3) == 1.0
    assert binomial_upper_tail(11, 10, 0.3) == 0.0


def test_segment_of_a_long_series_finds_a_long_bump_as_two_steps() -> None:
    # 600 commits: the bump (100 commits, longer than the bump search) is found by two cuts.
    low, high = [1.0, 1.1, 0.9, 1.05], [2.0, 2.1, 1.9, 2.05]
    levels = segment([low] * 300 + [high] * 100 + [low] * 200, alpha=0.01, min_shift=0.5)
    assert [(s.first, s.last) for s in levels] == [(0, 299), (300, 399), (400, 599)]
    assert levels[0].level == pytest.approx(levels[-1].level)
