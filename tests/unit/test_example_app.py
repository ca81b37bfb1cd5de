"""The bundled example application (examples/loganalyzer) and its workload script.

The example is perfpilot's demo program: its hot code deliberately contains the patterns that
the offense skills fix. These tests keep it deterministic and keep those spots hot.
"""

from __future__ import annotations

import pstats
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
WORKLOAD = EXAMPLES / "workload.py"
PACKAGE = EXAMPLES / "loganalyzer"

HEADINGS = (
    "== Summary ==",
    "== Status classes ==",
    "== Clients ==",
    "== Top routes ==",
    "== Report ==",
    "report sha256: ",
)

# (file inside examples/loganalyzer, function name) for each planted pattern.
PLANTED = {
    "recursion without memoization": ("enrich.py", "edit_distance"),
    "regex compiled per call": ("parsing.py", "parse_line"),
    "membership test on a list": ("enrich.py", "flag_blocked"),
    "string += in a loop": ("report.py", "render_incidents"),
    "loop-invariant computation": ("stats.py", "find_slow_requests"),
    "append loop": ("enrich.py", "enrich_all"),
}

# Shapes the source mapping has to handle.
SHAPES = {
    "decorated": ("parsing.py", "parse_log"),
    "method": ("stats.py", "add"),
    "closure": ("enrich.py", "region_of"),
    "lambda": ("pipeline.py", "<lambda>"),
    "async": ("pipeline.py", "_consume"),
}


def run_workload(lines: int, cwd: Path, script: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(script), "--lines", str(lines)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_workload_output_is_deterministic() -> None:
    from_root = run_workload(3000, REPO, Path("examples/workload.py"))
    from_examples = run_workload(3000, EXAMPLES, Path("workload.py"))
    assert from_root == from_examples
    for heading in HEADINGS:
        assert heading in from_root
    assert "loganalyzer workload: 3000 lines" in from_root


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple]:
    out = tmp_path_factory.mktemp("prof") / "workload.prof"
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), str(WORKLOAD), "--lines", "5000"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=True,
    )
    stats = pstats.Stats(str(out))
    table: dict[tuple[str, str], tuple] = {}
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        path = Path(filename)
        if path.parent.name == "loganalyzer":
            table[(path.name, name)] = (line, ncalls, tottime, cumtime)
    return table


@pytest.mark.slow
@pytest.mark.parametrize("pattern", sorted(PLANTED))
def test_planted_pattern_is_hot(profile: dict, pattern: str) -> None:
    key = PLANTED[pattern]
    assert key in profile, f"{key} missing from the profile"
    _, ncalls, tottime, cumtime = profile[key]
    assert ncalls > 0 and tottime > 0 and cumtime > 0


@pytest.mark.slow
def test_recursive_function_is_among_the_hottest(profile: dict) -> None:
    by_self_time = sorted(profile.items(), key=lambda kv: kv[1][2], reverse=True)
    top3 = [key for key, _ in by_self_time[:3]]
    assert PLANTED["recursion without memoization"] in top3, top3
    _, ncalls, _, _ = profile[PLANTED["recursion without memoization"]]
    assert ncalls > 10_000


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_mapping_shapes_are_profiled(profile: dict, shape: str) -> None:
    key = SHAPES[shape]
    assert key in profile, f"{key} missing from the profile"
    line, ncalls, _, cumtime = profile[key]
    assert ncalls > 0 and cumtime > 0
    source = (PACKAGE / key[0]).read_text().splitlines()
    if shape == "decorated":
        # cProfile reports a decorated function at its first decorator line.
        assert source[line - 1].lstrip().startswith("@timed")
        assert source[line].lstrip().startswith(f"def {key[1]}(")
    elif shape == "async":
        assert source[line - 1].lstrip().startswith(f"async def {key[1]}(")
    elif shape == "lambda":
        assert "lambda" in source[line - 1]
    else:
        assert source[line - 1].lstrip().startswith(f"def {key[1]}(")
