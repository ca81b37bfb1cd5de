"""Credentials for a profiler's query API: from the user's environment or user-level config only.

A repository's files never supply them, nor name where they come from (DESIGN.md, trust
boundary): the spec is typed by the user on a command line, and the user-level config lives in
`$PERFPILOT_CONFIG`, else `$XDG_CONFIG_HOME/perfpilot/config.toml`, else
`~/.config/perfpilot/config.toml`:

    [[remotes]]
    url = "https://profiles-prod-001.grafana.net"   # matches specs for this server (and path)
    tenant = "my-tenant"                           # X-Scope-OrgID
    token_env = "PYROSCOPE_TOKEN"                  # bearer token from this variable, or
    user = "123456"                                # basic auth with
    password_env = "GRAFANA_CLOUD_TOKEN"           # the password from this variable

`token` / `password` may be written in the file itself only when the file is private (no access
for group or others). Values given in the spec win over the file's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

from perfpilot.tools.profiles.remote.spec import RemoteSpec, SpecError
from perfpilot.tools.user_config import secret_refusal, user_config_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_KEYS = ("url", "tenant", "token_env", "token", "user", "password_env", "password")


@dataclass(frozen=True, slots=True)
class Credentials:
    """What to send with each request; secrets are kept out of the repr."""

    tenant: str | None = None
    bearer: str | None = field(default=None, repr=False)
    basic: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def secret(self) -> bool:
        """Whether a token or a password goes with the requests."""
        return self.bearer is not None or self.basic is not None


def resolve_credentials(spec: RemoteSpec, environ: Mapping[str, str] | None = None) -> Credentials:
    """Credentials for `spec`: its own parameters, else the user config's entry for its server."""
    env = os.environ if environ is None else environ
    entry = _config_entry(spec, user_config_path(env))
    tenant = spec.tenant or _text(entry.get("tenant"))
    bearer = None
    basic = None
    token_env = spec.token_env or (None if spec.user else _text(entry.get("token_env")))
    user = spec.user or (None if spec.token_env else _text(entry.get("user")))
    if token_env:
        bearer = _from_env(env, token_env, "token_env")
    elif not user and entry.get("token"):
        bearer = _text(entry["token"])
    if user:
        password_env = spec.password_env or _text(entry.get("password_env"))
        if password_env:
            basic = (user, _from_env(env, password_env, "password_env"))
        elif entry.get("password") and not spec.user:
            basic = (user, _text(entry["password"]) or "")
        else:
            raise SpecError(f"user={user} needs password_env=VAR (in the spec or the user config)")
    credentials = Credentials(tenant=tenant, bearer=bearer, basic=basic)
    if credentials.secret and not _safe_transport(spec.base_url):
        raise SpecError(
            f"{spec.base_url}: refusing to send a token or password over plain http to a host"
            " other than this machine; use https (or a tunnel to localhost)"
        )
    return credentials


def _from_env(env: Mapping[str, str], name: str, key: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SpecError(f"{key}={name}: the environment variable {name} is not set or empty")
    return value


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _config_entry(spec: RemoteSpec, path: Path) -> dict[str, object]:
    """The `[[remotes]]` entry whose url is the longest prefix of the spec's server URL."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    remotes = document.get("remotes", [])
    if not isinstance(remotes, list) or not all(isinstance(r, dict) for r in remotes):
        raise SpecError(f"{path}: `remotes` must be an array of tables ([[remotes]])")
    best: dict[str, object] = {}
    best_length = -1
    target = _server_key(spec.base_url)
    for number, entry in enumerate(remotes, 1):
        where = f"{path}: remotes #{number}"
        unknown = sorted(set(entry) - set(_KEYS))
        if unknown:
            raise SpecError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
        url = entry.get("url")
        if not isinstance(url, str) or "://" not in url:
            raise SpecError(f"{where}: url must be an http(s) URL")
        for key in _KEYS[1:]:
            if key in entry and not isinstance(entry[key], str):
                raise SpecError(f"{where}: {key} must be a string")
        if "token" in entry or "password" in entry:
            refusal = secret_refusal(path, "a secret", "token_env / password_env")
            if refusal is not None:
                raise SpecError(f"{where}: {refusal}")
        key = _server_key(url)
        if key[:3] == target[:3] and _path_within(target[3], key[3]) and len(key[3]) > best_length:
            best, best_length = entry, len(key[3])
    return best


def _server_key(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) with defaults filled in; a `backend+` scheme prefix is dropped."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower().rpartition("+")[2]
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise SpecError(f"user config url {url!r}: {exc}") from None
    return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")


def _path_within(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


def _safe_transport(base_url: str) -> bool:
    """https, or http to this machine (a port-forward or an SSH tunnel)."""
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
