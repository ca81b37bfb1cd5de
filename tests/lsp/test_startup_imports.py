"""The language server starts without what answering `initialize` does not need.

The server runs as an editor starts it (`python -m perfpilot.server serve` on stdio) under
`-X importtime`, which lists every module imported; the client sends initialize, initialized,
shutdown and exit. Memory and start-up figures are benchmarks/bench_memory_50k.py's and
bench_vs_ruff.py's; this pins the import discipline that makes them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Needed by a feature the user asks for, never by start-up: the defense's SQLite history
# (through the agent's tools), the remote-profile HTTP client, YAML (skill files load with the
# first PP1xx pass), and the LLM, MCP and jedi stacks.
NOT_AT_START = [
    "sqlite3",
    "http.client",
    "urllib.request",
    "yaml",
    "anthropic",
    "mcp",
    "jedi",
    "perfpilot.tools.agent_tools",
    "perfpilot.tools.profiles.remote.transport",
]


def frame(message: dict[str, object]) -> bytes:
    """One JSON-RPC message with its Content-Length header."""
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def modules_through_initialize(root: Path) -> set[str]:
    """The modules the server imported from its start to its exit after `initialize`."""
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
        },
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "perfpilot.server", "serve"],
        input=b"".join(frame(m) for m in messages),
        capture_output=True,
        cwd=root,
        timeout=120,
    )
    answers = done.stdout.decode(errors="replace").replace(" ", "")
    assert '"capabilities"' in answers, answers[-2000:]  # it answered initialize
    modules = set()
    for line in done.stderr.decode(errors="replace").splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            modules.add(line.rsplit("|", 1)[1].strip())
    return modules


def test_initialize_imports_no_sqlite_http_yaml_or_llm(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'w'\n")
    (tmp_path / "app.py").write_text("def spin():\n    return 1\n")
    modules = modules_through_initialize(tmp_path)
    assert "perfpilot.server.lsp.app" in modules and "pygls.lsp.server" in modules
    assert [m for m in NOT_AT_START if m in modules] == []
