"""`perfpilot optimize --profile SPEC`: production evidence from a loopback Pyroscope."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.agent.fake_api import FakeMessagesAPI, message
from tests.agent.test_optimize_cli import run
from tests.remote_fakes import FakeServer, Stored

DATA = Path(__file__).resolve().parent.parent / "data"
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


def test_the_agent_gets_the_fetched_profile_as_evidence(
    tmp_path: Path,
    api: FakeMessagesAPI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copy(DATA / "sample_prog.py", tmp_path / "sample_prog.py")
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'sample'\n\n[tool.perfpilot]\n"
        'path_mappings = { "/tmp/perfpilot-sample-pprof" = "." }\n\n'
        "[tool.perfpilot.llm]\nmodel = 'claude-test'\nattempts = 1\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-env")
    # The user, not the repository, turns the LLM on and says where it is.
    user_config = tmp_path / "user-config.toml"
    user_config.write_text(f"[llm]\nenabled = true\nbase_url = '{api.base_url}'\n")
    monkeypatch.setenv("PERFPILOT_CONFIG", str(user_config))
    recorded = int((datetime.now(timezone.utc) - timedelta(minutes=30)).timestamp() * 1000)
    server = FakeServer(
        "pyroscope",
        [Stored({"service_name": "api"}, recorded, (DATA / "austin-wall.pprof").read_bytes())],
    ).start()
    try:
        api.add(message({"type": "text", "text": "No change proposed."}))
        spec = f'pyroscope+{server.url}?query={CPU}{{service_name="api"}}&from=now-1h'
        status = run(["optimize", "sample_prog.py::fib", "--profile", spec])
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert status == 1, err  # no edit proposed
    system = api.messages_requests()[0]["system"]
    evidence = json.dumps(system) if not isinstance(system, str) else system
    assert '"own_percent"' in evidence and "fib" in evidence
    assert "pyroscope-127_0_0_1_" in evidence  # the profile is named by source and window
    assert not list(tmp_path.glob(".perfpilot/profiles/*"))  # fetched to a scratch folder only
