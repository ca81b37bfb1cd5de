"""Defense runs are timed in CPU time: a function that waits is not charged for the wait."""

from __future__ import annotations

import textwrap
from pathlib import Path

from perfpilot.tools.defense.recording import profile_runs
from perfpilot.tools.defense.repo import GitState

# `wait` sleeps 0.4 s (what a preempted function looks like to the wall clock); `work` spins.
PROGRAM = textwrap.dedent(
    """\
    import time


    def wait():
        time.sleep(0.4)


    def work():
        total = 0
        for i in range(300_000):
            total += i * i
        return total


    wait()
    work()
    """
)


def _share_of_wait(tmp_path: Path, clock: str) -> float:
    (tmp_path / "prog.py").write_text(PROGRAM)
    runs = profile_runs(
        ["python3", "prog.py"], tmp_path, tmp_path, workload="w", repeat=1,
        git=GitState(None, False, None), clock=clock,
    )  # fmt: skip
    return runs[0].share("prog.py:wait")


def test_defense_runs_do_not_charge_waiting_to_the_function_that_waited(tmp_path: Path) -> None:
    # The wall clock charges the sleep to `wait` (most of the program); the default CPU clock
    # does not, so a machine busy with other work cannot move a function's share that way.
    assert _share_of_wait(tmp_path, "wall") > 50
    runs_default = profile_runs(
        ["python3", "prog.py"], tmp_path, tmp_path, workload="w", repeat=1,
        git=GitState(None, False, None),
    )  # fmt: skip
    assert runs_default[0].share("prog.py:wait") < 10
