"""`perfpilot optimize PATH::FUNCTION`: the diff, the report, --apply, and refusing to send."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from perfpilot.server.optimize_cli import register_optimize, run_optimize
from perfpilot.tools.user_config import user_config_path
from tests.agent.conftest import FAST, ORDERS, ORDERS_TEXT
from tests.agent.fake_api import FakeMessagesAPI, error, message, tool_use


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfpilot")
    register_optimize(parser.add_subparsers(dest="command", required=True))
    return run_optimize(parser.parse_args(argv))


def enable(root: Path, api: FakeMessagesAPI, extra: str = "") -> None:
    """The user enables the LLM at the fake API (their own file); the workspace tunes the rest."""
    user_file = user_config_path()
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text(f"[llm]\nenabled = true\nbase_url = '{api.base_url}'\n")
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'shop'\n\n[tool.perfpilot.llm]\n"
        f"model = 'claude-test'\nbackoff = 0.01\n{extra}"
    )


@pytest.fixture
def in_shop(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(shop)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-env")
    return shop


def propose(source: str) -> dict:
    return tool_use(
        "propose_edit", {"path": ORDERS, "qualname": "count_known", "new_source": source}
    )


def test_prints_the_diff_and_the_report(
    in_shop: Path, api: FakeMessagesAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    enable(in_shop, api)
    api.add(message(propose(FAST)))
    assert run(["optimize", f"{ORDERS}::count_known"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"--- a/{ORDERS}\n+++ b/{ORDERS}\n")
    assert "+    known_set = set(known)" in out and "-        if item in known:" in out
    assert "proposal 1: passed validation" in err
    assert "style: passed: no new ruff violation" in err
    assert "applicability: unsafe" in err
    assert "sk-from-env" not in out + err
    assert (in_shop / ORDERS).read_text() == ORDERS_TEXT  # no --apply: nothing written
    # The stored profile was found and sent as evidence.
    assert '"own_percent"' in api.messages_requests()[0]["system"]


def test_apply_writes_the_validated_edit(
    in_shop: Path, api: FakeMessagesAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    enable(in_shop, api)
    api.add(message(propose(FAST)))
    assert run(["optimize", f"{ORDERS}::count_known", "--apply"]) == 0
    written = (in_shop / ORDERS).read_text()
    assert "known_set = set(known)" in written and "def describe" in written
    compile(written, ORDERS, "exec")
    assert f"wrote {ORDERS}" in capsys.readouterr().err


def test_refused_proposals_exit_1_with_the_reasons(
    in_shop: Path, api: FakeMessagesAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    enable(in_shop, api, "attempts = 2\n")
    api.add(message(propose("not code at all")), message(propose("def count_known(:")))
    assert run(["optimize", f"{ORDERS}::count_known", "--apply"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "proposal 1: refused: parse: new_source is not Python code" in err
    assert "no edit for `count_known`: 2 proposals refused" in err
    assert (in_shop / ORDERS).read_text() == ORDERS_TEXT


def test_an_api_failure_exits_2(
    in_shop: Path, api: FakeMessagesAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    enable(in_shop, api, "retries = 1\n")
    api.add(
        error(529, "overloaded_error", "Overloaded"), error(529, "overloaded_error", "Overloaded")
    )
    assert run(["optimize", f"{ORDERS}::count_known"]) == 2
    assert capsys.readouterr().err == (
        f"perfpilot: error: the API at {api.base_url} failed with status 529 (after 1 retry):"
        " Overloaded\n"
    )


def test_disabled_llm_sends_nothing(
    in_shop: Path, api: FakeMessagesAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_shop / "pyproject.toml").write_text(
        f"[project]\nname = 'shop'\n\n[tool.perfpilot.llm]\nbase_url = '{api.base_url}'\n"
    )
    api.add(message(propose(FAST)))
    assert run(["optimize", f"{ORDERS}::count_known"]) == 2
    assert "the LLM is off" in capsys.readouterr().err
    assert api.requests == []


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("shop/orders.py", "expected PATH::FUNCTION"),
        ("shop/missing.py::f", "shop/missing.py: no such file"),
        (f"{ORDERS}::count", "no function `count`"),
    ],
)
def test_bad_targets_are_usage_errors(
    in_shop: Path,
    api: FakeMessagesAPI,
    capsys: pytest.CaptureFixture[str],
    target: str,
    expected: str,
) -> None:
    enable(in_shop, api)
    assert run(["optimize", target]) == 2
    err = capsys.readouterr().err
    assert err.startswith("perfpilot: error: ") and expected in err and err.count("\n") == 1
    assert api.requests == []


def test_an_api_key_in_pyproject_is_ignored_unechoed(
    in_shop: Path, api: FakeMessagesAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    enable(in_shop, api, "api_key = 'sk-oops'\n")
    api.add(message(propose(FAST)))
    assert run(["optimize", f"{ORDERS}::count_known"]) == 0
    err = capsys.readouterr().err
    assert "api_key is ignored: an API key does not belong in a file" in err
    assert "sk-oops" not in err
    assert api.requests[0].headers["authorization"] == "Bearer sk-from-env"


def test_an_api_key_in_the_user_file_is_used_only_when_the_file_is_private(
    in_shop: Path, api: FakeMessagesAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    """The one rule for secrets (as for the profilers' tokens): the user's own file may hold
    one only when nobody else can read it."""
    enable(in_shop, api)
    path = user_config_path()
    with path.open("a") as stream:
        stream.write("api_key = 'sk-from-file'\n")
    path.chmod(0o644)
    assert run(["optimize", f"{ORDERS}::count_known"]) == 2
    err = capsys.readouterr().err
    assert f"holds an API key but the file is readable by others; chmod 600 {path}" in err
    assert "sk-from-file" not in err and err.count("\n") == 1 and api.requests == []
    path.chmod(0o600)
    api.add(message(propose(FAST)))
    assert run(["optimize", f"{ORDERS}::count_known"]) == 0
    assert api.requests[0].headers["authorization"] == "Bearer sk-from-file"


def test_verify_measures_the_proposal_and_prints_the_verdict(
    in_shop: Path,
    api: FakeMessagesAPI,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from perfpilot.server.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(in_shop / ".." / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(in_shop / ".." / "config"))
    enable(in_shop, api)
    assert (
        main(["capture", "--functions", f"{ORDERS}::count_known", "--", sys.executable, "main.py"])
        == 0
    )
    capsys.readouterr()
    api.add(message(propose(FAST)))
    assert run(["optimize", f"{ORDERS}::count_known", "--verify", "--budget", "2"]) == 0
    err = capsys.readouterr().err
    assert "verify: passed: faster: " in err and "on 1 recorded call, same behaviour" in err
