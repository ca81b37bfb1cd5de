"""LLM settings: the user's choices, plus the few harmless ones a workspace may tune.

Nothing is sent anywhere unless the *user* enables it. Whether the LLM is used, where requests
go (`base_url`), which provider, and where the key comes from (`api_key_env`, `api_key`) are
read only from the user's own sources: the user config file (tools/user_config.py), the
editor's settings (user-level: the VS Code extension sends only those) and command-line flags.
The key may be in the user config file only when that file is private (the one rule for
secrets, shared with the profilers' tokens); a workspace file never supplies it.
A workspace's `[tool.perfpilot.llm]` may tune the model and the limits (a budget only
downwards); a user-only key there is ignored with a warning naming the file and the key.
The key itself is kept in memory only, never in a file, a log line or a repr.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from perfpilot.tools.config import ConfigError
from perfpilot.tools.user_config import load_user_config, secret_refusal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_MODEL = "claude-sonnet-4-5"
PROVIDERS = ("anthropic",)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True, slots=True)
class LLMSettings:
    """How the efficiency agent may use an LLM; the defaults send nothing."""

    enabled: bool = False
    provider: str = "anthropic"
    model: str = DEFAULT_MODEL
    max_tokens: int = 4096  # per reply
    attempts: int = 3  # proposals the agent may make before giving up
    timeout: float = 60.0  # seconds per API request
    budget: int = 200_000  # tokens (input + output) one optimize request may spend
    max_turns: int = 16  # API round trips per optimize request
    retries: int = 3  # retries of a transient failure (429, 5xx, timeout) per API request
    backoff: float = 1.0  # first retry delay in seconds, doubled each retry (Retry-After wins)
    base_url: str | None = None  # a proxy, or a local fake API in tests
    api_key_env: str = "ANTHROPIC_API_KEY"
    api_key: str | None = field(default=None, repr=False)  # editor or private user file
    warnings: tuple[str, ...] = ()

    def key(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The API key: the editor's, else the environment variable's; None when neither."""
        if self.api_key:
            return self.api_key
        value = (os.environ if environ is None else environ).get(self.api_key_env, "")
        return value.strip() or None


_INT_RANGES = {
    "max_tokens": (1, 128_000),
    "attempts": (1, 10),
    "budget": (1_000, 10_000_000),
    "max_turns": (1, 100),
    "retries": (0, 10),
}
_FLOAT_RANGES = {"timeout": (0.01, 600.0), "backoff": (0.0, 60.0)}

# Only the user decides these: a repository that could set them could send the user's secrets
# (any environment variable, as a bearer header) to its own server.
_USER_ONLY_REASONS = {
    "enabled": "only you can allow code to be sent to an LLM",
    "provider": "a repository cannot choose the LLM provider",
    "base_url": "a repository cannot choose where your API key is sent",
    "api_key_env": "a repository cannot choose which environment variable the key comes from",
    "api_key": "an API key does not belong in a file (its value is not shown)",
}
USER_ONLY = frozenset(_USER_ONLY_REASONS)
DEFAULT_BUDGET = 200_000


