"""`regress --mitigate --verify` with the LLM enabled: the agent is a candidate, verdicts recorded.

The agent talks to the local fake Messages API through the real anthropic client; the user
enabled the LLM in their own config file (the only place that may). Verification replays
the calls of `parse` captured from a real run of the program.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perfpilot.tools.user_config import user_config_path
from tests.agent.fake_api import FakeMessagesAPI, message, tool_use
from tests.defense.conftest import commit_all, perfpilot
from tests.defense.test_mitigate import TESTS
from tests.defense.test_regress import SLOW_LINE, plant_slowdown

# Faster than both head and the revert, and equal on every n >= 0.
AGENT_PARSE = """def parse(n):
    full, rest = divmod(n, 7)
    return 21 * full + rest * (rest - 1) // 2
"""


@pytest.fixture
def api() -> Iterator[FakeMessagesAPI]:
    server = FakeMessagesAPI().start()
    yield server
    server.close()


def test_the_agent_gets_the_regression_and_every_candidate_is_verified(
    repo: Path, api: FakeMessagesAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # captures: private
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    user_file = user_config_path()
    user_file.parent.mkdir(parents=True, exist_ok=True)
    user_file.write_text(f"[llm]\nenabled = true\nbase_url = '{api.base_url}'\n"
                         "model = 'claude-test'\nretries = 0\n")  # fmt: skip
    (repo / "test_app.py").write_text(TESTS)
    commit_all(repo, "tests")
    culprit = plant_slowdown(repo)
    # Capture needs the function in an imported module (not the script's __main__).
    (repo / "drive.py").write_text("import app\n\napp.main(2)\n")
    captured = perfpilot("capture", "--functions", "app.py::parse", "--", "python3", "drive.py",
                         cwd=repo)  # fmt: skip
    (repo / "drive.py").unlink()
    assert captured.returncode == 0, captured.stderr
    api.add(message(tool_use("propose_edit", {"path": "app.py", "qualname": "parse",
                                               "new_source": AGENT_PARSE})))  # fmt: skip

    done = perfpilot("regress", "--base", "HEAD~3", "--run", "python3 app.py", "--repeat", "6",
                     "--mitigate", "--test-cmd", "python3 -m pytest -q", "--verify",
                     "--budget", "2", cwd=repo)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "asking the efficiency agent (claude-test)" in done.stderr

    # The agent was given the regression: the culprit's diff, the old function, the delta.
    (request,) = [r for r in api.requests if r.path.startswith("/v1/messages")]
    opening = request.body["messages"][0]["content"]
    opening = opening if isinstance(opening, str) else opening[0]["text"]
    assert "<regression>" in opening and "Profile delta: own share" in opening
    assert "+" + SLOW_LINE.rstrip("\n") in opening and culprit[:10] in opening
    assert "The function before the culprit" in opening

    description = next((repo / ".perfpilot/mitigations").glob("*.md")).read_text()
    rows = {line.split("|")[1].strip(): line for line in description.splitlines()
            if line.startswith("| revert") or line.startswith("| agent")}  # fmt: skip
    agent = next(line for key, line in rows.items() if key.startswith("agent: Optimize `parse`"))
    revert = next(line for key, line in rows.items() if key.startswith("revert:"))
    # Both validated, tested and verified on the recorded calls: same behaviour.
    for row in (agent, revert):
        cells = [cell.strip() for cell in row.split("|")]
        assert cells[2] == "passed" and cells[3].startswith("`python3 -m pytest -q` passed")
        assert "same behaviour" in cells[4], row
    assert "| recorded calls of the function (verify) |" in description
    assert "(chosen)" in agent  # the fastest candidate won
