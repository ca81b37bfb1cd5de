"""Loopback servers speaking Pyroscope's Connect API and Parca's gRPC-Web API, for the tests.

They read requests the way the real servers do (method, path, content type, the protobuf body
decoded with message classes built here from the field numbers of the real .proto files, the
tenant header) and answer real pprof bodies. They share no code with perfpilot's client, so an
encoding mistake on either side shows. Behaviour switches (`mode`) produce the bad answers.

Field numbers follow grafana/pyroscope api/querier/v1/querier.proto (SelectMergeStacktraces,
PROFILE_FORMAT_PPROF = 4, PprofProfile) and parca-dev/parca proto/parca/query/v1alpha1/query.proto
(QueryRequest MODE_MERGE = 2, REPORT_TYPE_PPROF = 1, QueryResponse.pprof = 6).
"""

from __future__ import annotations

import gzip
import json
import re
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _messages() -> dict[str, Any]:
    """Message classes for the requests and answers, from a descriptor built here."""
    file = descriptor_pb2.FileDescriptorProto(
        name="perfpilot_test_remote.proto", package="fake", syntax="proto3"
    )

    def message(name: str, *fields: tuple[str, int, int, str | None]) -> Any:
        proto = file.message_type.add(name=name)
        for field_name, number, kind, type_name in fields:
            added = proto.field.add(
                name=field_name, number=number, type=kind, label=_F.LABEL_OPTIONAL
            )
            if type_name:
                added.type_name = type_name
        return proto

    enum = file.enum_type.add(name="ProfileFormat")
    for name, number in (("UNSPECIFIED", 0), ("FLAMEGRAPH", 1), ("TREE", 2), ("DOT", 3),
                         ("PPROF", 4)):  # fmt: skip
        enum.value.add(name=f"PROFILE_FORMAT_{name}", number=number)
    select = message(
        "SelectMergeStacktracesRequest",
        ("profile_typeID", 1, _F.TYPE_STRING, None),
        ("label_selector", 2, _F.TYPE_STRING, None),
        ("start", 3, _F.TYPE_INT64, None),
        ("end", 4, _F.TYPE_INT64, None),
        ("max_nodes", 5, _F.TYPE_INT64, None),
        ("format", 6, _F.TYPE_ENUM, ".fake.ProfileFormat"),
    )
    # `optional int64 max_nodes`: proto3 optional is a synthetic oneof.
    select.oneof_decl.add(name="_max_nodes")
    select.field[4].oneof_index = 0
    select.field[4].proto3_optional = True
    legacy = message(
        "SelectMergeProfileRequest",
        ("profile_typeID", 1, _F.TYPE_STRING, None),
        ("label_selector", 2, _F.TYPE_STRING, None),
        ("start", 3, _F.TYPE_INT64, None),
        ("end", 4, _F.TYPE_INT64, None),
        ("max_nodes", 5, _F.TYPE_INT64, None),
    )
    legacy.oneof_decl.add(name="_max_nodes")
    legacy.field[4].oneof_index = 0
    legacy.field[4].proto3_optional = True
    message("FlameGraph", ("names", 1, _F.TYPE_STRING, None), ("total", 3, _F.TYPE_INT64, None))
    file.message_type[-1].field[0].label = _F.LABEL_REPEATED
    # google.v1.Profile has perftools.profiles.Profile's wire format: bytes stand in for it.
    message("PprofProfile", ("profile", 1, _F.TYPE_BYTES, None))
    message(
        "SelectMergeStacktracesResponse",
        ("flamegraph", 1, _F.TYPE_MESSAGE, ".fake.FlameGraph"),
        ("tree", 2, _F.TYPE_BYTES, None),
        ("pprof", 5, _F.TYPE_MESSAGE, ".fake.PprofProfile"),
    )
    message("Timestamp", ("seconds", 1, _F.TYPE_INT64, None), ("nanos", 2, _F.TYPE_INT32, None))
    message(
        "MergeProfile",
        ("query", 1, _F.TYPE_STRING, None),
        ("start", 2, _F.TYPE_MESSAGE, ".fake.Timestamp"),
        ("end", 3, _F.TYPE_MESSAGE, ".fake.Timestamp"),
    )
    message(
        "QueryRequest",
        ("mode", 1, _F.TYPE_INT32, None),
        ("merge", 3, _F.TYPE_MESSAGE, ".fake.MergeProfile"),
        ("report_type", 5, _F.TYPE_INT32, None),
    )
    message(
        "QueryResponse",
        ("pprof", 6, _F.TYPE_BYTES, None),
        ("total", 9, _F.TYPE_INT64, None),
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        proto.name: message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"fake.{proto.name}")
        )
        for proto in file.message_type
    }


