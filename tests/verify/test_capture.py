"""Capture runs the real program: same output and exit status, calls spread over the run."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

from perfpilot.server.cli import main
from perfpilot.tools.verify import store
from perfpilot.tools.verify.capture import CaptureTarget, run_capture

PROGRAM = """import random, sys, threading
from walk.steps import Counter, depth, step, wrap

random.seed(5)
total = 0
for i in range(2000):
    total += step(i, random.random())
lock = threading.Lock()
for i in range(30):
    total += wrap(lock, i)
print("total", total, random.random())
print("depth", depth(12))
sys.exit(4)
"""
STEPS = """class Counter:
    def __init__(self):
        self.n = 0


def step(i, noise):
    print("step", i) if i % 500 == 0 else None
    return i * 2 + (noise > 2)


def wrap(lock, i):
    return i


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)
"""


def workspace(root: Path) -> Path:
    (root / "walk").mkdir(parents=True)
    (root / "walk" / "__init__.py").write_text("")
    (root / "walk" / "steps.py").write_text(STEPS)
    (root / "main.py").write_text(PROGRAM)
    (root / "pyproject.toml").write_text("[project]\nname = 'walk'\n")
    return root


def test_capture_keeps_the_program_behaviour_and_spreads_the_sample(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    plain = subprocess.run([sys.executable, "main.py"], cwd=root, capture_output=True, text=True)
    steps = str(root / "walk" / "steps.py")
    targets = [CaptureTarget(steps, name) for name in ("step", "wrap", "depth", "missing")]
    out = tmp_path / "out.txt"
    with out.open("w") as handle:
        run = run_capture(root, [sys.executable, "main.py"], targets, root, calls=50, stdout=handle)
    assert run.returncode == plain.returncode == 4
    assert out.read_text() == plain.stdout  # random state and output untouched
    by_name = {c.qualname: c for c in run.captures}
    assert by_name["step"].calls_seen == 2000 and by_name["step"].recorded == 50
    # The reservoir spans the run, in recorded order: not only the first 50 calls.
    _, records = store.load(root, steps, "step")
    indexes = [pickle.loads(inputs)[0][0] for inputs, _ in records]
    assert indexes == sorted(indexes) and indexes[-1] > 1000
    outcome = pickle.loads(records[0][1])
    assert outcome["kind"] == "return" and outcome["value"] == indexes[0] * 2
    # A lock cannot be pickled: counted and skipped, never a crash.
    assert by_name["wrap"].calls_seen == 30 and by_name["wrap"].recorded == 0
    assert by_name["wrap"].skipped_unpicklable == 30
    assert by_name["wrap"].unpicklable_reason == (
        "arguments: TypeError: cannot pickle '_thread.lock' object"
    )
    # Recursion: only the outermost call is a recorded input.
    assert by_name["depth"].calls_seen == 1
    assert any("missing" in m for m in run.not_found)


def test_capture_command_with_named_functions_and_clear(
    tmp_path: Path,
    monkeypatch,
    capsys,  # noqa: ANN001
) -> None:
    root = workspace(tmp_path / "ws")
    monkeypatch.chdir(root)
    status = main(
        [
            "capture",
            "--functions",
            "walk/steps.py::step,depth",
            "--calls",
            "8",
            "--",
            sys.executable,
            "main.py",
        ]
    )
    err = capsys.readouterr().err
    assert status == 4, err
    assert "captured 8 of 2000 calls of walk/steps.py::step" in err
    assert "captured 1 of 1 call of walk/steps.py::depth" in err
    assert "never uploaded" in err
    assert main(["capture", "--clear"]) == 0
    assert "removed 2 captures" in capsys.readouterr().err
    assert main(["capture", "--", "nonsense"]) == 2


def test_sampling_stops_when_pickling_costs_too_much_and_verify_says_so(tmp_path: Path) -> None:
    from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

    root = workspace(tmp_path / "ws")
    steps = str(root / "walk" / "steps.py")
    run = run_capture(
        root,
        [sys.executable, "main.py"],
        [CaptureTarget(steps, "step")],
        root,
        calls=5,
        stdout=subprocess.DEVNULL,
        pickling_budget=0.0,  # every pickle is over budget: only the first `calls` are kept
    )
    capture = run.captures[0]
    assert capture.calls_seen == 2000 and capture.recorded == 5 and capture.sampled_until == 5
    _, records = store.load(root, steps, "step")
    assert [pickle.loads(inputs)[0][0] for inputs, _ in records] == [0, 1, 2, 3, 4]
    fixed = STEPS.replace("return i * 2 + (noise > 2)", "return (noise > 2) + i * 2")
    verdict = verify_change(root, steps, "step", STEPS, fixed, VerifySettings(budget=1.0))
    assert any("sampled from the first 5 of 2000 calls" in note for note in verdict.notes)
