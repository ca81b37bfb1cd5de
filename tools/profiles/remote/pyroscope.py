"""Grafana Pyroscope: a merged pprof from the querier.v1 Connect API.

`POST /querier.v1.QuerierService/SelectMergeStacktraces` with `format: PROFILE_FORMAT_PPROF`
answers `SelectMergeStacktracesResponse.pprof.profile` (a google.v1.Profile, which is
perftools.profiles.Profile on the wire). A server older than that format ignores the unknown
enum value and answers a flame graph without `pprof`; then, as Pyroscope's own profilecli does,
the deprecated `SelectMergeProfile` is asked, which answers the Profile itself. Requests and
answers use the Connect protocol's binary codec (`application/proto`) over HTTP/1.1; errors are
Connect's JSON `{"code": ..., "message": ...}` with an HTTP status.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime

from perfpilot.tools.profiles.remote import protowire as wire
from perfpilot.tools.profiles.remote.credentials import Credentials
from perfpilot.tools.profiles.remote.spec import RemoteSpec
from perfpilot.tools.profiles.remote.transport import RemoteError, Response, auth_headers, post

SERVICE = "/querier.v1.QuerierService/"
PROFILE_FORMAT_PPROF = 4  # querier.v1.ProfileFormat
# Connect's HTTP statuses (and codes) that mean "this server has no such method".
_NO_METHOD_STATUSES = {404, 405, 501}


def fetch(spec: RemoteSpec, credentials: Credentials, user_agent: str) -> bytes:
    """The serialized pprof Profile merged over the spec's query and window."""
    request = _select_request(spec) + wire.int_field(6, PROFILE_FORMAT_PPROF)
    answer = _call(spec, credentials, user_agent, "SelectMergeStacktraces", request)
    if answer is not None:
        pprof = _decode(spec, "SelectMergeStacktraces", answer, _pprof_of_stacktraces)
        if pprof is not None:
            return pprof
    # SelectMergeProfileRequest shares fields 1-5 with SelectMergeStacktracesRequest.
    answer = _call(spec, credentials, user_agent, "SelectMergeProfile", _select_request(spec))
    if answer is None:
        raise RemoteError(
            spec.text,
            f"{spec.base_url} has neither {SERVICE}SelectMergeStacktraces nor SelectMergeProfile:"
            " is this a Pyroscope 1.x (or Grafana Cloud Profiles) URL?",
        )
    return _decode(spec, "SelectMergeProfile", answer, bytes)


def _select_request(spec: RemoteSpec) -> bytes:
    """Fields 1-5 of SelectMergeStacktracesRequest / SelectMergeProfileRequest."""
    return b"".join(
        (
            wire.bytes_field(1, spec.profile_type),
            wire.bytes_field(2, spec.label_selector),
            wire.int_field(3, _millis(spec.start)),
            wire.int_field(4, _millis(spec.end)),
            # optional int64: present when set, even though proto3 would drop a zero
            wire.varint(5 << 3) + wire.varint(spec.max_nodes) if spec.max_nodes else b"",
        )
    )


def _millis(moment: datetime) -> int:
    return math.floor(moment.timestamp() * 1000)


def _call(
    spec: RemoteSpec, credentials: Credentials, user_agent: str, method: str, body: bytes
) -> Response | None:
    """POST one unary Connect call; None when the server has no such method."""
    url = spec.base_url + SERVICE + method
    headers = {
        "Content-Type": "application/proto",
        "Accept": "application/proto",
        "Connect-Protocol-Version": "1",
        "Connect-Timeout-Ms": str(max(1, int(spec.timeout * 1000))),
        "User-Agent": user_agent,
        **auth_headers(credentials),
    }
    answer = post(url, body, headers, spec.timeout, spec.text)
    if answer.status == 200:
        return answer
    code, message = _connect_error(answer)
    if code == "unimplemented" or (code is None and answer.status in _NO_METHOD_STATUSES):
        return None
    raise RemoteError(spec.text, _describe_failure(url, answer, code, message))


def _decode(
    spec: RemoteSpec, method: str, answer: Response, extract: Callable[[bytes], bytes | None]
) -> bytes | None:
    url = spec.base_url + SERVICE + method
    if answer.content_type != "application/proto":
        raise RemoteError(
            spec.text,
            f"{url}: expected a Connect answer (application/proto), got"
            f" {answer.content_type or 'no content type'}"
            f"{_html_hint(answer)}",
        )
    try:
        return extract(answer.body)
    except wire.WireError as error:
        raise RemoteError(
            spec.text, f"{url}: the answer is not a valid protobuf message ({error})"
        ) from None


def _pprof_of_stacktraces(body: bytes) -> bytes | None:
    """SelectMergeStacktracesResponse.pprof (5) .profile (1), or None when absent."""
    pprof = wire.find_bytes(body, 5)
    if pprof is None:
        return None
    profile = wire.find_bytes(pprof, 1)
    # A PprofProfile without its profile is what profilecli treats as "not supported".
    return None if profile is None else bytes(profile)


def _connect_error(answer: Response) -> tuple[str | None, str | None]:
    """Connect's error JSON (`code`, `message`), when the body is one."""
    if answer.content_type != "application/json":
        return None, None
    try:
        document = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(document, dict):
        return None, None
    code, message = document.get("code"), document.get("message")
    return (code if isinstance(code, str) else None), (
        message if isinstance(message, str) else None
    )


def _describe_failure(url: str, answer: Response, code: str | None, message: str | None) -> str:
    if code is not None:
        detail = f"{code}: {message}" if message else code
        hint = {
            "unauthenticated": " (set tenant=ID for X-Scope-OrgID)"
            if "org id" in (message or "").lower()
            else " (set token_env=VAR, or user= and password_env=)",
            "permission_denied": " (does the token allow reading profiles of this tenant?)",
        }.get(code, "")
        return f"{url}: HTTP {answer.status}, {_one_line(detail)}{hint}"
    if answer.status == 401:
        return f"{url}: HTTP 401 unauthorized (set token_env=VAR, or user= and password_env=)"
    text = _one_line(answer.body[:200].decode("utf-8", "replace")) if answer.body else ""
    kind = answer.content_type or "no content type"
    return f"{url}: HTTP {answer.status} ({kind}){': ' + text if text else ''}{_html_hint(answer)}"


def _html_hint(answer: Response) -> str:
    if answer.content_type == "text/html":
        return " (a web page: is the URL the Pyroscope server, or a login page in front of it?)"
    return ""


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
