"""Workspace settings: `[tool.perfpilot]` in pyproject.toml, validated with located errors."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from perfpilot.tools.profiles.remote.spec import is_remote_spec

# Re-exported: callers that predate tools/workspace_root.py import the rule from here.
from perfpilot.tools.workspace_root import find_workspace_root as find_workspace_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_THRESHOLD = 2.0
PROFILES_DIR = Path(".perfpilot") / "profiles"
KNOWN_KEYS = (
    "profiles",
    "threshold",
    "path_mappings",
    "unsafe_fixes",
    "include_generated",
    "include_unproven",
    "select",
    "ignore",
    "llm",
)


class ConfigError(Exception):
    """A setting is invalid; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class PathMapping:
    """Rewrite a recorded path prefix (from another machine or a container) to a workspace one."""

    source: str
    target: str


@dataclass(slots=True)
class Settings:
    """perfpilot's settings for one workspace (same keys as the LSP settings, snake_case)."""

    profiles: list[str] = field(default_factory=list)
    threshold: float = DEFAULT_THRESHOLD
    path_mappings: list[PathMapping] = field(default_factory=list)
    unsafe_fixes: bool = False
    include_generated: bool = False  # fix opportunities in generated files (tools/generated.py)
    # `include_unproven = false`: the project turns off the user's opt-in to skills measured
    # not to win (skills/offering.py). It can lower trust in fixes, never raise it: `true` is
    # only a warning, the opt-in is the user's (--include-unproven, the editor setting).
    forbid_unproven: bool = False
    # Codes or prefixes to report (`select`) and to leave out (`ignore`), as `--select/--ignore`.
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)


def workspace_profiles_dir(root: Path) -> Path:
    """`.perfpilot/profiles` of `root`, to write into; ConfigError when a link leads it elsewhere.

    The folder may have come with the repository: a committed symlink must not turn
    `perfpilot profile` or `perfpilot fetch` into a write anywhere on the machine.
    """
    directory = root / PROFILES_DIR
    real, base = directory.resolve(), root.resolve()
    if real != base and base not in real.parents:
        raise ConfigError(
            f"{directory} leads outside the workspace (to {real}); not writing a profile"
            " there: remove the link, or name the file with -o"
        )
    return directory


