"""The agent's proposals are measured on recorded calls when verification is on."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from perfpilot.skills.agent import run_agent
from perfpilot.skills.registry import discover
from perfpilot.tools.agent_tools import TOOLS, FunctionRef, ToolContext
from perfpilot.tools.llm_config import LLMSettings
from perfpilot.tools.registry import ToolError
from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from perfpilot.tools.verify.verify_fix import VerifySettings
from tests.agent.fake_api import FakeMessagesAPI, message, text, tool_results, tool_use
from tests.conftest import REPO
from tests.lsp.test_optimize import FAST_EDIT_DISTANCE

ENRICH = "loganalyzer/enrich.py"
TARGET = {"path": ENRICH, "qualname": "edit_distance"}


@pytest.fixture
def captured_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled example in a private folder, edit_distance captured from a real run."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    root = tmp_path / "example"
    shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text("[project]\nname = 'example'\n")
    target = CaptureTarget(str(root / ENRICH), "edit_distance")
    run = run_capture(
        root,
        [sys.executable, "workload.py", "--lines", "1500"],
        [target],
        root,
        stdout=open(root / "out.txt", "w"),
    )
    assert run.returncode == 0 and run.captures[0].recorded > 50
    return root


def test_the_slower_rewrite_goes_back_to_the_model_as_not_faster(
    captured_example: Path, api: FakeMessagesAPI, llm: LLMSettings
) -> None:
    api.add(
        message(tool_use("propose_edit", {**TARGET, "new_source": FAST_EDIT_DISTANCE})),
        message(text("I cannot find a faster version.")),
    )
    ctx = ToolContext(
        root=captured_example,
        skills=discover(captured_example),
        target=FunctionRef(str(captured_example / ENRICH), "edit_distance"),
        verify=VerifySettings(budget=2.0),
    )
    settings = replace(llm, attempts=2)
    result = asyncio.run(run_agent(ctx, settings))
    assert result.fix is None
    refusal = result.attempts[0].reason
    assert refusal.startswith("verify: not faster: 0.") and "slower on" in refusal, refusal
    # What the model got back: the refusal with the measured figures.
    sent = tool_results(api.requests[1].body)
    assert sent and sent[0].get("is_error")
    payload = json.loads(sent[0]["content"])
    assert payload["ok"] is False and payload["verdict"]["speed"]["speedup"] < 1.0
    assert "recorded real calls" in api.requests[0].body["system"]
    assert "verify_fix" not in [t["name"] for t in api.requests[0].body["tools"]]


def test_verify_fix_tool_gives_a_verdict_only_when_verification_is_on(
    captured_example: Path,
) -> None:
    tool = TOOLS.get("verify_fix")
    assert tool is not None and not tool.read_only
    ctx = ToolContext(root=captured_example, skills=discover(captured_example))
    arguments = {**TARGET, "new_source": FAST_EDIT_DISTANCE.replace("limit + 1)", "limit + 2)")}
    with pytest.raises(ToolError, match="is off"):
        tool.call(ctx, arguments)
    ctx.verify = VerifySettings(budget=1.0)
    verdict = tool.call(ctx, arguments)
    assert verdict.label == "differs" and "edit_distance(" in verdict.summary
    assert verdict.difference is not None and verdict.difference.aspect == "return value"
