"""A tool declared in a registry reaches MCP clients with no MCP-side code (in-process client)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

import anyio
from mcp import Client

from perfpilot.server.mcp.app import PerfpilotMCP
from perfpilot.server.mcp.workspace import McpContext, Workspace
from perfpilot.tools.agent_tools import TOOLS
from perfpilot.tools.registry import ToolError, ToolRegistry


def extra_registry(steps: list[int], stopped: threading.Event) -> ToolRegistry:
    """Tools as another module would declare them (a verification tool, a slow scan)."""
    registry = ToolRegistry()

    @registry.tool(read_only=False, destructive=True)
    def measure_fix(
        ctx: McpContext, path: Annotated[str, "the file"], repeats: int = 3
    ) -> dict[str, object]:
        """Measure a fix (stand-in for the verification tool)."""
        if repeats < 1:
            raise ToolError("repeats must be at least 1")
        return {"path": ctx.relative(ctx.resolve(path)), "repeats": repeats}

    @registry.tool()
    def slow_scan(ctx: McpContext, seconds: float = 30.0) -> int:
        """Scan slowly, reporting progress."""
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                steps.append(len(steps))
                ctx.progress(len(steps), None, f"step {len(steps)}")
                time.sleep(0.05)
        finally:
            stopped.set()
        return len(steps)

    return registry


def test_a_new_registry_tool_is_listed_called_and_cancelled_without_mcp_code(
    tmp_path: Path,
) -> None:
    (tmp_path / "mod.py").write_text("def f():\n    return 1\n")
    steps: list[int] = []
    stopped = threading.Event()
    server = PerfpilotMCP(
        Workspace(tmp_path, allow_run=False), [TOOLS, extra_registry(steps, stopped)]
    )
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async def scenario() -> None:
        async with Client(server) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            verify = tools["measure_fix"]
            assert verify.description == "Measure a fix (stand-in for the verification tool)."
            assert verify.input_schema["required"] == ["path"]
            assert verify.input_schema["properties"]["repeats"] == {"type": "integer", "default": 3}
            assert verify.annotations.read_only_hint is False
            assert verify.annotations.destructive_hint is True
            assert tools["slow_scan"].annotations.read_only_hint is True
            result = await client.call_tool("measure_fix", {"path": "mod.py"})
            assert result.structured_content == {"path": "mod.py", "repeats": 3}
            bad = await client.call_tool("measure_fix", {"path": "mod.py", "repeats": 0})
            assert bad.is_error and bad.content[0].text == "repeats must be at least 1"

            async with anyio.create_task_group() as group:

                async def call() -> None:
                    await client.call_tool("slow_scan", {}, progress_callback=on_progress)

                group.start_soon(call)
                while len(progress) < 3:
                    await anyio.sleep(0.05)
                group.cancel_scope.cancel()
            # The worker thread notices the cancel at its next checkpoint and stops.
            assert await anyio.to_thread.run_sync(stopped.wait, 10)
            count = len(steps)
            await anyio.sleep(0.3)
            assert len(steps) == count
            again = await client.call_tool("measure_fix", {"path": "mod.py", "repeats": 2})
            assert again.structured_content == {"path": "mod.py", "repeats": 2}

    anyio.run(scenario)
    assert progress == sorted(progress) and len(steps) < 200


def test_two_registries_cannot_declare_the_same_name(tmp_path: Path) -> None:
    clash = ToolRegistry()

    @clash.tool()
    def hot_functions(ctx: McpContext) -> list[str]:
        """A second hot_functions."""
        return []

    try:
        PerfpilotMCP(Workspace(tmp_path, allow_run=False), [TOOLS, clash])
    except ValueError as exc:
        assert "hot_functions" in str(exc)
    else:
        raise AssertionError("a duplicate tool name was accepted")