def load_settings(root: Path) -> Settings:
    """Read `[tool.perfpilot]` from root/pyproject.toml; absent file or table gives defaults."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return Settings()
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{pyproject}: cannot read ({exc.strerror or exc})") from None
    table = document.get("tool", {}).get("perfpilot", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.perfpilot] must be a table")
    return settings_from_mapping(table, f"{pyproject}: [tool.perfpilot]")


def settings_from_mapping(table: dict[str, object], where: str) -> Settings:
    """Validate a settings mapping (from TOML or an editor); `where` prefixes every error."""
    settings = Settings()
    for key, value in table.items():
        name = key.replace("-", "_")
        if name == "profiles":
            settings.profiles = _string_list(value, f"{where} profiles")
            remote = next((p for p in settings.profiles if is_remote_spec(p)), None)
            if remote is not None:
                # Trust boundary: a repository (or its editor settings) does not choose which
                # servers perfpilot connects to, nor which credentials go with the request.
                raise ConfigError(
                    f"{where} profiles: {remote.partition('?')[0]} is a remote source; those"
                    " are given on the command line only (perfpilot check --profile SPEC)"
                )
            settings.profiles = _workspace_patterns(
                settings.profiles, f"{where} profiles", settings.warnings
            )
        elif name == "threshold":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{where} threshold: expected a number, got {value!r}")
            if not 0.0 <= float(value) <= 100.0:
                raise ConfigError(f"{where} threshold: {value} is not a percentage (0-100)")
            settings.threshold = float(value)
        elif name == "path_mappings":
            settings.path_mappings = _path_mappings(value, f"{where} path_mappings")
        elif name in ("unsafe_fixes", "include_generated"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where} {name}: expected true or false, got {value!r}")
            setattr(settings, name, value)
        elif name == "include_unproven":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} {name}: expected true or false, got {value!r}")
            settings.forbid_unproven = not value
            if value:
                settings.warnings.append(
                    f"{where} include_unproven = true ignored: offering skills measured not to"
                    " win is the user's choice (--include-unproven, or the editor setting"
                    " perfpilot.skills.includeUnproven); a project may only set it to false"
                )
        elif name in ("select", "ignore"):
            from perfpilot.tools.code_selection import CodeSelectionError, parse_codes

            try:
                codes = parse_codes(_string_list(value, f"{where} {name}"), f"{where} {name}")
            except CodeSelectionError as exc:
                raise ConfigError(str(exc)) from None
            setattr(settings, name, codes)
        elif name == "llm":
            continue  # the agent's settings: validated by tools/llm_config.py
        else:
            # Unknown keys warn instead of failing so an older perfpilot still runs with a
            # newer configuration.
            settings.warnings.append(
                f"{where}: unknown key {key!r} ignored (known: {', '.join(KNOWN_KEYS)})"
            )
    return settings


def parse_path_mapping(text: str, where: str = "--path-mapping") -> PathMapping:
    """Parse `FROM=TO` as given on the command line (or in a TOML list)."""
    source, sep, target = text.partition("=")
    if not sep or not source:
        raise ConfigError(f"{where} {text!r}: expected FROM=TO, e.g. /app=.")
    return PathMapping(source, target or ".")


def _string_list(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return list(value)


def _workspace_patterns(patterns: list[str], where: str, warnings: list[str]) -> list[str]:
    """Keep the globs that stay inside the workspace; warn about the others.

    Settings may come with the repository (pyproject.toml, .vscode/settings.json): they must
    not make perfpilot read files elsewhere on the machine (other projects' data, which would
    reach the LLM as evidence) or walk the whole disk (`/**`). A profile from elsewhere is
    loaded explicitly: `--profile FILE`, Load Profile…, `perfpilot.loadProfile`.
    """
    kept = []
    for pattern in patterns:
        parts = PurePath(pattern.replace("\\", "/")).parts
        if PurePosixPath(pattern).is_absolute() or PureWindowsPath(pattern).is_absolute():
            reason = "an absolute path"
        elif pattern.startswith("~"):
            reason = "outside the workspace"
        elif _escapes(parts):
            reason = "outside the workspace"
        else:
            kept.append(pattern)
            continue
        warnings.append(
            f"{where}: {pattern!r} ignored: {reason}; settings name profiles inside the"
            " workspace (load others explicitly: --profile FILE, or Load Profile in the editor)"
        )
    return kept


OUTSIDE = (
    "ignored: it resolves outside the workspace (a symlink); a profile from elsewhere is"
    " loaded explicitly (--profile FILE, or Load Profile in the editor)"
)


def within_workspace(path: str, root: str | Path) -> bool:
    """True when `path`, symlinks resolved, is inside `root` (resolved too).

    The globs of a repository's settings are checked as text (`_workspace_patterns`); a
    symlink the repository carries (`profiles/p.prof -> ~/other/secret.prof`) is only seen here.
    """
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _escapes(parts: tuple[str, ...]) -> bool:
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else 0 if part in (".", "") else 1
        if depth < 0:
            return True
    return False


def _path_mappings(value: object, where: str) -> list[PathMapping]:
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = []
        for item in value:
            if not isinstance(item, str):
                raise ConfigError(f"{where}: expected FROM=TO strings, got {item!r}")
            mapping = parse_path_mapping(item, where)
            pairs.append((mapping.source, mapping.target))
    else:
        raise ConfigError(f"{where}: expected a table {{FROM = TO}}, got {value!r}")
    for source, target in pairs:
        if not isinstance(target, str) or not source:
            raise ConfigError(f"{where}: {source!r} must map to a path string")
    # Longest prefix first, so the most specific mapping wins.
    return sorted((PathMapping(s, t) for s, t in pairs), key=lambda m: len(m.source), reverse=True)
