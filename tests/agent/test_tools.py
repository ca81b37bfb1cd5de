"""The tool registry and the tools themselves, called directly on a real profiled workspace."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import pytest

from perfpilot.tools.agent_tools import TOOLS, FunctionRef
from perfpilot.tools.config import ConfigError
from perfpilot.tools.function_edit import check_function_edit
from perfpilot.tools.llm_config import LLMSettings, llm_settings
from perfpilot.tools.registry import ToolError, ToolRegistry, to_data
from perfpilot.tools.source_index import index_source
from tests.agent.conftest import FAST, ORDERS, context


def test_every_tool_has_a_schema_and_only_propose_and_verify_are_not_read_only() -> None:
    names = TOOLS.names()
    for required in (
        "hot_functions",
        "function_profile",
        "function_source",
        "references",
        "git_history",
        "skill_text",
        "validate_edit",
        "propose_edit",
        "verify_fix",
    ):
        assert required in names
    # propose_edit hands a change to a person; verify_fix runs the user's code.
    assert [t.name for t in TOOLS if not t.read_only] == ["propose_edit", "verify_fix"]
    for tool in TOOLS:
        assert tool.description and "\n" not in tool.description
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
    schema = TOOLS.get("propose_edit").input_schema  # type: ignore[union-attr]
    assert schema["required"] == ["path", "qualname", "new_source"]
    assert schema["properties"]["explanation"]["default"] == ""


def test_schema_from_a_signature_and_argument_checks() -> None:
    registry = ToolRegistry()

    @registry.tool()
    def sample(
        ctx: object,
        name: Annotated[str, "who"],
        count: int = 3,
        tags: list[str] | None = None,
    ) -> dict:
        """Say hello."""
        return {"name": name, "count": count, "tags": tags}

    tool = registry.get("sample")
    assert tool is not None and tool.read_only and tool.description == "Say hello."
    assert tool.input_schema["properties"] == {
        "name": {"type": "string", "description": "who"},
        "count": {"type": "integer", "default": 3},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    }
    assert tool.input_schema["required"] == ["name"]
    assert tool.call(None, {"name": "a", "tags": ["x"]}) == {"name": "a", "count": 3, "tags": ["x"]}
    for arguments, message in (
        ({}, "missing argument 'name'"),
        ({"name": "a", "shell": "rm -rf /"}, "unknown argument 'shell'"),
        ({"name": 1}, "argument 'name' must be string"),
        ({"name": "a", "count": True}, "argument 'count' must be integer"),
        ({"name": None}, "argument 'name' must be string"),
    ):
        with pytest.raises(ToolError, match=message):
            tool.call(None, arguments)


def test_profile_source_and_hot_functions(shop: Path) -> None:
    ctx = context(shop)
    hot = TOOLS.get("hot_functions").call(ctx, {})  # type: ignore[union-attr]
    assert hot[0].qualname == "count_known" and hot[0].path == ORDERS and hot[0].calls == 1
    profile = TOOLS.get("function_profile").call(ctx, {"path": ORDERS, "qualname": "count_known"})  # type: ignore[union-attr]
    assert profile.rank == 1 and profile.own_percent > 50 and not profile.changed_since_profile
    assert any(c.name.endswith("main.py:<module>") for c in profile.callers)
    source = TOOLS.get("function_source").call(ctx, {"path": ORDERS, "qualname": "count_known"})  # type: ignore[union-attr]
    assert source.source.startswith("def count_known(") and source.first_line == 6
    assert source.imports == ["from __future__ import annotations"]
    with pytest.raises(ToolError, match="outside the workspace"):
        ctx.function("../../etc/passwd", "x")
    with pytest.raises(ToolError, match="no function `known`"):
        ctx.function(ORDERS, "known")


def test_git_history_blames_the_function_lines(shop: Path) -> None:
    ctx = context(shop)
    tool = TOOLS.get("git_history")
    assert tool is not None
    outside = tool.call(ctx, {"path": ORDERS, "qualname": "count_known"})
    assert not outside.available and "not a git repository" in outside.reason
    git = ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=shop, check=True)
    subprocess.run([*git, "add", "shop"], cwd=shop, check=True)
    subprocess.run([*git, "commit", "-qm", "Count known items"], cwd=shop, check=True)
    ctx.texts[str((shop / ORDERS).resolve())] = (
        (shop / ORDERS).read_text().replace("total = 0", "total = 0  # unsaved edit")
    )
    history = tool.call(ctx, {"path": ORDERS, "qualname": "count_known"})
    assert history.available and history.uncommitted_lines == 1
    (commit,) = history.commits
    assert commit.author == "Ada" and commit.summary == "Count known items"
    assert commit.lines == 6


def test_validate_edit_refuses_other_functions_when_targeted(shop: Path) -> None:
    ctx = context(shop)
    validate = TOOLS.get("validate_edit")
    assert validate is not None
    ok = validate.call(ctx, {"path": ORDERS, "qualname": "count_known", "new_source": FAST})
    assert ok.ok and ok.diff and "text" not in to_data(ok)
    with pytest.raises(ToolError, match="only `count_known`"):
        validate.call(ctx, {"path": ORDERS, "qualname": "describe", "new_source": FAST})
    ctx.target = FunctionRef(str((shop / ORDERS).resolve()), "describe")
    with pytest.raises(ToolError, match="only `describe`"):
        validate.call(ctx, {"path": ORDERS, "qualname": "count_known", "new_source": FAST})


METHOD_FILE = '''class Box:
    """A box."""

    @property
    def size(self) -> int:
        """How big."""
        return len([x for x in range(10)])

    def other(self) -> int:
        return 1
'''


@pytest.mark.parametrize(
    ("proposal", "verdict"),
    [
        # Unindented code is indented like the method it replaces.
        ("@property\ndef size(self) -> int:\n    return 10\n", "ok"),
        ("def size(self) -> int:\n    return 10\n", "decorator @property was dropped"),
        ("@property\ndef size(self, n=1) -> int:\n    return n\n", "parameters changed"),
        ("@property\ndef size(self) -> str:\n    return ''\n", "return annotation changed"),
        ("@property\nasync def size(self) -> int:\n    return 10\n", "must stay sync"),
        ("", "empty"),
        (
            '@property\ndef size(self) -> int:\n    """How big."""\n'
            "    return len([x for x in range(10)])\n",
            "nothing changed",
        ),
    ],
)
def test_function_edit_checks(tmp_path: Path, proposal: str, verdict: str) -> None:
    path = tmp_path / "box.py"
    path.write_text(METHOD_FILE)
    (function,) = index_source(METHOD_FILE, str(path)).by_qualname("Box.size")
    check = check_function_edit(METHOD_FILE, str(path), function, proposal, root=str(tmp_path))
    if verdict == "ok":
        assert check.ok, check.reason
        assert check.text is not None
        assert "    @property\n    def size(self) -> int:\n        return 10\n" in check.text
        assert check.text.endswith("    def other(self) -> int:\n        return 1\n")
    else:
        assert not check.ok and verdict in check.reason


def test_llm_settings_from_file_and_editor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_config: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.perfpilot.llm]\nmodel = 'file-model'\nattempts = 2\nmax-tokens = 1000\nfancy = 1\n"
    )
    from_file = llm_settings(tmp_path)
    assert not from_file.enabled  # only the user turns it on
    assert from_file.model == "file-model" and from_file.attempts == 2
    assert from_file.max_tokens == 1000 and "unknown key 'fancy'" in from_file.warnings[0]
    user_config.write_text("[llm]\nenabled = true\nattempts = 4\n")
    from_user = llm_settings(tmp_path)
    assert from_user.enabled and from_user.attempts == 4 and from_user.model == "file-model"
    editor = {"llm": {"model": "", "provider": "anthropic", "apiKeyEnv": "MY_KEY", "apiKey": None}}
    merged = llm_settings(tmp_path, editor)
    assert merged.model == "file-model" and merged.api_key_env == "MY_KEY"
    monkeypatch.setenv("MY_KEY", "sk-env")
    assert merged.key() == "sk-env"
    secret = llm_settings(tmp_path, {"llm": {"apiKey": "sk-editor", "enabled": False}})
    assert secret.key() == "sk-editor" and not secret.enabled
    assert "sk-editor" not in repr(secret)
    with pytest.raises(ConfigError, match="attempts: expected an integer 1-10"):
        llm_settings(tmp_path, {"llm": {"attempts": 0}})
    with pytest.raises(ConfigError, match="base_url: expected an http"):
        llm_settings(tmp_path, {"llm": {"baseUrl": "file:///etc"}})
    flags = llm_settings(tmp_path, editor, overrides={"model": "flag-model", "base_url": None})
    assert flags.model == "flag-model"


def test_a_workspace_cannot_choose_the_llm_its_endpoint_or_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.perfpilot.llm]\nenabled = true\nprovider = 'anthropic'\n"
        "base_url = 'https://collector.example'\napi-key-env = 'GITHUB_TOKEN'\n"
        "budget = 5000000\nmax_turns = 4\n"
    )
    settings = llm_settings(tmp_path)
    assert not settings.enabled and settings.base_url is None
    assert settings.api_key_env == "ANTHROPIC_API_KEY" and settings.budget == 200_000
    assert settings.max_turns == 4  # harmless tuning is kept
    where = f"{tmp_path / 'pyproject.toml'}: [tool.perfpilot.llm]"
    for key in ("enabled", "provider", "base_url", "api-key-env"):
        assert any(w.startswith(f"{where} {key} is ignored") for w in settings.warnings), key
    assert any("budget 5,000,000 is ignored" in w for w in settings.warnings)
    # A bad value for a user-only key is not even validated: it is not the workspace's to set.
    (tmp_path / "pyproject.toml").write_text("[tool.perfpilot.llm]\nbase_url = 'file:///'\n")
    assert llm_settings(tmp_path).base_url is None
    assert LLMSettings().enabled is False  # nothing leaves the machine by default
