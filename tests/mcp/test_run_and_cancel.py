"""Running the user's code: only when the user allowed it, with progress, and cancellable."""

from __future__ import annotations

import os
import time
from pathlib import Path

import anyio

from tests.mcp.conftest import error_text, stdio_client, structured

SLOW = """\
import os, sys, time
open(sys.argv[1], "w").write(str(os.getpid()))
deadline = time.time() + 120
while time.time() < deadline:
    sum(i * i for i in range(10000))
"""
MARKER = """\
import sys
open(sys.argv[1], "w").write("ran")
total = sum(i * i for i in range(200000))
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (killed, not yet reaped) is not running
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_cancelling_a_profiled_run_kills_the_program_and_the_server_goes_on(
    example: Path, config_home: Path, tmp_path: Path
) -> None:
    (example / "slow.py").write_text(SLOW)
    pid_file = tmp_path / "slow.pid"
    progress: list[tuple[float, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, message))

    async def scenario() -> None:
        async with stdio_client(example, config_home, "--allow-run") as client:
            structured(await client.call_tool("load_profile", {"paths": ["example.prof"]}))
            with anyio.move_on_after(60) as guard:
                async with anyio.create_task_group() as group:

                    async def call() -> None:
                        await client.call_tool(
                            "profile_command",
                            {"command": ["python3", "slow.py", str(pid_file)]},
                            progress_callback=on_progress,
                        )

                    group.start_soon(call)
                    while not (pid_file.exists() and pid_file.read_text() and len(progress) >= 2):
                        await anyio.sleep(0.1)
                    group.cancel_scope.cancel()  # the client sends notifications/cancelled
            assert not guard.cancelled_caught, "the run never reported progress"
            pid = int(pid_file.read_text())
            deadline = time.monotonic() + 15
            while alive(pid) and time.monotonic() < deadline:
                await anyio.sleep(0.1)
            assert not alive(pid), "the cancelled program is still running"
            # The server is still there and answers, with the profile it had.
            hot = structured(await client.call_tool("hot_functions", {"limit": 1}))
            assert hot[0]["qualname"] == "edit_distance"

    anyio.run(scenario)
    assert progress[0][1] and "python3 slow.py" in progress[0][1]
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)


def test_no_command_runs_unless_the_user_allowed_it(
    example: Path, config_home: Path, tmp_path: Path
) -> None:
    (example / "marker.py").write_text(MARKER)
    marker = tmp_path / "ran.txt"
    command = {"command": ["python3", "marker.py", str(marker)]}
    # The workspace tries to allow itself: it must not count.
    (example / "pyproject.toml").write_text(
        "[project]\nname = 'loganalyzer'\n\n[tool.perfpilot]\nallow_run = true\n"
        "[tool.perfpilot.mcp]\nallow_run = true\n"
    )
    (example / ".config" / "perfpilot").mkdir(parents=True)
    (example / ".config" / "perfpilot" / "config.toml").write_text("[mcp]\nallow_run = true\n")

    async def refused() -> None:
        async with stdio_client(example, config_home) as client:
            message = error_text(await client.call_tool("profile_command", command))
            assert message.startswith("refused: running commands is off")
            assert "--allow-run" in message

    anyio.run(refused)
    assert not marker.exists()

    # The user's own configuration allows it.
    (config_home / "perfpilot").mkdir(exist_ok=True)
    (config_home / "perfpilot" / "config.toml").write_text("[mcp]\nallow_run = true\n")

    async def allowed() -> None:
        async with stdio_client(example, config_home) as client:
            run = structured(await client.call_tool("profile_command", command))
            assert run["exit_status"] == 0 and run["profile"].startswith(".perfpilot/profiles/")
            assert run["loaded"]["profiles"] == [run["profile"]]
            assert (example / run["profile"]).is_file()
            # The same leave turns verification on: verify_fix measures instead of refusing.
            source = structured(
                await client.call_tool(
                    "function_source",
                    {"path": "loganalyzer/enrich.py", "qualname": "edit_distance"},
                )
            )["source"]
            verdict = structured(
                await client.call_tool(
                    "verify_fix",
                    {
                        "path": "loganalyzer/enrich.py",
                        "qualname": "edit_distance",
                        "new_source": source.replace(
                            "    if abs(len(a) - len(b)) > limit:",
                            "    if a == b:\n        return 0\n"
                            "    if abs(len(a) - len(b)) > limit:",
                            1,
                        ),
                    },
                )
            )
            # Nothing was captured in this workspace: said plainly, not guessed.
            assert verdict["kind"] == "unverified" and "captur" in verdict["summary"]

    anyio.run(allowed)
    assert marker.read_text() == "ran"
