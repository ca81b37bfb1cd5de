"""Profile source specs: `pyroscope+https://host:4040?query=...&from=now-1h&until=now`.

A spec names a continuous profiler's query API, the query and the time window of a merged
profile. It is URL-like: `<backend>+<http|https>://host[:port][/path-prefix]?<params>`, with
the parameters below (values may be percent-encoded; `+` is a plus sign, not a space, so a
regular expression in a label matcher survives). Credentials never appear in a spec: it names
the environment variable that holds them (`token_env`, `password_env`), and the user-level
config can supply them per server (see credentials.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

BACKENDS = ("pyroscope", "parca")
DEFAULT_FROM = "now-1h"
DEFAULT_UNTIL = "now"
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 3600.0

# Whatever looks like `word+word://` or a bare http(s) URL is meant as a remote source: it gets a
# spec error rather than "no such file".
_REMOTE_PREFIX = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]*\+[A-Za-z]+|https?)://", re.ASCII)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$", re.ASCII)
_RELATIVE = re.compile(r"^now(?:-(?P<ago>(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+))?$", re.ASCII)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)", re.ASCII)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNIX_SECONDS = re.compile(r"^\d+(?:\.\d+)?$", re.ASCII)
# A profile type, `name:sample_type:sample_unit:period_type:period_unit` (Parca may add `:delta`).
_TYPE_PART = re.compile(r"^[A-Za-z0-9_.\-]+$", re.ASCII)
# Beyond this a number is surely milliseconds (it is the year 5138 in seconds).
_MAX_UNIX_SECONDS = 1e11

PARAMS = (
    "query", "from", "until", "tenant", "token_env", "user", "password_env", "timeout",
    "max_nodes",
)  # fmt: skip


class SpecError(ValueError):
    """A malformed source spec; the message is one line naming the part that is wrong."""


@dataclass(frozen=True, slots=True)
class RemoteSpec:
    """A parsed source spec: where to ask, what, and for which window (absolute, UTC)."""

    backend: str  # one of BACKENDS
    base_url: str  # http(s)://host[:port][/prefix], no trailing slash, no query
    query: str  # the profile type and label selector, e.g. `process_cpu:...{service_name="api"}`
    start: datetime  # timezone-aware UTC
    end: datetime
    text: str  # the spec as the user gave it (it holds no secret: see `token`)
    tenant: str | None = None  # sent as X-Scope-OrgID
    token_env: str | None = None  # environment variable holding a bearer token
    user: str | None = None  # basic auth user name; the password comes from password_env
    password_env: str | None = None
    timeout: float = DEFAULT_TIMEOUT  # seconds for the whole exchange
    max_nodes: int | None = None  # Pyroscope's max_nodes (server default when None)

    @property
    def profile_type(self) -> str:
        """The query's profile type (the part before the label selector)."""
        return self.query.partition("{")[0].strip()

    @property
    def label_selector(self) -> str:
        """The query's label selector, `{}` when it has none."""
        _, brace, rest = self.query.partition("{")
        return "{" + rest if brace else "{}"

    @property
    def host(self) -> str:
        """host[:port] of the server."""
        return urlsplit(self.base_url).netloc

    def window(self) -> str:
        """The window as `2026-12-04T10:00:00Z..2026-12-04T11:00:00Z`."""
        return f"{format_time(self.start)}..{format_time(self.end)}"


def is_remote_spec(text: str) -> bool:
    """Whether `text` is meant as a remote source (a spec, maybe malformed) and not a file."""
    return bool(_REMOTE_PREFIX.match(text.strip()))


def parse_source_spec(text: str, now: datetime | None = None) -> RemoteSpec:
    """Parse a spec; relative times count back from `now` (default: the current time)."""
    # Whole seconds: windows counted back from `now` then print (and name files) cleanly.
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    text = text.strip()
    scheme, sep, _ = text.partition("://")
    backend, plus, transport = scheme.lower().partition("+")
    if not sep or not plus:
        if scheme.lower() in ("http", "https"):
            raise SpecError(
                f"say which profiler serves it: pyroscope+{scheme.lower()}://..."
                f" or parca+{scheme.lower()}://..."
            )
        raise SpecError("expected <pyroscope|parca>+<http|https>://HOST?query=...")
    if backend not in BACKENDS:
        raise SpecError(f"unknown profiler {backend!r} (known: {', '.join(BACKENDS)})")
    if transport not in ("http", "https"):
        raise SpecError(f"{transport!r} is not http or https")
    try:
        parts = urlsplit(transport + text[len(scheme) :])
        port = parts.port
    except ValueError as exc:
        raise SpecError(f"not a valid URL ({exc})") from None
    if not parts.hostname:
        raise SpecError("no host")
    if parts.username is not None or parts.password is not None:
        raise SpecError(
            "credentials do not belong in the URL (they end up in shell history"
            " and process lists); use user=NAME&password_env=VAR or token_env=VAR"
        )
    if parts.fragment:
        raise SpecError(f"unexpected #{parts.fragment} (percent-encode a # as %23)")
    params = _params(parts.query)
    query = params.pop("query", "").strip()
    if not query:
        raise SpecError("no query=PROFILE_TYPE{LABELS} parameter")
    _check_query(backend, query)
    start = parse_time(params.pop("from", DEFAULT_FROM), now, "from")
    end = parse_time(params.pop("until", DEFAULT_UNTIL), now, "until")
    if start >= end:
        raise SpecError(
            f"the window is empty: from {format_time(start)} is not before until {format_time(end)}"
        )
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host + (f":{port}" if port is not None else "")
    spec = RemoteSpec(
        backend=backend,
        base_url=f"{transport}://{netloc}{parts.path.rstrip('/')}",
        query=query,
        start=start,
        end=end,
        text=text,
        tenant=params.pop("tenant", None) or None,
        token_env=_env_name(params.pop("token_env", None), "token_env"),
        user=params.pop("user", None) or None,
        password_env=_env_name(params.pop("password_env", None), "password_env"),
        timeout=_timeout(params.pop("timeout", None)),
        max_nodes=_max_nodes(params.pop("max_nodes", None)),
    )
    if spec.max_nodes is not None and backend != "pyroscope":
        raise SpecError("max_nodes is a Pyroscope parameter; Parca merges every node")
    if spec.user and not spec.password_env:
        raise SpecError("user= needs password_env=VAR (the password's variable)")
    if spec.password_env and not spec.user:
        raise SpecError("password_env= needs user=NAME")
    if spec.tenant is not None and not spec.tenant.isprintable():
        raise SpecError("tenant holds control characters")
    return spec


