"""The user's own perfpilot settings (`~/.config/perfpilot/config.toml`), never a workspace's.

What may run on this machine, where secrets go and whether code is sent to an LLM are the
user's decisions: a repository that perfpilot is pointed at must not be able to grant itself
any of them. This file lives in the user's configuration folder (`$PERFPILOT_CONFIG`, else
`$XDG_CONFIG_HOME`, else `%APPDATA%` on Windows, else `~/.config`), outside every workspace.

    [llm]
    enabled = true     # Optimize with AI may send a function to the model (tools/llm_config.py)
    [mcp]
    allow_run = true   # the MCP server's profile_command may run the commands it is given
    [[remotes]]        # profiler query APIs' credentials (tools/profiles/remote/credentials.py)
    [skills]
    include_unproven = true  # also offer skills measured below 1.05x (skills/offering.py)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from perfpilot.tools.config import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

KNOWN_TABLES = ("llm", "mcp", "remotes", "skills")


@dataclass(frozen=True, slots=True)
class UserSettings:
    """Settings only the user can give; the defaults allow nothing."""

    mcp_allow_run: bool = False
    path: Path | None = None  # the file they came from, when there was one


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the user's settings file is (it need not exist): $PERFPILOT_CONFIG, else XDG."""
    env = os.environ if environ is None else environ
    if env.get("PERFPILOT_CONFIG"):
        return Path(env["PERFPILOT_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME", "").strip()
    if base and os.path.isabs(base):  # a relative one is invalid (XDG base directory spec)
        return Path(base) / "perfpilot" / "config.toml"
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "perfpilot" / "config.toml"
    return Path(os.path.expanduser("~")) / ".config" / "perfpilot" / "config.toml"


def secret_refusal(path: Path, what: str, instead: str) -> str | None:
    """Why `path` may not hold a secret (None when it may): one rule for every secret.

    A secret may be written in the user's own config file only when nobody else can read it
    (no access for group or others, owned by this user); otherwise it comes from an
    environment variable. A workspace's files never hold one (the callers ignore them there).
    """
    try:
        info = path.stat()
    except OSError as exc:
        return f"{path}: cannot check who may read it ({exc.strerror or exc})"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return f"{path}: holds {what} but belongs to another user; use {instead}"
    if info.st_mode & 0o077:
        return (
            f"{path}: holds {what} but the file is readable by others;"
            f" chmod 600 {path}, or use {instead}"
        )
    return None


def load_user_config(
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, object], Path, list[str]]:
    """(the file's tables, its path, warnings); no file gives an empty mapping."""
    path = user_config_path(environ)
    document = _read(path)
    warnings = [
        f"{path}: unknown table or key {key!r} ignored (known: {', '.join(KNOWN_TABLES)})"
        for key in document
        if key not in KNOWN_TABLES
    ]
    if "llm" in document and not isinstance(document["llm"], dict):
        raise ConfigError(f"{path}: [llm] must be a table")
    return document, path, warnings


def load_user_settings(path: Path | None = None) -> UserSettings:
    """Read the user's settings; a missing file gives the defaults, a bad one a ConfigError."""
    path = path or user_config_path()
    if not path.is_file():
        return UserSettings()
    document = _read(path)
    table = document.get("mcp", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [mcp] must be a table")
    allow_run = table.get("allow_run", False)
    if not isinstance(allow_run, bool):
        raise ConfigError(f"{path}: [mcp] allow_run: expected true or false, got {allow_run!r}")
    return UserSettings(mcp_allow_run=allow_run, path=path)


def user_includes_unproven(path: Path | None = None) -> tuple[bool, str | None]:
    """`[skills] include_unproven` of the user's file (False when absent), and a warning."""
    path = path or user_config_path()
    try:
        table = _read(path).get("skills", {})
    except ConfigError as exc:
        return False, str(exc)
    value = table.get("include_unproven", False) if isinstance(table, dict) else None
    if not isinstance(value, bool):
        return False, f"{path}: [skills] include_unproven: expected true or false, got {value!r}"
    return value, None


def _read(path: Path) -> dict[str, object]:
    """The file's TOML document; empty when there is no file."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
