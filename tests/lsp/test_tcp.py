"""`perfpilot serve --tcp`: the same server over a loopback socket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def read_message(stream: socket.socket) -> dict[str, object]:
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        header += stream.recv(1)
    length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
    body = b""
    while len(body) < length:
        body += stream.recv(length - len(body))
    return json.loads(body)


def test_tcp_defaults_to_loopback_and_answers(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "perfpilot.server", "serve", "--tcp", f":{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError(server.stderr.read().decode() if server.poll() else "no listener")
        with connection:
            connection.sendall(
                frame(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "initialize",
                        "params": {"capabilities": {}, "rootUri": tmp_path.as_uri()},
                    }
                )
            )
            reply = read_message(connection)
            while "id" not in reply:
                reply = read_message(connection)
        result = reply["result"]
        assert result["serverInfo"]["name"] == "perfpilot"  # type: ignore[index]
        assert "codeLensProvider" in result["capabilities"]  # type: ignore[operator]
        commands = result["capabilities"]["executeCommandProvider"]["commands"]  # type: ignore[index]
        assert {
            "perfpilot.loadProfile",
            "perfpilot.clearProfiles",
            "perfpilot.profileRun",
            "perfpilot.hotFunctions",
        } <= set(commands)
    finally:
        server.kill()
        server.wait()


def test_bad_tcp_address_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "serve", "--tcp", "localhost"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "expected HOST:PORT" in done.stderr