def parse_time(value: str, now: datetime, where: str) -> datetime:
    """`now`, `now-1h30m`, unix seconds (`1733300000`) or RFC 3339 with an offset, as UTC."""
    value = value.strip()
    relative = _RELATIVE.match(value)
    if relative:
        ago = relative.group("ago")
        seconds = sum(
            float(number) * _UNIT_SECONDS[unit]
            for number, unit in _DURATION_PART.findall(ago or "")
        )
        try:
            return now - timedelta(seconds=seconds)
        except OverflowError:
            raise SpecError(f"{where}={value}: too far back") from None
    if _UNIX_SECONDS.match(value):
        seconds = float(value)
        if seconds >= _MAX_UNIX_SECONDS:
            raise SpecError(
                f"{where}={value}: looks like milliseconds; give unix seconds"
                f" ({value[:-3] or '0'}) or RFC 3339"
            )
        return datetime.fromtimestamp(seconds, timezone.utc)
    try:
        # Python 3.10's fromisoformat does not read a trailing Z.
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "Zz" else value)
    except ValueError:
        raise SpecError(
            f"{where}={value}: expected now, now-DURATION (e.g. now-1h, now-90m, now-1d12h),"
            " unix seconds or RFC 3339 (2026-12-04T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise SpecError(f"{where}={value}: add a UTC offset (Z or +01:00): the time is ambiguous")
    return moment.astimezone(timezone.utc)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, seconds precision unless there is a fraction."""
    text = moment.astimezone(timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


def _params(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in query.split("&"):
        if not item:
            continue
        name, eq, value = item.partition("=")
        name = unquote(name).strip().lower()
        if not eq:
            raise SpecError(f"parameter {name!r} has no value (NAME=VALUE)")
        if name in ("token", "password", "api_key", "key"):
            raise SpecError(
                f"{name}=: a secret does not belong in the spec (it ends up in shell history and"
                " process lists); name the environment variable that holds it: token_env=VAR,"
                " or user=NAME&password_env=VAR"
            )
        if name not in PARAMS:
            raise SpecError(f"unknown parameter {name!r} (known: {', '.join(PARAMS)})")
        if name in params:
            raise SpecError(f"parameter {name!r} is given twice")
        params[name] = unquote(value)
    return params


def _check_query(backend: str, query: str) -> None:
    profile_type, brace, selector = query.partition("{")
    profile_type = profile_type.strip()
    parts = profile_type.split(":")
    expected = (5,) if backend == "pyroscope" else (5, 6)
    example = (
        'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="api"}'
        if backend == "pyroscope"
        else 'parca_agent:samples:count:cpu:nanoseconds:delta{comm="api"}'
    )
    if len(parts) not in expected or not all(_TYPE_PART.match(p) for p in parts):
        raise SpecError(
            f"query {query!r} does not start with a profile type"
            f" NAME:TYPE:UNIT:PERIOD_TYPE:PERIOD_UNIT{'[:delta]' if backend == 'parca' else ''},"
            f" e.g. {example}"
        )
    if backend == "parca" and len(parts) == 6 and parts[5] != "delta":
        raise SpecError(f"query {query!r}: the sixth part can only be `delta`")
    if brace and not selector.rstrip().endswith("}"):
        raise SpecError(f"query {query!r}: the label selector has no closing }}")


def _env_name(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not _ENV_NAME.match(value):
        raise SpecError(f"{name}={value!r} is not an environment variable name")
    return value


def _timeout(value: str | None) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise SpecError(f"timeout={value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_TIMEOUT:
        raise SpecError(f"timeout={value} is outside 0-{MAX_TIMEOUT:g} seconds")
    return seconds


def _max_nodes(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) < 1 << 31:
        raise SpecError(f"max_nodes={value!r} is not a positive integer")
    return int(value)
