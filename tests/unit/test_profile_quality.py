"""The Wilson interval behind the few-samples warning, against published values."""

from __future__ import annotations

import pytest

from perfpilot.tools.profile_quality import wilson_interval


@pytest.mark.parametrize(
    ("percent", "samples", "low", "high"),
    [
        # Wilson score interval, z = 1.96: the textbook 50/100 case, and the closed forms at the
        # edges, z²/(n+z²) above 0 % and n/(n+z²) below 100 %.
        (50.0, 100, 40.38, 59.62),
        (0.0, 240, 0.0, 1.58),
        (100.0, 20, 83.89, 100.0),
    ],
)
def test_wilson_interval(percent: float, samples: int, low: float, high: float) -> None:
    got = wilson_interval(percent, samples)
    assert got == pytest.approx((low, high), abs=0.01)


def test_more_samples_narrow_the_interval() -> None:
    widths = [wilson_interval(20.0, n)[1] - wilson_interval(20.0, n)[0] for n in (50, 500, 5000)]
    assert widths[0] > widths[1] > widths[2] > 0
