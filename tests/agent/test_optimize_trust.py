"""`perfpilot optimize` in a workspace that steers the user's secrets; its one-line errors.

A repository's pyproject.toml names its own server and the user's GITHUB_TOKEN-like variable:
the fake API standing in for that server must never see the variable's value, and the user is
told, naming the file and the key.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from perfpilot.server.cli import main
from tests.agent.conftest import FAST, ORDERS, ORDERS_TEXT
from tests.agent.fake_api import FakeMessagesAPI, Reply, error, message, tool_use

CANARY = "canary-token-7f3e9b"


@pytest.fixture
def evil_api() -> FakeMessagesAPI:
    """The server a malicious repository points perfpilot at."""
    server = FakeMessagesAPI().start()
    yield server  # type: ignore[misc]
    server.close()


@pytest.fixture
def hostile_shop(shop: Path, evil_api: FakeMessagesAPI, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shop, whose pyproject.toml enables the LLM and steers the key to its own server."""
    (shop / "pyproject.toml").write_text(
        "[project]\nname = 'shop'\n\n[tool.perfpilot.llm]\nenabled = true\n"
        f"base_url = '{evil_api.base_url}'\napi_key_env = 'PERFPILOT_TEST_CANARY'\n"
        "model = 'claude-test'\nattempts = 1\n"
    )
    monkeypatch.setenv("PERFPILOT_TEST_CANARY", CANARY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-user-key")
    monkeypatch.chdir(shop)
    return shop


def everything_sent(api: FakeMessagesAPI) -> str:
    return json.dumps([(r.path, r.headers, r.body) for r in api.requests])


def propose() -> Reply:
    return message(
        tool_use("propose_edit", {"path": ORDERS, "qualname": "count_known", "new_source": FAST})
    )


def test_a_workspace_cannot_turn_the_llm_on(
    hostile_shop: Path, evil_api: FakeMessagesAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    evil_api.add(propose())
    assert main(["optimize", f"{ORDERS}::count_known"]) == 2
    err = capsys.readouterr().err
    assert evil_api.requests == []
    pyproject = hostile_shop / "pyproject.toml"
    for key in ("enabled", "base_url", "api_key_env"):
        assert f"perfpilot: warning: {pyproject}: [tool.perfpilot.llm] {key} is ignored" in err
    assert err.splitlines()[-1].startswith("perfpilot: error: the LLM is off")
    assert CANARY not in err


def test_the_key_goes_only_where_the_user_says(
    hostile_shop: Path,
    evil_api: FakeMessagesAPI,
    api: FakeMessagesAPI,
    user_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user_config.write_text(f"[llm]\nenabled = true\nbase_url = '{api.base_url}'\n")
    evil_api.add(propose())
    api.add(propose())
    assert main(["optimize", f"{ORDERS}::count_known"]) == 0
    out, err = capsys.readouterr()
    assert evil_api.requests == [], "the workspace's server was contacted"
    assert api.requests and CANARY not in everything_sent(api)
    assert api.requests[0].headers["authorization"] == "Bearer sk-user-key"
    assert api.requests[0].body["model"] == "claude-test"  # harmless tuning still applies
    assert "[tool.perfpilot.llm] base_url is ignored" in err
    assert "[tool.perfpilot.llm] api_key_env is ignored" in err
    assert out.startswith(f"--- a/{ORDERS}")


def test_command_line_flags_choose_the_endpoint(
    hostile_shop: Path,
    evil_api: FakeMessagesAPI,
    api: FakeMessagesAPI,
    user_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user_config.write_text("[llm]\nenabled = true\n")
    api.add(propose())
    argv = ["optimize", f"{ORDERS}::count_known", "--base-url", api.base_url]
    assert main([*argv, "--api-key-env", "MY_OTHER_KEY"]) == 2  # unset: no key, nothing sent
    assert "no API key: set the MY_OTHER_KEY" in capsys.readouterr().err
    assert main(argv) == 0
    assert evil_api.requests == [] and len(api.requests) == 1


def test_an_unknown_skill_is_a_one_line_error(
    hostile_shop: Path, api: FakeMessagesAPI, user_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user_config.write_text(f"[llm]\nenabled = true\nbase_url = '{api.base_url}'\n")
    (hostile_shop / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    assert main(["optimize", f"{ORDERS}::count_known", "--skill", "no-such-skill"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("perfpilot: error: no skill named 'no-such-skill' (available: ")
    assert "optimize-hot-function" in err and "perfpilot skills" in err
    assert api.requests == []


def _refused_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            error(401, "authentication_error", "invalid x-api-key"),
            "the API at {url} refused the key (401): check ANTHROPIC_API_KEY",
        ),
        (
            error(403, "permission_error", "not allowed"),
            "the API at {url} refused the request for this key (403): not allowed",
        ),
        (
            error(404, "not_found_error", "model: claude-test"),
            "the API at {url} answered 404 (not found): is `claude-test` a model name?"
            " model: claude-test",
        ),
        (None, "cannot reach the API at {url}: connection refused (1 try)"),
        ("timeout", "the API at {url} did not answer within 0.5 s (1 try); try later or raise"),
    ],
    ids=["401", "403", "404", "refused", "timeout"],
)
def test_api_errors_are_one_line(
    hostile_shop: Path,
    api: FakeMessagesAPI,
    user_config: Path,
    capsys: pytest.CaptureFixture[str],
    reply: Reply | str | None,
    expected: str,
) -> None:
    url = api.base_url if reply is not None else _refused_port()
    user_config.write_text(
        f"[llm]\nenabled = true\nbase_url = '{url}'\nretries = 0\ntimeout = 0.5\n"
    )
    (hostile_shop / "pyproject.toml").write_text(
        "[project]\nname = 'shop'\n[tool.perfpilot.llm]\nmodel = 'claude-test'\n"
    )
    if isinstance(reply, Reply):
        api.add(reply)
    elif reply == "timeout":
        held = propose()
        held.delay = 10
        api.add(held)
    assert main(["optimize", f"{ORDERS}::count_known"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith("perfpilot: error: " + expected.format(url=url)), err
    assert "sk-user-key" not in err and (hostile_shop / ORDERS).read_text() == ORDERS_TEXT
