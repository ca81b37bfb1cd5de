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
import time
from collections.abc import Sequence
from pathlib import Path

# Needed by a feature the user asks for, never by start-up: the defense's SQLite history
# (through the agent's tools), the remote-profile HTTP client, YAML (skill files load with the
# first PP1xx pass), and the LLM, MCP and jedi stacks; the skills' registry and runner (their
# first pass follows the first publish), the branch comparison (its first check too), the
# regression solver, fix verification's replay and the profiling command.
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
    "perfpilot.tools.defense.regress",
    "perfpilot.tools.defense.solver",
    "perfpilot.skills.verifying",
    "perfpilot.tools.verify.verify_fix",
    "perfpilot.skills.registry",
    "perfpilot.skills.runner",
    "perfpilot.tools.profiling",
]


def frame(message: dict[str, object]) -> bytes:
    """One JSON-RPC message with its Content-Length header."""
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def modules_through_initialize(
    root: Path, after_initialized: Sequence[dict[str, object]] = (), settle: float = 0.0
) -> set[str]:
    """The modules the server imported from its start to its exit after `initialize`.

    `after_initialized` messages follow `initialized`; `settle` seconds pass before shutdown.
    """
    start = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
        },
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        *after_initialized,
    ]
    end = [
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    server = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "perfpilot.server", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=root,
    )
    assert server.stdin is not None
    server.stdin.write(b"".join(frame(m) for m in start))
    server.stdin.flush()
    time.sleep(settle)
    stdout, stderr = server.communicate(b"".join(frame(m) for m in end), timeout=120)
    answers = stdout.decode(errors="replace").replace(" ", "")
    assert '"capabilities"' in answers, answers[-2000:]  # it answered initialize
    modules = set()
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            modules.add(line.rsplit("|", 1)[1].strip())
    return modules


def test_initialize_imports_no_sqlite_http_yaml_or_llm(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'w'\n")
    (tmp_path / "app.py").write_text("def spin():\n    return 1\n")
    modules = modules_through_initialize(tmp_path)
    assert "perfpilot.server.lsp.app" in modules and "pygls.lsp.server" in modules
    assert [m for m in NOT_AT_START if m in modules] == []


def test_a_file_without_hot_functions_imports_no_libcst(tmp_path: Path) -> None:
    """No profile, so no hot function: the skills (and libcst, 9 MiB) are never loaded."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'w'\n")
    source = tmp_path / "app.py"
    source.write_text("def spin(items):\n    return [i for i in items]\n")
    opened = {
        "jsonrpc": "2.0",
        "method": "textDocument/didOpen",
        "params": {
            "textDocument": {
                "uri": source.as_uri(),
                "languageId": "python",
                "version": 1,
                "text": source.read_text(),
            }
        },
    }
    # The skills' pass starts in the background after the publish: give it time to load them.
    modules = modules_through_initialize(tmp_path, after_initialized=[opened], settle=4.0)
    assert "perfpilot.server.lsp.app" in modules
    assert "libcst" not in modules
