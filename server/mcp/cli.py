"""`perfpilot mcp [--http HOST:PORT] [--root DIR] [--allow-run]`: start the MCP server.

Only argparse is imported here; the SDK and the tools load when the server starts.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


class McpUsageError(Exception):
    """A bad `perfpilot mcp` option; reported in one line."""


def register_mcp(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `mcp` subcommand to perfpilot's parser."""
    mcp = commands.add_parser("mcp", help="run the MCP server for coding agents (stdio by default)")
    mcp.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve streamable HTTP at http://HOST:PORT/mcp instead (HOST defaults to 127.0.0.1)",
    )
    mcp.add_argument(
        "--root", metavar="DIR", help="the workspace (default: the project around the cwd)"
    )
    mcp.add_argument(
        "--allow-run",
        action="store_true",
        help="let the profile_command tool run the commands an agent gives it",
    )
    mcp.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="with --http, also accept browser requests from this Origin (repeatable)",
    )


def run_mcp(args: argparse.Namespace) -> int:
    """Start the server; returns when the client disconnects (stdio) or on Ctrl-C (HTTP)."""
    import logging

    import anyio

    # Plain lines on stderr (stdout carries the protocol); set before the SDK configures its
    # own handler, which then leaves this one in place.
    logging.basicConfig(
        level=logging.WARNING, format="perfpilot mcp: %(levelname)s: %(message)s", stream=sys.stderr
    )
    from perfpilot.server.mcp.app import PerfpilotMCP
    from perfpilot.server.mcp.workspace import Workspace
    from perfpilot.server.mcp.workspace_tools import WORKSPACE_TOOLS
    from perfpilot.tools.agent_tools import TOOLS
    from perfpilot.tools.config import find_workspace_root
    from perfpilot.tools.user_config import load_user_settings

    root = Path(args.root).expanduser() if args.root else find_workspace_root(Path.cwd())
    if not root.is_dir():
        raise McpUsageError(f"--root {args.root}: not a directory")
    user = load_user_settings()
    allow_run = bool(args.allow_run or user.mcp_allow_run)
    address = parse_address(args.http) if args.http else None
    if address is not None and not is_loopback(address[0]) and allow_run:
        raise McpUsageError(
            f"--http {args.http}: refusing to let the network run commands; use a loopback"
            " address with --allow-run (or drop --allow-run)"
        )
    server = PerfpilotMCP(Workspace(root, allow_run), [TOOLS, WORKSPACE_TOOLS])
    if address is None:
        anyio.run(server.run_stdio_async)
        return 0
    host, port = address
    if not is_loopback(host):
        print(
            f"perfpilot: warning: listening on {host}:{port} without authentication;"
            " anyone who can reach it can read this workspace's code",
            file=sys.stderr,
        )
    security = transport_security(host, port, args.allow_origin)
    print(f"perfpilot: MCP server at http://{_url_host(host)}:{port}/mcp", file=sys.stderr)
    anyio.run(
        lambda: server.run_streamable_http_async(host=host, port=port, transport_security=security)
    )
    return 0


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `[::1]:PORT` -> (host, port); loopback when HOST is empty."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise McpUsageError(f"--http {text}: expected HOST:PORT or :PORT")
    host = host.strip("[]") or "127.0.0.1"
    try:
        unspecified = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        unspecified = False
    if unspecified:
        # Host-header checks need the name clients will use; "every interface" has none.
        raise McpUsageError(
            f"--http {text}: name the address to listen on (e.g. 127.0.0.1:{port} or this"
            f" machine's LAN address), not {host}"
        )
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Is `host` this machine only (127.0.0.0/8, ::1, localhost)?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def transport_security(host: str, port: int, extra_origins: list[str]) -> TransportSecuritySettings:
    """DNS-rebinding protection: only this server's own Host names and Origins are accepted."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = list(LOOPBACK_NAMES) if is_loopback(host) else [host]
    hosts = [f"{_url_host(name)}:{port}" for name in names]
    origins = [f"http://{h}" for h in hosts] + list(extra_origins)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
