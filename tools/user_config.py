"""The user's own perfpilot settings (`~/.config/perfpilot/config.toml`), never a workspace's.

What may run on this machine is the user's decision: a repository that perfpilot is pointed
at must not be able to grant itself the right to run commands. This file lives in the user's
configuration folder (`$XDG_CONFIG_HOME`, else `~/.config`), outside every workspace.

    [mcp]
    allow_run = true   # the MCP server's profile_command may run the commands it is given
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
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "perfpilot" / "config.toml"


def load_user_settings(path: Path | None = None) -> UserSettings:
    """Read the user's settings; a missing file gives the defaults, a bad one a ConfigError."""
    path = path or user_config_path()
    if not path.is_file():
        return UserSettings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    table = document.get("mcp", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [mcp] must be a table")
    allow_run = table.get("allow_run", False)
    if not isinstance(allow_run, bool):
        raise ConfigError(f"{path}: [mcp] allow_run: expected true or false, got {allow_run!r}")
    return UserSettings(mcp_allow_run=allow_run, path=path)
