"""`perfpilot mcp`: every registry tool, resource and prompt on the official MCP SDK.

The tools come from their single definitions (tools/registry.py): name, description, JSON
schema and the read-only/destructive/runs-user-code flags become the MCP tool and its
annotations here, with no per-tool code. A tool's failure is a tool error with a message
(the model can read it and correct itself); nothing a client sends stops the server.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    GetPromptResult,
    Prompt,
    PromptArgument,
    PromptMessage,
    Resource,
    TextContent,
    Tool,
    ToolAnnotations,
)

from perfpilot.server.mcp import catalog
from perfpilot.server.mcp.workspace import Cancelled, McpContext, Workspace
from perfpilot.server.render import package_version
from perfpilot.tools.config import ConfigError
from perfpilot.tools.model import ProfileError
from perfpilot.tools.registry import Tool as RegistryTool
from perfpilot.tools.registry import ToolError, ToolRegistry, to_data

log = logging.getLogger("perfpilot.mcp")
RUNS_USER_CODE = "dev.perfpilot/runsUserCode"
HEARTBEAT_SECONDS = 1.0
# Expected failures: their message is for the model; anything else is a bug, logged in full.
EXPECTED = (ToolError, Cancelled, ProfileError, ConfigError, OSError)

INSTRUCTIONS = """\
perfpilot maps CPU profiles of this Python project onto its source and offers validated fixes.
Start with `hot_functions` (or `load_profile` when no profile is loaded), then
`function_profile` and `function_source` for a hot function. `fix_opportunities` lists
perfpilot's validated fixes with diffs; `apply_fix` writes one when the user agrees.
`check` returns every finding as data. Prompts apply one skill to one function."""


def mcp_tool(tool: RegistryTool) -> Tool:
    """The MCP form of a registry tool: schema and annotations from its one definition."""
    destructive = tool.destructive if tool.destructive is not None else not tool.read_only
    annotations = ToolAnnotations(
        title=tool.name.replace("_", " "),
        read_only_hint=tool.read_only,
        destructive_hint=None if tool.read_only else destructive,
        idempotent_hint=True if tool.read_only else None,
        # Only a tool that runs the user's program reaches beyond the workspace's files.
        open_world_hint=tool.runs_user_code,
    )
    meta = {RUNS_USER_CODE: True} if tool.runs_user_code else None
    description = _full_description(tool)
    return Tool(
        name=tool.name,
        description=description,
        input_schema=tool.input_schema,
        annotations=annotations,
        _meta=meta,
    )


class PerfpilotMCP(MCPServer):
    """The MCP server of one workspace, serving the tools of the given registries."""

    def __init__(self, workspace: Workspace, registries: Sequence[ToolRegistry]) -> None:
        super().__init__(name="perfpilot", version=package_version(), instructions=INSTRUCTIONS)
        self.workspace = workspace
        self.registry_tools: dict[str, RegistryTool] = {}
        for registry in registries:
            for tool in registry:
                if tool.name in self.registry_tools:
                    raise ValueError(f"tool {tool.name!r} is declared by two registries")
                self.registry_tools[tool.name] = tool

    # Tools -----------------------------------------------------------------------------

    async def list_tools(self) -> list[Tool]:
        """Every registry tool, converted."""
        return [mcp_tool(tool) for tool in self.registry_tools.values()]

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        tool = self.registry_tools.get(name)
        return tool.input_schema if tool is not None else None

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Any = None
    ) -> CallToolResult:
        """Run a tool; every failure becomes an error result with its message."""
        tool = self.registry_tools.get(name)
        if tool is None:
            known = ", ".join(self.registry_tools)
            return _error(f"unknown tool {name!r} (tools: {known})")
        started = time.perf_counter()
        try:
            if inspect.iscoroutinefunction(tool.function):
                result = await self._run_async(tool, arguments, context)
            else:
                result = await self._run_in_thread(tool, arguments, context)
        except EXPECTED as exc:
            log.info("tool %s failed: %s", name, exc)
            return _error(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug in one tool must not stop the server
            log.exception("tool %s raised", name)
            return _error(f"internal error in {name}: {type(exc).__name__}: {exc}")
        log.debug("tool %s took %.3f s", name, time.perf_counter() - started)
        data = to_data(result)
        structured = data if isinstance(data, dict) else {"result": data}
        return CallToolResult(
            content=[TextContent(type="text", text=json.dumps(data, ensure_ascii=False))],
            structured_content=structured,
        )

    async def _run_in_thread(
        self, tool: RegistryTool, arguments: dict[str, Any], context: Any
    ) -> Any:
        """Synchronous tools run in a worker; a cancel abandons it and stops it at a checkpoint."""
        cancel = threading.Event()

        def progress(done: float, total: float | None, message: str) -> None:
            if context is None:
                return
            try:
                anyio.from_thread.run(context.report_progress, done, total, message)
            except Exception:  # noqa: BLE001 - progress is best effort (the client may be gone)
                log.debug("progress notification not sent", exc_info=True)

        def work() -> Any:
            ctx = self.workspace.context(cancel, progress)
            return _call(tool, ctx, arguments)

        try:
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        finally:
            cancel.set()  # an abandoned worker stops at its next checkpoint

    async def _run_async(self, tool: RegistryTool, arguments: dict[str, Any], context: Any) -> Any:
        """Asynchronous tools (they run programs) run here; a heartbeat reports progress."""
        latest = {"message": tool.name}

        def progress(done: float, total: float | None, message: str) -> None:
            latest["message"] = message

        ctx = await anyio.to_thread.run_sync(
            lambda: self.workspace.context(threading.Event(), progress)
        )

        async def heartbeat() -> None:
            started = time.monotonic()
            while context is not None:
                await anyio.sleep(HEARTBEAT_SECONDS)
                elapsed = time.monotonic() - started
                message = f"{latest['message']} ({elapsed:.0f} s)"
                try:
                    await context.report_progress(elapsed, None, message)
                except Exception:  # noqa: BLE001 - progress is best effort
                    return

        outcome: dict[str, Any] = {}
        async with anyio.create_task_group() as group:
            group.start_soon(heartbeat)
            try:
                outcome["value"] = await _call(tool, ctx, arguments)
            except Exception as exc:  # noqa: BLE001 - raised below, outside the task group
                outcome["error"] = exc
            finally:
                group.cancel_scope.cancel()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    # Resources and prompts ---------------------------------------------------------------

    async def list_resources(self) -> list[Resource]:
        """The profiles, the hot functions, and each skill's SKILL.md."""
        entries = await anyio.to_thread.run_sync(catalog.resources, self.workspace)
        return [
            Resource(uri=e.uri, name=e.name, description=e.description, mime_type=e.mime_type)
            for e in entries
        ]

    async def list_resource_templates(self) -> list[Any]:
        """None: every resource is listed."""
        return []

    async def read_resource(self, uri: Any, context: Any = None) -> Iterable[ReadResourceContents]:
        """A resource's text; unknown URIs are a not-found error, failures an error message."""
        try:
            found = await anyio.to_thread.run_sync(catalog.read, self.workspace, str(uri))
        except EXPECTED as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        if found is None:
            raise ResourceNotFoundError(f"unknown resource {uri}")
        text, mime_type = found
        return [ReadResourceContents(content=text, mime_type=mime_type)]

    async def list_prompts(self) -> list[Prompt]:
        """One prompt per skill, taking the function to work on."""
        entries = await anyio.to_thread.run_sync(catalog.prompts, self.workspace)
        argument = PromptArgument(
            name=catalog.FUNCTION_ARGUMENT,
            description="the function: path::qualname, e.g. pkg/module.py::Class.method",
            required=True,
        )
        return [
            Prompt(name=e.name, description=e.description, arguments=[argument]) for e in entries
        ]

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Any = None
    ) -> GetPromptResult:
        """A skill's prompt for one function; bad names or arguments are invalid-params errors."""
        values = {str(k): str(v) for k, v in (arguments or {}).items()}
        try:
            text = await anyio.to_thread.run_sync(
                catalog.render_prompt, self.workspace, name, values
            )
        except EXPECTED as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        return GetPromptResult(
            description=f"perfpilot skill {name}",
            messages=[PromptMessage(role="user", content=TextContent(type="text", text=text))],
        )


def _call(tool: RegistryTool, ctx: McpContext, arguments: Any) -> Any:
    """Check the arguments against the schema and run the tool (a coroutine for async ones)."""
    try:
        return tool.call(ctx, arguments)
    except ToolError as exc:
        if ctx.profile_problem and "no profile" in str(exc):
            raise ToolError(f"{exc} ({ctx.profile_problem})") from None
        raise


def _full_description(tool: RegistryTool) -> str:
    """The docstring's first line, plus the rest of it for tools that must warn."""
    doc = inspect.getdoc(tool.function) or tool.description
    return doc if tool.runs_user_code else tool.description


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
