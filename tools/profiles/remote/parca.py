"""Parca: a merged pprof from `parca.query.v1alpha1.QueryService/Query` over gRPC-Web.

Parca's HTTP port serves native gRPC (HTTP/2) and, wrapped by improbable-eng's grpcweb, gRPC-Web
over HTTP/1.1 on the same path: any request whose Content-Type starts with `application/grpc`
goes there (its own web UI talks to it so). The request is `QueryRequest{mode: MODE_MERGE,
merge: {query, start, end}, report_type: REPORT_TYPE_PPROF}`; the answer's `pprof` field holds
a gzip'd pprof. gRPC-Web frames each message as a flag byte and a 4-byte length; the status
comes in a trailer frame (flag 0x80), or in the HTTP headers when there is no message at all.
"""

from __future__ import annotations

import struct
from datetime import datetime
from email.message import Message
from urllib.parse import unquote

from perfpilot.tools.profiles.remote import protowire as wire
from perfpilot.tools.profiles.remote.credentials import Credentials
from perfpilot.tools.profiles.remote.spec import RemoteSpec
from perfpilot.tools.profiles.remote.transport import RemoteError, Response, auth_headers, post

METHOD = "/parca.query.v1alpha1.QueryService/Query"
MODE_MERGE = 2  # QueryRequest.Mode
REPORT_TYPE_PPROF = 1  # QueryRequest.ReportType
_TRAILER_FLAG, _COMPRESSED_FLAG = 0x80, 0x01
_GRPC_CODES = (
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
)  # fmt: skip


def fetch(spec: RemoteSpec, credentials: Credentials, user_agent: str) -> bytes:
    """The pprof (gzip'd, as Parca sends it) merged over the spec's query and window."""
    url = spec.base_url + METHOD
    message = query_request(spec)
    headers = {
        "Content-Type": "application/grpc-web+proto",
        "Accept": "application/grpc-web+proto",
        "X-Grpc-Web": "1",
        "X-User-Agent": user_agent,
        "User-Agent": user_agent,
        "grpc-timeout": f"{max(1, int(spec.timeout * 1000))}m",
        **auth_headers(credentials),
    }
    answer = post(url, frame(message), headers, spec.timeout, spec.text)
    body = _unary_message(spec, url, answer)
    try:
        report = {number: value for number, _, value in wire.fields(body)}
    except wire.WireError as error:
        raise RemoteError(
            spec.text, f"{url}: the answer is not a valid protobuf ({error})"
        ) from None
    pprof = report.get(6)
    if not isinstance(pprof, memoryview):
        raise RemoteError(spec.text, f"{url}: the answer holds no pprof report")
    return bytes(pprof)


def query_request(spec: RemoteSpec) -> bytes:
    """The encoded QueryRequest for a merge over the spec's window, reported as pprof."""
    merge = b"".join(
        (
            wire.bytes_field(1, spec.query),
            wire.bytes_field(2, _timestamp(spec.start)),
            wire.bytes_field(3, _timestamp(spec.end)),
        )
    )
    return b"".join(
        (
            wire.int_field(1, MODE_MERGE),
            wire.bytes_field(3, merge),
            wire.int_field(5, REPORT_TYPE_PPROF),
        )
    )


def frame(message: bytes, flag: int = 0) -> bytes:
    """One gRPC-Web frame: flag byte, big-endian length, payload."""
    return struct.pack(">BI", flag, len(message)) + message


def _timestamp(moment: datetime) -> bytes:
    """A google.protobuf.Timestamp."""
    seconds = int(moment.timestamp() // 1)
    nanos = moment.microsecond * 1000
    return wire.int_field(1, seconds) + wire.int_field(2, nanos)


def _unary_message(spec: RemoteSpec, url: str, answer: Response) -> bytes:
    """The one message of a successful unary answer; the gRPC status otherwise, as an error."""
    if answer.status != 200:
        text = " ".join(answer.body[:200].decode("utf-8", "replace").split())
        kind = answer.content_type or "no content type"
        raise RemoteError(
            spec.text,
            f"{url}: HTTP {answer.status} ({kind}){': ' + text if text else ''}"
            f"{_auth_hint(answer.status)}",
        )
    header_status = _status(answer.headers)
    if not answer.content_type.startswith("application/grpc-web"):
        if header_status is not None:
            _raise_status(spec, url, *header_status)
        raise RemoteError(
            spec.text,
            f"{url}: expected a gRPC-Web answer, got {answer.content_type or 'no content type'}"
            + (
                " (a web page: is the URL Parca's, with its path prefix?)"
                if answer.content_type == "text/html"
                else ""
            ),
        )
    messages: list[bytes] = []
    trailer_status = None
    body, pos = answer.body, 0
    while pos < len(body):
        if pos + 5 > len(body):
            raise RemoteError(spec.text, f"{url}: the answer was cut short inside a frame header")
        flag, size = struct.unpack_from(">BI", body, pos)
        pos += 5
        if pos + size > len(body):
            raise RemoteError(
                spec.text,
                f"{url}: the answer was cut short ({len(body) - pos} of {size} bytes of a frame)",
            )
        payload = body[pos : pos + size]
        pos += size
        if flag & _TRAILER_FLAG:
            trailer_status = _status(_trailers(payload))
        elif flag & _COMPRESSED_FLAG:
            raise RemoteError(spec.text, f"{url}: a compressed gRPC message, which was not asked")
        else:
            messages.append(payload)
    status = trailer_status or header_status
    if status is None:
        raise RemoteError(spec.text, f"{url}: the answer has no gRPC status (cut short?)")
    if status[0] != 0:
        _raise_status(spec, url, *status)
    if len(messages) != 1:
        raise RemoteError(spec.text, f"{url}: expected one answer message, got {len(messages)}")
    return messages[0]


def _trailers(payload: bytes) -> Message:
    trailers = Message()
    for line in payload.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            trailers[name.strip()] = value.strip()
    return trailers


def _status(headers: Message) -> tuple[int, str] | None:
    code = headers.get("grpc-status")
    if code is None:
        return None
    code = code.strip()
    return (int(code) if code.isdigit() else 2), unquote(headers.get("grpc-message", ""))


def _raise_status(spec: RemoteSpec, url: str, code: int, message: str) -> None:
    name = _GRPC_CODES[code] if 0 <= code < len(_GRPC_CODES) else f"code {code}"
    detail = " ".join(message.split())[:300]
    raise RemoteError(
        spec.text,
        f"{url}: {name}{': ' + detail if detail else ''}"
        f"{_auth_hint(401) if name == 'UNAUTHENTICATED' else ''}",
    )


def _auth_hint(status: int) -> str:
    return " (set token_env=VAR in the spec or the user config)" if status == 401 else ""
