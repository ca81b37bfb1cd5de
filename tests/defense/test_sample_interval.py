"""One sample's weight in a real py-spy profile, which the count test of `regress` relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from perfpilot.tools.defense.figures import sample_interval
from perfpilot.tools.profiles import load_profile

# One function, one line: nearly every sample has the same stack, so the aggregated stacks'
# smallest weight is many samples, not one.
PROGRAM = """\
import time


def spin():
    end = time.perf_counter() + 0.6
    while time.perf_counter() < end:
        pass


spin()
"""


@pytest.mark.slow
def test_one_sample_is_the_sampling_interval_not_the_smallest_stack(tmp_path: Path) -> None:
    (tmp_path / "spin.py").write_text(PROGRAM)
    output = tmp_path / "spin.speedscope.json"
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "profile", "--sampler", "py-spy",
         "-o", str(output), "--", sys.executable, "spin.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if "permission" in done.stderr.lower() or not output.exists():
        pytest.skip(f"py-spy cannot trace here: {done.stderr.strip()[-200:]}")
    profile = load_profile(str(output))
    assert profile.samples and profile.samples > 50
    interval = sample_interval(profile)
    assert interval is not None
    # perfpilot samples at 200 Hz: one sample is 5 ms, and the samples add up to the total.
    assert interval == pytest.approx(0.005, rel=0.05)
    assert interval * profile.samples == pytest.approx(profile.total)
