"""`[tool.perfpilot]` settings: values, defaults and located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.config import (
    DEFAULT_THRESHOLD,
    ConfigError,
    PathMapping,
    find_workspace_root,
    load_settings,
    parse_path_mapping,
)


def write(root: Path, text: str) -> Path:
    (root / "pyproject.toml").write_text(text)
    return root


def test_defaults_without_a_table(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[project]\nname = 'x'\n"))
    assert settings.threshold == DEFAULT_THRESHOLD and settings.profiles == []


def test_values_and_path_mappings(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            "[tool.perfpilot]\nprofiles = ['a/*.prof', 'b.json']\nthreshold = 3\n"
            "unsafe-fixes = true\npath_mappings = { '/app' = '.', '/app/lib' = 'vendor' }\n",
        )
    )
    assert settings.profiles == ["a/*.prof", "b.json"]
    assert settings.threshold == 3.0 and settings.unsafe_fixes is True
    assert settings.path_mappings[0] == PathMapping("/app/lib", "vendor")  # most specific first


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("threshold = 'high'", "threshold: expected a number"),
        ("threshold = 150", "threshold: 150 is not a percentage"),
        ("profiles = [1, 2]", "profiles: expected a list of strings"),
        ("unsafe_fixes = 'yes'", "unsafe_fixes: expected true or false"),
        ("path_mappings = 3", "path_mappings: expected a table"),
        ("path_mappings = ['/app']", "expected FROM=TO"),
    ],
)
def test_invalid_values_name_the_file_and_key(tmp_path: Path, body: str, message: str) -> None:
    write(tmp_path, f"[tool.perfpilot]\n{body}\n")
    with pytest.raises(ConfigError, match=message) as error:
        load_settings(tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(error.value)


def test_broken_toml_is_a_located_error(tmp_path: Path) -> None:
    write(tmp_path, "[tool.perfpilot\nthreshold = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path)


def test_unknown_keys_warn(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[tool.perfpilot]\ntreshold = 1\n"))
    assert settings.threshold == DEFAULT_THRESHOLD
    assert "unknown key 'treshold'" in settings.warnings[0]


def test_workspace_root_is_the_nearest_project(tmp_path: Path) -> None:
    write(tmp_path, "")
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    assert find_workspace_root(nested) == tmp_path.resolve()


def test_command_line_mapping() -> None:
    assert parse_path_mapping("/app=src") == PathMapping("/app", "src")
    assert parse_path_mapping("/app=") == PathMapping("/app", ".")
    with pytest.raises(ConfigError):
        parse_path_mapping("/app")
