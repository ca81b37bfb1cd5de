"""One HTTP POST to a profiler's API (stdlib only): a deadline, a size cap, gzip, no redirects.

Every failure becomes a RemoteError in one line: connection refused, no answer in time, a body
cut short, a body too large, a redirect (followed blindly it could carry the token elsewhere).
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from email.message import Message

from perfpilot.tools.model import ProfileError
from perfpilot.tools.profiles.remote.credentials import Credentials

# A merged production profile is a few MB to a few tens of MB; this refuses a runaway answer
# (on the wire and after inflating) long before it could exhaust memory.
MAX_BODY_BYTES = 512 << 20
_CHUNK = 1 << 20
RETRIES = 2
_RETRY_STATUSES = {502, 503, 504}


class RemoteError(ProfileError):
    """Fetching a profile from a remote source failed; `source` is the spec as given."""


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer of any status, its body read in full (and inflated)."""

    status: int
    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type, lowercased, without parameters."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def auth_headers(credentials: Credentials) -> dict[str, str]:
    """The tenant and authorization headers for `credentials`."""
    headers: dict[str, str] = {}
    if credentials.tenant:
        headers["X-Scope-OrgID"] = credentials.tenant
    if credentials.basic is not None:
        user, password = credentials.basic
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    elif credentials.bearer is not None:
        headers["Authorization"] = f"Bearer {credentials.bearer}"
    return headers


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, source: str) -> Response:
    """POST `body`; the answer of any HTTP status, read within `timeout` seconds in all.

    A gateway's 502/503/504 (a querier restarting behind a load balancer) is tried again, up
    to RETRIES times while the deadline allows, after Retry-After or a doubling delay.
    """
    deadline = time.monotonic() + timeout
    for attempt in range(RETRIES + 1):
        answer = _post_once(url, body, headers, deadline, timeout, source)
        delay = _retry_delay(answer, attempt)
        if delay is None or attempt == RETRIES or time.monotonic() + delay >= deadline:
            return answer
        time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _retry_delay(answer: Response, attempt: int) -> float | None:
    """Seconds to wait before trying again, or None when the answer is final."""
    if answer.status not in _RETRY_STATUSES:
        return None
    after = (answer.headers.get("Retry-After") or "").strip()
    return min(float(after), 10.0) if after.isdigit() else 0.5 * 2**attempt


def _post_once(
    url: str, body: bytes, headers: dict[str, str], deadline: float, timeout: float, source: str
) -> Response:
    request = urllib.request.Request(url, data=body, method="POST")
    for name, value in {**headers, "Accept-Encoding": "gzip"}.items():
        request.add_header(name, value)
    try:
        # Built per call: the proxy settings are read from the environment as it is now.
        opener = urllib.request.build_opener(_NoRedirect())
        answer = opener.open(request, timeout=max(deadline - time.monotonic(), 0.001))
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:
            where = error.headers.get("Location", "elsewhere")
            raise RemoteError(
                source, f"{url} redirects (HTTP {error.code}) to {where}; put that URL in the spec"
            ) from None
        answer = error
    except urllib.error.URLError as error:
        raise RemoteError(source, _network_error(url, error.reason, timeout)) from None
    except (OSError, http.client.HTTPException) as error:
        raise RemoteError(source, _network_error(url, error, timeout)) from None
    except ValueError:
        # http.client refuses a header value with a line break or a non-Latin-1 character;
        # its message quotes the value, which may be the token, so it is not repeated.
        raise RemoteError(
            source, f"{url}: a header value (tenant, token or user) holds a character HTTP forbids"
        ) from None
    with answer:
        status = answer.status if hasattr(answer, "status") else answer.code
        raw = _read_all(answer, deadline, url, timeout, source)
        headers_ = answer.headers
    return Response(status, headers_, _inflate(raw, headers_, url, source))


def _read_all(answer: object, deadline: float, url: str, timeout: float, source: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise RemoteError(source, f"{url}: the answer did not finish within {timeout:g} s")
        try:
            chunk = answer.read(_CHUNK)  # type: ignore[attr-defined]
        except http.client.IncompleteRead as error:
            got = total + len(error.partial)
            expected = f" of {got + error.expected}" if error.expected else ""
            raise RemoteError(
                source, f"{url}: the answer was cut short ({got}{expected} bytes arrived)"
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise RemoteError(source, _network_error(url, error, timeout)) from None
        if not chunk:
            # read(amt) returns b"" at a premature end instead of raising IncompleteRead.
            expected = _content_length(answer)
            if expected is not None and total < expected:
                raise RemoteError(
                    source, f"{url}: the answer was cut short ({total} of {expected} bytes arrived)"
                )
            return b"".join(chunks)
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise RemoteError(source, f"{url}: the answer is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)


def _content_length(answer: object) -> int | None:
    value = (answer.headers.get("Content-Length") or "").strip()  # type: ignore[attr-defined]
    return int(value) if value.isdigit() else None


def _inflate(raw: bytes, headers: Message, url: str, source: str) -> bytes:
    encoding = (headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity" or not raw:
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise RemoteError(source, f"{url}: the answer is {encoding}-encoded; gzip was asked for")
    inflater = zlib.decompressobj(wbits=31 if "gzip" in encoding else 15)
    try:
        out = inflater.decompress(raw, MAX_BODY_BYTES + 1)
    except zlib.error as error:
        raise RemoteError(source, f"{url}: corrupt {encoding} answer ({error})") from None
    if len(out) > MAX_BODY_BYTES:
        raise RemoteError(source, f"{url}: the answer inflates to more than {MAX_BODY_BYTES} bytes")
    if not inflater.eof:
        raise RemoteError(source, f"{url}: the {encoding} answer was cut short")
    return out


def _network_error(url: str, reason: object, timeout: float) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"{url}: no answer within {timeout:g} s (raise timeout=SECONDS in the spec?)"
    if isinstance(reason, ConnectionRefusedError):
        return f"{url}: connection refused (is the server running, and is that its port?)"
    if isinstance(reason, socket.gaierror):
        return f"{url}: cannot resolve the host name ({reason.strerror or reason})"
    if isinstance(reason, ssl.SSLError):
        return f"{url}: TLS failed ({getattr(reason, 'reason', None) or reason})"
    if isinstance(reason, http.client.RemoteDisconnected):
        return f"{url}: the server closed the connection without answering"
    if isinstance(reason, http.client.HTTPException):
        return f"{url}: not a valid HTTP answer ({type(reason).__name__}: {reason})"
    text = getattr(reason, "strerror", None) or str(reason)
    return f"{url}: {text}"
