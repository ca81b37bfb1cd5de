"""Time and memory of loading a large py-spy speedscope file (1,000,000 samples by default).

Run: python benchmarks/bench_speedscope.py [--samples 1000000] [--repeat 3]
The file is synthetic but shaped like py-spy's output: a few hundred functions over a few dozen
files, a frame per (function, executing line), stacks 10-40 deep with some recursion, root first,
all weights equal (1/rate). Each measurement runs in a fresh interpreter: wall time by
time.perf_counter around the load, peak RSS of that process (VmHWM, else ru_maxrss, in KiB),
median of the repeats.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TIMERS = {
    "perfpilot load_profile": (
        "from perfpilot.tools.profiles import load_profile\nresult = load_profile(path)"
    ),
    "perfpilot, json.loads path": (
        "from perfpilot.tools.profiles.speedscope import load_speedscope\n"
        "result = load_speedscope(open(path, 'rb').read(), path, fast=False)"
    ),
    "json.loads only (reference)": "import json\nresult = json.loads(open(path, 'rb').read())",
    "interpreter + imports (baseline)": "import perfpilot.tools.profiles.speedscope\nresult = 0",
}

# Peak RSS: VmHWM, which exec resets; ru_maxrss of a forked child starts at the parent's size.
CHILD = """
import resource, sys, time
path = sys.argv[1]
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    pass
print(elapsed, peak)
"""


def synthetic_speedscope(path: Path, samples: int, seed: int = 1) -> None:
    """Write a py-spy-like sampled speedscope file with `samples` samples to `path`."""
    rng = random.Random(seed)
    files = [f"/srv/app/pkg{i % 8}/module_{i}.py" for i in range(40)]
    functions = [
        (f"Class{i % 30}.method_{i}" if i % 3 else f"func_{i}", files[i % len(files)], 10 * i + 5)
        for i in range(300)
    ]
    frames: list[dict[str, object]] = []
    frame_ids: dict[tuple[int, int], int] = {}

    def frame(function: int, line_offset: int) -> int:
        key = (function, line_offset)
        if key not in frame_ids:
            name, file, line = functions[function]
            frame_ids[key] = len(frames)
            frames.append({"name": name, "file": file, "line": line + line_offset, "col": None})
        return frame_ids[key]

    callees = {f: rng.sample(range(len(functions)), rng.randint(2, 5)) for f in range(300)}
    recursive = set(rng.sample(range(len(functions)), 20))
    paths = []
    for _ in range(20_000):
        depth = rng.randint(10, 40)
        function, stack = 0, []
        while len(stack) < depth:
            stack.append(frame(function, rng.randrange(4)))
            if function in recursive and rng.random() < 0.6:
                continue  # recursion: the same function again, usually at its recursive line
            function = rng.choice(callees[function])
        paths.append(",".join(map(str, stack)))
    # A few stacks are very hot, most are rare: Zipf-like, as in real programs.
    weights = [1.0 / (rank + 1) for rank in range(len(paths))]
    chosen = rng.choices(paths, weights=weights, k=samples)
    head = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "activeProfileIndex": None,
        "exporter": "py-spy@0.4.3",
        "name": "py-spy profile",
    }
    with path.open("w") as out:
        out.write(json.dumps(head, separators=(",", ":"))[:-1])
        out.write(',"profiles":[{"type":"sampled","name":"Thread 1 \\"MainThread\\"",')
        out.write(f'"unit":"seconds","startValue":0.0,"endValue":{samples / 100},"samples":[')
        out.write(",".join(f"[{stack}]" for stack in chosen))
        out.write('],"weights":[' + ",".join(["0.01"] * samples) + "]}],")
        out.write('"shared":{"frames":' + json.dumps(frames, separators=(",", ":")) + "}}")


def measure(body: str, path: Path) -> tuple[float, float]:
    """Run `body` in a fresh interpreter; return (seconds, peak RSS in MiB)."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(body=body), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, max_rss_kib = out.stdout.split()
    return float(seconds), int(max_rss_kib) / 1024


def main() -> None:
    """Generate the file, time each loader, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-json", action="store_true", help="skip the slow json rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.speedscope.json"
        synthetic_speedscope(path, args.samples)
        size = path.stat().st_size / 2**20
        print(f"{args.samples:,} samples, {size:.0f} MiB, median of {args.repeat} fresh processes")
        print(f"{'loader':36} {'seconds':>8} {'peak RSS MiB':>13}")
        for label, body in TIMERS.items():
            if args.skip_json and "json" in label:
                continue
            runs = [measure(body, path) for _ in range(args.repeat)]
            seconds = statistics.median(run[0] for run in runs)
            rss = statistics.median(run[1] for run in runs)
            print(f"{label:36} {seconds:8.2f} {rss:13.0f}")


if __name__ == "__main__":
    main()
