"""`perfpilot mcp --http`: streamable HTTP on loopback, with Host/Origin checks."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.mcp.conftest import error_text, isolated_env, stdio_client, structured

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def http_server(example: Path, config_home: Path) -> Iterator[str]:
    """`perfpilot mcp --http 127.0.0.1:PORT` running in the example; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "perfpilot.server", "mcp", "--http", f"127.0.0.1:{port}"],
        cwd=example,
        env=isolated_env(config_home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                message = process.communicate()[1]
                raise AssertionError(f"the server did not start: {message}") from None
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_http_serves_the_same_tools_and_results_as_stdio(
    http_server: str, example: Path, config_home: Path
) -> None:
    async def over(client: Client) -> tuple[list[str], object, object, str]:
        names = sorted(t.name for t in (await client.list_tools()).tools)
        structured(await client.call_tool("load_profile", {"paths": ["example.prof"]}))
        hot = structured(await client.call_tool("hot_functions", {"limit": 5}))
        check = structured(await client.call_tool("check", {}))
        refused = error_text(
            await client.call_tool("profile_command", {"command": ["python3", "workload.py"]})
        )
        return names, hot, check, refused

    async def scenario() -> None:
        async with Client(http_server, read_timeout_seconds=300) as client:
            http = await over(client)
            prompts = [p.name for p in (await client.list_prompts()).prompts]
        async with stdio_client(example, config_home) as client:
            stdio = await over(client)
        assert http == stdio
        assert "optimize-hot-function" in prompts

    anyio.run(scenario)


def post(url: str, headers: dict[str, str]) -> int:
    """POST an initialize request with these extra headers; the HTTP status."""
    port = int(url.split(":")[2].split("/")[0])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/mcp", json.dumps(INITIALIZE), {**HEADERS, **headers})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_http_refuses_foreign_hosts_and_origins(http_server: str) -> None:
    port = http_server.split(":")[2].split("/")[0]
    assert post(http_server, {}) == 200
    assert post(http_server, {"Host": f"localhost:{port}"}) == 200
    # DNS rebinding: a page on evil.example, resolved to 127.0.0.1, sends its own Host.
    assert post(http_server, {"Host": f"evil.example:{port}"}) == 421
    assert post(http_server, {"Origin": "http://evil.example"}) == 403
    assert post(http_server, {"Origin": "http://localhost:1"}) == 403  # another local page
    assert post(http_server, {"Origin": f"http://localhost:{port}"}) == 200
