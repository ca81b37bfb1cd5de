"""What fetching a production profile adds to loading it: loopback Pyroscope and Parca vs a file.

Run: python benchmarks/bench_remote.py [--repeat 15] [--lines 25000]
Profiles: the real pprof files of tests/data, and a larger one recorded here by sampling the
bundled example (examples/workload.py) with the tests' pprof-writing sampler. Each is served by
the loopback servers of tests/remote_fakes.py (Connect/protobuf for Pyroscope, gRPC-Web with a
gzip'd pprof for Parca). Per profile, the three ways are timed interleaved (file, Pyroscope,
Parca, file, ...), time.perf_counter, median of the repeats, in one process.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from perfpilot.tools.profiles import load_profile  # noqa: E402
from perfpilot.tools.profiles.remote import load_remote, parse_remote  # noqa: E402
from tests.remote_fakes import FakeServer, Stored  # noqa: E402
from tests.unit.test_loaders_pprof import SAMPLER  # noqa: E402

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
PARCA_CPU = "parca_agent:samples:count:cpu:nanoseconds:delta"


def record_example(folder: Path, lines: int) -> Path:
    """A real pprof of the example workload, written by the tests' sampling profiler."""
    target = folder / "run_workload.py"
    target.write_text(
        "import runpy, sys\n"
        f"sys.argv = ['workload.py', '--lines', '{lines}']\n"
        "try:\n"
        f"    runpy.run_path({str(REPO / 'examples' / 'workload.py')!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    sampler = folder / "sampler.py"
    sampler.write_text(SAMPLER)
    out = folder / "example"
    subprocess.run(
        [sys.executable, str(sampler), str(target), str(out)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return Path(str(out) + ".pb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--lines", type=int, default=25_000, help="example workload size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        raw_full = folder / "austin-full.pprof"
        raw_full.write_bytes(
            gzip.decompress((REPO / "tests/data/austin-full.pprof.gz").read_bytes())
        )
        files = [
            REPO / "tests/data/austin-wall.pprof",
            raw_full,
            REPO / "tests/data/datadog.pprof",
            record_example(folder, args.lines),
        ]
        print(f"{'profile':24} {'size':>9} {'file load':>10} {'pyroscope':>10} {'parca':>10}"
              f" {'+pyroscope':>11} {'+parca':>9}")  # fmt: skip
        for path in files:
            row(path, args.repeat)


def row(path: Path, repeat: int) -> None:
    data = path.read_bytes()
    recorded = int((datetime.now(timezone.utc) - timedelta(minutes=30)).timestamp() * 1000)
    stored = [Stored({"service_name": "api"}, recorded, data)]
    pyroscope = FakeServer("pyroscope", stored).start()
    parca = FakeServer("parca", stored).start()
    try:
        pyro_spec = parse_remote(f'pyroscope+{pyroscope.url}?query={CPU}{{service_name="api"}}')
        parca_spec = parse_remote(f'parca+{parca.url}?query={PARCA_CPU}{{service_name="api"}}')
        ways = {
            "file": lambda: load_profile(path),
            "pyroscope": lambda: load_remote(pyro_spec),
            "parca": lambda: load_remote(parca_spec),
        }
        for way in ways.values():  # warm up imports and connections
            way()
        timings: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(repeat):
            for name, way in ways.items():
                start = time.perf_counter()
                way()
                timings[name].append(time.perf_counter() - start)
    finally:
        pyroscope.stop()
        parca.stop()
    median = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    file_ms, pyro_ms, parca_ms = median["file"], median["pyroscope"], median["parca"]
    print(
        f"{path.name:24} {len(data) / 1024:8.0f}K {file_ms:8.1f}ms {pyro_ms:8.1f}ms"
        f" {parca_ms:8.1f}ms {pyro_ms - file_ms:+9.1f}ms {parca_ms - file_ms:+7.1f}ms"
    )


if __name__ == "__main__":
    main()
