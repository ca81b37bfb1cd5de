"""How fast `perfpilot mcp` answers `initialize` and `tools/list` after it is spawned.

Each run spawns the server on stdio, writes raw JSON-RPC (initialize, initialized,
tools/list) and stops the clock when the tools/list answer arrives. Compared in the same
run, interleaved, with:
- `python -c pass` (the interpreter alone),
- a floor: the smallest MCPServer of the official SDK with one tool (what any server built
  on the SDK pays before doing anything of its own).
Medians of --repeats runs; on a loaded machine the spread is wide, so read the medians.

    python benchmarks/bench_mcp_startup.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR_SERVER = """
from mcp.server import MCPServer
app = MCPServer("floor")

@app.tool()
def echo(text: str) -> str:
    \"\"\"Echo the text.\"\"\"
    return text

app.run()
"""

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


def time_server(argv: list[str], cwd: Path) -> tuple[float, float, int]:
    """(seconds to the initialize answer, seconds to the tools/list answer, tools listed)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
        process.stdin.flush()
        _answer(process, 1)
        initialized = time.perf_counter() - started
        process.stdin.write(
            (json.dumps(INITIALIZED) + "\n" + json.dumps(TOOLS_LIST) + "\n").encode()
        )
        process.stdin.flush()
        tools = _answer(process, 2)["result"]["tools"]
        listed = time.perf_counter() - started
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return initialized, listed, len(tools)


def _answer(process: subprocess.Popen[bytes], request_id: int) -> dict:
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the server closed stdout before answering request {request_id}")
        message = json.loads(line)
        if message.get("id") == request_id:
            return message


def time_python(cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], cwd=cwd, check=True)
    return time.perf_counter() - started


def main() -> None:
    """Run the interleaved comparison and print a table of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    repository = Path(__file__).resolve().parent.parent
    perfpilot = Path(sys.executable).parent / "perfpilot"
    with tempfile.TemporaryDirectory() as scratch:
        floor_script = Path(scratch) / "floor_server.py"
        floor_script.write_text(FLOOR_SERVER)
        servers = {
            "MCPServer floor (1 tool)": [sys.executable, str(floor_script)],
            "perfpilot mcp": [str(perfpilot), "mcp", "--root", str(repository / "examples")],
        }
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in servers}
        python: list[float] = []
        env_note = os.getloadavg() if hasattr(os, "getloadavg") else None
        for _ in range(args.repeats):
            python.append(time_python(Path(scratch)))
            for name, argv in servers.items():
                results[name].append(time_server(argv, repository))
    print(f"{args.repeats} interleaved runs, load average before: {env_note}")
    print(f"{'server':28} {'initialize ms':>14} {'tools/list ms':>14} {'min ms':>8} {'tools':>6}")
    print(
        f"{'python -c pass':28} {'':>14} {statistics.median(python) * 1000:14.0f}"
        f" {min(python) * 1000:8.0f} {'':>6}"
    )
    for name, runs in results.items():
        init = statistics.median(r[0] for r in runs) * 1000
        listed = statistics.median(r[1] for r in runs) * 1000
        best = min(r[1] for r in runs) * 1000
        print(f"{name:28} {init:14.0f} {listed:14.0f} {best:8.0f} {runs[0][2]:6d}")
    floor = statistics.median(r[1] for r in results["MCPServer floor (1 tool)"])
    ours = statistics.median(r[1] for r in results["perfpilot mcp"])
    print(f"perfpilot mcp over the floor: {(ours - floor) * 1000:+.0f} ms (median)")


if __name__ == "__main__":
    main()
