"""Speed statistics: the speedup on the recorded sequence, its bootstrap CI and the noise floor."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence

from perfpilot.tools.verify.model import Speed

MIN_GAIN = 0.05  # "faster" needs at least 5% ...
MIN_GAIN_TINY = 0.10  # ... and 10% for functions under TINY_US per call (timer noise)
TINY_US = 10.0
RESAMPLES = 1000


def ratio_ci(
    numerator: Sequence[float], denominator: Sequence[float], seed: int = 0
) -> tuple[float, float, float]:
    """sum(numerator)/sum(denominator) and its 95% bootstrap CI (calls resampled together)."""
    n = len(numerator)
    total = sum(numerator) / max(sum(denominator), 1e-9)
    rng = random.Random(seed)
    ratios = []
    for _ in range(RESAMPLES):
        picks = rng.choices(range(n), k=n)
        top = sum(numerator[i] for i in picks)
        bottom = sum(denominator[i] for i in picks)
        ratios.append(top / max(bottom, 1e-9))
    ratios.sort()
    return total, ratios[int(0.025 * RESAMPLES)], ratios[int(0.975 * RESAMPLES) - 1]


def speed_of(
    original: Sequence[float], fixed: Sequence[float], again: Sequence[float], rounds: int
) -> Speed:
    """The speedup of fixed over original, with the A/A noise floor and the bar to clear.

    All inputs are per-call minimum times (ns) in recorded order: original (A), fixed (B) and
    the original timed again (A2) in the same rounds. The noise floor is how far A/A2 strays
    from 1 (its point estimate or its CI, whichever is wider); "faster" needs the speedup's
    lower bound above 1 + max(MIN_GAIN, noise).
    """
    speedup, low, high = ratio_ci(original, fixed, seed=1)
    same, same_low, same_high = ratio_ci(original, again, seed=2)
    noise = max(abs(same - 1.0), same_high - 1.0, 1.0 - same_low)
    original_us = statistics.median(original) / 1000.0
    gain = MIN_GAIN_TINY if original_us < TINY_US else MIN_GAIN
    return Speed(
        speedup=speedup,
        low=low,
        high=high,
        noise=noise,
        required=1.0 + max(gain, noise),
        calls=len(original),
        rounds=rounds,
        original_us=original_us,
        fixed_us=statistics.median(fixed) / 1000.0,
    )