def llm_settings(
    root: Path,
    editor: object = None,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LLMSettings:
    """The settings in force: defaults < workspace (harmless keys) < user file < editor < flags.

    `editor` is the editor's `perfpilot` section, trusted as the user's own settings;
    `overrides` are command-line values (snake_case).
    """
    document, user_file, warnings = load_user_config(environ)
    values, workspace_warnings = workspace_llm(root, user_file)
    warnings += workspace_warnings
    user_table = document.get("llm", {})
    assert isinstance(user_table, dict)  # checked by load_user_config
    layers: list[tuple[Mapping[str, object], str, bool]] = [
        (user_table, f"{user_file}: [llm]", True)
    ]
    raw = editor.get("llm") if isinstance(editor, dict) else None
    if raw is not None:
        if not isinstance(raw, dict):
            raise ConfigError(
                f"perfpilot settings: llm: expected an object, got {type(raw).__name__}"
            )
        # Editors send empty strings for unset text settings: those keep the value below.
        editor_table = {_snake(k): v for k, v in raw.items() if v is not None and v != ""}
        layers.append((editor_table, "perfpilot settings: llm", False))
    if overrides:
        layers.append(({k: v for k, v in overrides.items() if v is not None}, "option", False))
    for table, where, from_file in layers:
        if from_file and any(_snake(k.replace("-", "_")) == "api_key" for k in table):
            # The one rule for secrets (tools/user_config.py): in the user's own file only
            # when nobody else can read it. The value is never echoed.
            refusal = secret_refusal(user_file, "an API key", "api_key_env")
            if refusal is not None:
                raise ConfigError(refusal)
            layer, layer_warnings = _parse(table, where, from_file=False)
            values.update(layer)
            warnings += layer_warnings
            continue
        layer, layer_warnings = _parse(table, where, from_file=from_file)
        values.update(layer)
        warnings += layer_warnings
    return LLMSettings(**values, warnings=tuple(warnings))  # type: ignore[arg-type]


def workspace_llm(root: Path, user_file: Path) -> tuple[dict[str, object], list[str]]:
    """The harmless keys of root/pyproject.toml's `[tool.perfpilot.llm]`, and warnings."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return {}, []
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{pyproject}: cannot read ({exc})") from None
    table = document.get("tool", {}).get("perfpilot", {}).get("llm", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.perfpilot.llm] must be a table")
    where = f"{pyproject}: [tool.perfpilot.llm]"
    warnings: list[str] = []
    allowed: dict[str, object] = {}
    for key, value in table.items():
        name = _snake(key.replace("-", "_"))
        if name in USER_ONLY:
            # Not validated, not echoed: the value is not ours to use.
            warnings.append(
                f"{where} {key} is ignored: {_USER_ONLY_REASONS[name]}; set it in {user_file}"
                " or in the editor's user settings"
            )
        else:
            allowed[key] = value
    values, parse_warnings = _parse(allowed, where, from_file=True)
    budget = values.get("budget")
    if isinstance(budget, int) and budget > DEFAULT_BUDGET:
        del values["budget"]
        parse_warnings.append(
            f"{where} budget {budget:,} is ignored: a repository may lower the token budget"
            f" ({DEFAULT_BUDGET:,}), not raise it; raise it in {user_file}"
        )
    return values, warnings + parse_warnings


def llm_from_mapping(table: Mapping[str, object], where: str, *, from_file: bool) -> LLMSettings:
    """Validate one settings mapping (snake_case keys); every error names the key."""
    values, warnings = _parse(table, where, from_file=from_file)
    return LLMSettings(**values, warnings=tuple(warnings))  # type: ignore[arg-type]


def _parse(
    table: Mapping[str, object], where: str, *, from_file: bool
) -> tuple[dict[str, object], list[str]]:
    values: dict[str, object] = {}
    warnings: list[str] = []
    for key, value in table.items():
        name = _snake(key.replace("-", "_"))
        if name == "enabled":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} enabled: expected true or false, got {value!r}")
            values[name] = value
        elif name == "provider":
            if value not in PROVIDERS:
                raise ConfigError(f"{where} provider: {value!r} is not one of {PROVIDERS}")
            values[name] = value
        elif name == "model":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where} model: expected a model name, got {value!r}")
            values[name] = value.strip()
        elif name in _INT_RANGES:
            low, high = _INT_RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(
                    f"{where} {name}: expected an integer {low}-{high}, got {value!r}"
                )
            values[name] = value
        elif name in _FLOAT_RANGES:
            low, high = _FLOAT_RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{where} {name}: expected a number of seconds, got {value!r}")
            if not low <= float(value) <= high:
                raise ConfigError(f"{where} {name}: {value} is outside {low:g}-{high:g} seconds")
            values[name] = float(value)
        elif name == "base_url":
            if not isinstance(value, str) or not value.startswith(("http://", "https://")):
                raise ConfigError(f"{where} base_url: expected an http(s) URL, got {value!r}")
            values[name] = value.rstrip("/")
        elif name == "api_key_env":
            if not isinstance(value, str) or not _ENV_NAME.match(value):
                raise ConfigError(f"{where} api_key_env: {value!r} is not a variable name")
            values[name] = value
        elif name == "api_key":
            if from_file:
                # Not echoed: the value is a secret that should not be in the file at all.
                raise ConfigError(
                    f"{where} api_key: an API key does not belong in a file; set the"
                    " ANTHROPIC_API_KEY environment variable (or name another with"
                    " api_key_env) instead"
                )
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where} apiKey: expected a string")
            values[name] = value.strip()
        else:
            warnings.append(f"{where}: unknown key {key!r} ignored")
    return values, warnings


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()
