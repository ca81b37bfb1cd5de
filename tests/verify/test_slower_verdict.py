"""A fix is called "slower" only beyond the A/A noise floor, as "faster" must clear it.

The figures are those of PP115 on sqlparse 0.5.1's `utils.imt` in the corpus run of
2026-12-05: 0.92x [0.89-0.94] with an A/A noise of 9 %, on a rewritten line the workload
never runs (see benchmarks/corpus/bench_verify_tiny.py: the same function against itself
measured 0.95-0.96x there). The per-call times below are built to give those figures.
"""

from __future__ import annotations

from perfpilot.tools.verify.model import FunctionCapture, VerdictKind
from perfpilot.tools.verify.stats import speed_of
from perfpilot.tools.verify.verdict import decide

HEADER = FunctionCapture(
    path="/nowhere/utils.py",
    qualname="imt",
    module="utils",
    sys_path=(),
    python="python3",
    cwd="/nowhere",
    source_hash="",
    calls_seen=256,
    recorded=256,
    skipped_unpicklable=0,
    skipped_too_large=0,
    created=0.0,
)


def _result(fixed_factor: float, again_factor: float) -> dict[str, object]:
    """A worker result: 64 calls of ~200 ns, the fix and the original's second run scaled."""
    original = [200.0 + (i % 7) * 10 for i in range(64)]
    fixed = [t / fixed_factor * (1.0 + 0.04 * ((i % 5) - 2) / 2) for i, t in enumerate(original)]
    again = [t / again_factor for t in original]
    timing = {"A": original, "B": fixed, "A2": again, "rounds": 20}
    return {"calls": 64, "timing": timing}


def test_a_slowdown_inside_the_noise_is_not_called_slower() -> None:
    result = _result(fixed_factor=0.92, again_factor=1.09)
    speed = speed_of(result["timing"]["A"], result["timing"]["B"], result["timing"]["A2"], 20)
    assert speed.high < 1.0 < 1.0 + speed.noise  # the interval is below 1, but inside the noise

    verdict = decide(result, HEADER, [])

    assert verdict.kind is VerdictKind.NOT_FASTER
    assert not speed.slower
    assert "slower" not in verdict.summary, verdict.summary
    assert "noise 9.0%" in verdict.summary, verdict.summary


def test_a_slowdown_beyond_the_noise_is_called_slower() -> None:
    result = _result(fixed_factor=0.70, again_factor=1.01)

    verdict = decide(result, HEADER, [])

    assert verdict.kind is VerdictKind.NOT_FASTER
    assert verdict.speed is not None and verdict.speed.slower
    assert ": slower on 64 recorded calls" in verdict.summary, verdict.summary
