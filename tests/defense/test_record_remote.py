"""`perfpilot record --from SPEC`: production windows from a loopback Pyroscope into history."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from perfpilot.server.cli import main
from tests.cli.test_check_remote import MAPPING, pyro, pyroscope, workspace  # noqa: F401

BEFORE_WINDOW = "&from=now-2h&until=now-1h"
AFTER_WINDOW = "&from=now-1h&until=now"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_two_production_windows_become_two_runs_named_by_their_source(
    workspace: Path,  # noqa: F811
    pyroscope,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    (workspace / "pyproject.toml").write_text(
        "[project]\nname = 'sample'\n[tool.perfpilot]\npath_mappings = "
        f"{{ '{MAPPING.split('=')[0]}' = '.' }}\n"
    )
    before, after = pyro(pyroscope, BEFORE_WINDOW), pyro(pyroscope, AFTER_WINDOW)
    status, _, err = _run(capsys, "record", "--workload", "prod", "--from", before, "--from", after)
    assert status == 0, err
    assert "recorded 2 runs of 'prod'" in err

    status, out, err = _run(capsys, "history", "--workload", "prod", "--output-format", "json")
    assert status == 0, err
    runs = json.loads(out)
    assert len(runs) == 2
    # Each run names its source and the absolute window, not a scratch file that is gone.
    with sqlite3.connect(workspace / ".perfpilot" / "history.db") as db:
        commands = [row[0] for row in db.execute("SELECT command FROM runs ORDER BY id")]
    assert all(c.startswith("fetch pyroscope+http://127.0.0.1") for c in commands)
    assert all(
        re.search(r"\(\d{4}-\d\d-\d\dT[\d:]+Z\.\.\d{4}-\d\d-\d\dT[\d:]+Z\)$", c) for c in commands
    )
    # The two windows hold different real profiles, and both mapped onto the workspace.
    tops = [run["top"] for run in runs]
    assert all(top is not None for top in tops), runs


def test_a_bad_spec_or_a_mixed_request_is_one_line(
    workspace: Path,  # noqa: F811
    pyroscope,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = _run(capsys, "record", "--from", "pyroscope+http://127.0.0.1:1?from=now-1h")
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    status, _, err = _run(
        capsys, "record", "--from", pyro(pyroscope, BEFORE_WINDOW), "--", "python", "x.py"
    )
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert not (workspace / ".perfpilot" / "history.db").exists()
