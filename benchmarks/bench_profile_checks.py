"""The cost of the profile checks (workspace time, sample counts, intervals): this tree vs another.

Run: .venv/bin/python benchmarks/bench_profile_checks.py --baseline DIR [--repeats 7]
DIR is a source checkout of perfpilot to compare with (e.g. `git archive main | tar -x -C DIR`);
its tools/, server/ and skills/ are imported as `perfpilot.*` through PYTHONPATH, ahead of the
editable install. Two workloads, each run in a fresh interpreter, baseline and this tree
interleaved (A B A B ...), median and max wall time of the whole command:
- `perfpilot check --profile big.prof` on bench_check.py's 2,000-file, 50,000-function tree;
- loading bench_speedscope.py's 1,000,000-sample py-spy-shaped file and mapping it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import build_pstats, build_workspace  # noqa: E402
from bench_speedscope import synthetic_speedscope  # noqa: E402

LOAD_AND_MAP_SPEEDSCOPE = """
import sys
from perfpilot.tools.profiles import load_profile
from perfpilot.tools.mapping import map_profile
from perfpilot.tools.hotspots import hot_function_findings, input_findings
from perfpilot.tools.source_index import WorkspaceIndex
profile = load_profile(sys.argv[1])
result = map_profile(profile, WorkspaceIndex(sys.argv[2]), min_share=2.0)
hot_function_findings(result, 2.0) + input_findings(result, sys.argv[1])
"""


def baseline_path(checkout: Path, scratch: Path) -> str:
    """A folder holding `perfpilot/{tools,server,skills}` links to the baseline checkout."""
    package = scratch / "baseline" / "perfpilot"
    package.mkdir(parents=True)
    for name in ("tools", "server", "skills"):
        os.symlink(checkout / name, package / name)
    return str(package.parent)


def timed(command: list[str], cwd: Path, pythonpath: str | None) -> float:
    """Wall time of one run of `command` (which must succeed or report findings)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    else:
        env.pop("PYTHONPATH", None)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command[:4]} failed: {done.stderr[-500:]}")
    return elapsed


def main() -> None:
    """Build the inputs, measure both trees interleaved, print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True, help="a perfpilot checkout")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="perfpilot-bench-"))
    try:
        workspace = scratch / "ws"
        functions = build_workspace(workspace)
        (workspace / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
        build_pstats(functions, scratch / "big.prof")
        synthetic_speedscope(scratch / "spy.json", 1_000_000)
        old = baseline_path(args.baseline.resolve(), scratch)
        workloads = {
            "check --profile (cProfile, 50k functions)": [
                sys.executable,
                "-m",
                "perfpilot.server",
                "check",
                "--profile",
                str(scratch / "big.prof"),
                "--exit-zero",
            ],
            "load + map (py-spy, 1M samples)": [
                sys.executable,
                "-c",
                LOAD_AND_MAP_SPEEDSCOPE,
                str(scratch / "spy.json"),
                str(workspace),
            ],
        }
        print(f"{'workload':44} {'tree':9} {'median s':>9} {'max s':>8}")
        for name, command in workloads.items():
            times: dict[str, list[float]] = {"baseline": [], "this": []}
            for _ in range(args.repeats):
                times["baseline"].append(timed(command, workspace, old))
                times["this"].append(timed(command, workspace, None))
            for tree, values in times.items():
                print(f"{name:44} {tree:9} {statistics.median(values):9.3f} {max(values):8.3f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
