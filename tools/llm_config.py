"""LLM settings: `[tool.perfpilot.llm]` overridden by the editor's `perfpilot.llm`.

Nothing is sent anywhere unless `enabled` is true. The API key comes from the environment
variable `api_key_env` (ANTHROPIC_API_KEY by default) or from the editor's settings; it is
kept in memory only, never in a file, a log line or a repr.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfpilot.tools.config import ConfigError

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
    api_key: str | None = field(default=None, repr=False)  # from the editor only, never stored
    warnings: tuple[str, ...] = ()

    def key(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The API key: the editor's, else the environment variable's; None when neither."""
        if self.api_key:
            return self.api_key
        value = (os.environ if environ is None else environ).get(self.api_key_env, "")
        return value.strip() or None


# key -> (validator, allowed in a file)
_INT_RANGES = {
    "max_tokens": (1, 128_000),
    "attempts": (1, 10),
    "budget": (1_000, 10_000_000),
    "max_turns": (1, 100),
    "retries": (0, 10),
}
_FLOAT_RANGES = {"timeout": (0.01, 600.0), "backoff": (0.0, 60.0)}


def load_llm_settings(root: Path) -> LLMSettings:
    """`[tool.perfpilot.llm]` of root/pyproject.toml; defaults (disabled) when absent."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return LLMSettings()
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{pyproject}: cannot read ({exc})") from None
    table = document.get("tool", {}).get("perfpilot", {}).get("llm", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.perfpilot.llm] must be a table")
    return llm_from_mapping(table, f"{pyproject}: [tool.perfpilot.llm]", from_file=True)


def llm_settings(root: Path, editor: object = None) -> LLMSettings:
    """The settings in force: the file's, overridden by the editor's `perfpilot` section."""
    base = load_llm_settings(root)
    raw = editor.get("llm") if isinstance(editor, dict) else None
    if raw is None:
        return base
    if not isinstance(raw, dict):
        raise ConfigError(f"perfpilot settings: llm: expected an object, got {type(raw).__name__}")
    # Editors send empty strings for unset text settings: those keep the file's value.
    table = {_snake(k): v for k, v in raw.items() if v is not None and v != ""}
    override = llm_from_mapping(table, "perfpilot settings: llm", from_file=False)
    changes = {name: getattr(override, name) for name in table if name in _FIELDS}
    return replace(base, **changes, warnings=base.warnings + override.warnings)


def llm_from_mapping(table: Mapping[str, object], where: str, *, from_file: bool) -> LLMSettings:
    """Validate one settings mapping (snake_case keys); every error names the key."""
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
                    " ANTHROPIC_API_KEY environment variable (or api_key_env) instead"
                )
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where} apiKey: expected a string")
            values[name] = value.strip()
        else:
            warnings.append(f"{where}: unknown key {key!r} ignored")
    return LLMSettings(**values, warnings=tuple(warnings))  # type: ignore[arg-type]


_FIELDS = frozenset(LLMSettings.__dataclass_fields__) - {"warnings"}


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()