MESSAGES = _messages()
_MATCHER = re.compile(r'(\w+)\s*=\s*"([^"]*)"')


@dataclass
class Stored:
    """One profile the fake server holds: its labels, its time (unix ms), its pprof bytes."""

    labels: dict[str, str]
    millis: int
    pprof: bytes


@dataclass
class FakeServer:
    """A running loopback server; `requests` records what each request carried."""

    kind: str  # "pyroscope" | "parca"
    profiles: list[Stored]
    mode: str = "modern"
    tenant: str | None = None  # when set, X-Scope-OrgID must carry it
    token: str | None = None  # when set, Authorization: Bearer must carry it
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def select(self, selector: str, start_ms: int, end_ms: int) -> bytes:
        """The stored profile matching the selector in [start, end); b'' (empty) when none."""
        wanted = dict(_MATCHER.findall(selector))
        for stored in self.profiles:
            if start_ms <= stored.millis < end_ms and all(
                stored.labels.get(k) == v for k, v in wanted.items()
            ):
                return stored.pprof
        return b""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._plain(405 if self.fake.kind == "pyroscope" else 200, b"Method Not Allowed\n")

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.fake.requests.append({"path": self.path, "headers": self.headers, "body": body})
        if self.fake.kind == "pyroscope":
            self._pyroscope(body)
        else:
            self._parca(body)

    # -- Pyroscope (Connect, binary codec) --------------------------------------------------

    def _pyroscope(self, body: bytes) -> None:
        fake, mode = self.fake, self.fake.mode
        if mode == "timeout":
            time.sleep(3)
        if mode == "flaky" and len(fake.requests) == 1:  # a gateway while the querier restarts
            return self._reply(
                503, "text/html", b"<html>503 Service Temporarily Unavailable</html>"
            )
        if mode == "html":
            return self._reply(200, "text/html; charset=utf-8", b"<html><body>Login</body></html>")
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "https://sso.example.com/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        method = self.path.rpartition("/")[2]
        if not self.path.startswith("/querier.v1.QuerierService/") or method not in (
            "SelectMergeStacktraces",
            "SelectMergeProfile",
        ):
            return self._plain(404, b"404 page not found\n")
        if self.headers.get("Content-Type") != "application/proto":
            return self._connect_error(415, "unknown", "unsupported content type")
        if fake.tenant is not None and self.headers.get("X-Scope-OrgID") != fake.tenant:
            return self._connect_error(401, "unauthenticated", "no org id")
        if fake.token is not None and self.headers.get("Authorization") != f"Bearer {fake.token}":
            return self._connect_error(401, "unauthenticated", "invalid token")
        if mode == "error":
            return self._connect_error(500, "internal", "querier: store-gateway unavailable")
        if mode == "bad-selector":
            return self._connect_error(400, "invalid_argument", 'parse error: unexpected "}"')
        request_type = f"{method}Request"
        request = MESSAGES[request_type].FromString(body)
        if not request.profile_typeID.endswith(":cpu:nanoseconds:cpu:nanoseconds"):
            return self._connect_error(400, "invalid_argument", "unknown profile type")
        pprof = fake.select(request.label_selector, request.start, request.end)
        if mode == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/proto")
            self.send_header("Content-Length", str(len(pprof) + 10))
            self.end_headers()
            self.wfile.write(pprof[: len(pprof) // 2])
            self.close_connection = True
            return None
        if mode == "garbage":
            return self._reply(200, "application/proto", b"\xff\xff\xff\xff\x0f\x07")
        if mode == "json":
            return self._reply(200, "application/json", json.dumps({"flamegraph": {}}).encode())
        if method == "SelectMergeProfile":
            return self._reply(200, "application/proto", pprof)
        answer = MESSAGES["SelectMergeStacktracesResponse"]()
        if mode in ("modern", "flaky") and request.format == 4:
            answer.pprof.profile = pprof
        else:  # a server from before PROFILE_FORMAT_PPROF: the unknown enum value is ignored
            answer.flamegraph.names.append("total")
            answer.flamegraph.total = 1
        self._reply(200, "application/proto", answer.SerializeToString())

    def _connect_error(self, status: int, code: str, message: str) -> None:
        self._reply(
            status, "application/json", json.dumps({"code": code, "message": message}).encode()
        )

    # -- Parca (gRPC-Web via improbable-eng's grpcweb) ---------------------------------------

    def _parca(self, body: bytes) -> None:
        fake, mode = self.fake, self.fake.mode
        if not (self.headers.get("Content-Type") or "").startswith("application/grpc"):
            # Parca's handler sends everything else to the web UI
            return self._reply(200, "text/html; charset=utf-8", b"<!doctype html><title>Parca")
        if self.path != "/parca.query.v1alpha1.QueryService/Query":
            return self._grpc_status(12, "unknown service")
        if fake.token is not None and self.headers.get("Authorization") != f"Bearer {fake.token}":
            return self._grpc_status(16, "invalid token: not authenticated")
        flag, size = struct.unpack_from(">BI", body)
        request = MESSAGES["QueryRequest"].FromString(body[5 : 5 + size])
        assert flag == 0 and len(body) == 5 + size
        if request.mode != 2 or request.report_type != 1:
            return self._grpc_status(3, "only merge as pprof here")
        start = request.merge.start.seconds * 1000 + request.merge.start.nanos // 1_000_000
        end = request.merge.end.seconds * 1000 + request.merge.end.nanos // 1_000_000
        selector = request.merge.query.partition("{")[2]
        pprof = fake.select("{" + selector, start, end)
        if not pprof:
            return self._grpc_status(5, "no profiles found")
        message = MESSAGES["QueryResponse"](pprof=gzip.compress(pprof), total=1).SerializeToString()
        data = struct.pack(">BI", 0, len(message)) + message
        trailer = b"grpc-status: 0\r\ngrpc-message: \r\n"
        if mode == "no-trailer":
            trailer = b""
        else:
            trailer = struct.pack(">BI", 0x80, len(trailer)) + trailer
        if mode == "truncated":
            data = data[: len(data) // 2]
            trailer = b""
        self._reply(200, "application/grpc-web+proto", data + trailer)

    def _grpc_status(self, code: int, message: str) -> None:
        """A trailers-only answer: the status in the HTTP headers, no body."""
        self.send_response(200)
        self.send_header("Content-Type", "application/grpc-web+proto")
        self.send_header("Grpc-Status", str(code))
        self.send_header("Grpc-Message", quote(message))
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- plumbing ----------------------------------------------------------------------------

    def _plain(self, status: int, body: bytes) -> None:
        self._reply(status, "text/plain; charset=utf-8", body)

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        # Compress as connect-go does when the client accepts it and the body is not tiny.
        gzipped = "gzip" in (self.headers.get("Accept-Encoding") or "") and len(body) > 1024
        if gzipped:
            body = gzip.compress(body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
