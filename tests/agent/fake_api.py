"""A real HTTP server on 127.0.0.1 that speaks the Messages API with scripted replies.

The real `anthropic` client is pointed at it with `base_url`. Every request is recorded (body
and headers), so tests can assert what the model was sent, and that nothing was sent at all.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


@dataclass
class Reply:
    """One scripted HTTP answer; `delay` holds it back (released early on close)."""

    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Recorded:
    """A request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


Script = Reply | Callable[[dict[str, Any]], Reply]


def text(value: str) -> dict[str, Any]:
    """A text content block."""
    return {"type": "text", "text": value}


def tool_use(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A tool_use content block with a fresh id."""
    return {"type": "tool_use", "id": f"toolu_{next(_ids):04d}", "name": name, "input": arguments}


def message(*blocks: dict[str, Any], stop_reason: str | None = None) -> Reply:
    """A successful Messages API reply; stop_reason follows the blocks unless given."""
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return Reply(
        {
            "id": f"msg_{next(_ids):04d}",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": list(blocks),
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 50},
        }
    )


def error(status: int, kind: str, text_: str, **headers: str) -> Reply:
    """An API error reply (429 rate_limit_error, 500 api_error, ...)."""
    return Reply(
        {"type": "error", "error": {"type": kind, "message": text_}},
        status=status,
        headers={k.replace("_", "-"): v for k, v in headers.items()},
    )


class FakeMessagesAPI:
    """Serves scripted replies in order; an unscripted request gets a 500 that says so."""

    def __init__(self) -> None:
        self.script: deque[Script] = deque()
        self.requests: list[Recorded] = []
        self.released = threading.Event()
        self.received = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"unparsed": raw.decode("utf-8", "replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                api.requests.append(Recorded(self.path, headers, body))
                api.received.set()
                reply = api.next_reply(body) if self.path.startswith("/v1/messages") else None
                if reply is None:
                    reply = error(500, "api_error", f"fake API: nothing scripted for {self.path}")
                if reply.delay and api.released.wait(reply.delay):
                    return  # the test is over: drop the connection
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout, cancellation)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """Where the client should send its requests."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, *replies: Script) -> None:
        """Script the next replies."""
        self.script.extend(replies)

    def next_reply(self, body: dict[str, Any]) -> Reply | None:
        """The next scripted reply (a callable sees the request body)."""
        if not self.script:
            return None
        entry = self.script.popleft()
        return entry(body) if callable(entry) else entry

    def messages_requests(self) -> list[dict[str, Any]]:
        """The bodies of every /v1/messages request, in order."""
        return [r.body for r in self.requests if r.path.startswith("/v1/messages")]

    def start(self) -> FakeMessagesAPI:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def close(self) -> None:
        """Release held replies and stop serving."""
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of a request's last user turn."""
    last = request["messages"][-1]
    content = last["content"] if isinstance(last["content"], list) else []
    return [block for block in content if block.get("type") == "tool_result"]


def result_text(block: dict[str, Any]) -> str:
    """A tool_result's content as text."""
    content = block.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return str(content)
