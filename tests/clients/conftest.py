"""Shared fixtures for the editor-client tests: a profiled copy of the example, and what the
CLI (the same findings and fixes, another surface) says about it, as the expected results."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.lsp.conftest import make_example_workspace

PERFPILOT = [sys.executable, "-m", "perfpilot.server"]
ARTIFACTS = REPO / "tests" / "clients" / "artifacts"


def perfpilot(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the perfpilot CLI of the test environment."""
    return subprocess.run(
        [*PERFPILOT, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@dataclass(frozen=True)
class Finding:
    """One finding as `perfpilot check --output-format json` reports it."""

    code: str
    filename: str
    line: int  # 1-based
    column: int  # 1-based
    message: str
    data: dict

    @property
    def applicability(self) -> str | None:
        return self.data.get("applicability")


def check_json(root: Path) -> list[Finding]:
    """The CLI's findings for a workspace (its own profiles in .perfpilot/profiles)."""
    done = perfpilot("check", "--output-format", "json", "--exit-zero", cwd=root)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return [
        Finding(
            code=f["code"],
            filename=f["filename"],
            line=f["location"]["row"],
            column=f["location"]["column"],
            message=f["message"],
            data=f.get("data") or {},
        )
        for f in report["findings"]
    ]


def copy_workspace(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


@pytest.fixture(scope="session")
def client_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, profiled once (cProfile, the real workload); tests copy it."""
    return make_example_workspace(tmp_path_factory.mktemp("clients") / "example")


@pytest.fixture(scope="session")
def cli_findings(client_template: Path) -> list[Finding]:
    return check_json(client_template)


@dataclass(frozen=True)
class FixCase:
    """A safe PP1xx fix the editors should offer, and the file the CLI's --fix makes of it."""

    finding: Finding
    before: str
    expected: str


@pytest.fixture(scope="session")
def fix_case(
    client_template: Path, cli_findings: list[Finding], tmp_path_factory: pytest.TempPathFactory
) -> FixCase:
    """The first safe PP1xx finding in a file with exactly one fix, and the CLI's fixed file.

    The editors apply one quick fix; `perfpilot check --fix` applies every safe fix of a file,
    so only a file with a single fix gives a like-for-like expectation.
    """
    offense = [f for f in cli_findings if f.code.startswith("PP1")]
    if not offense:
        pytest.fail(
            "perfpilot check reports no PP1xx finding on the example: the quick-fix tests have "
            "nothing to apply"
        )
    safe = [f for f in offense if f.applicability == "safe"]
    per_file: dict[str, list[Finding]] = {}
    for f in safe:
        per_file.setdefault(f.filename, []).append(f)
    single = [fs[0] for fs in per_file.values() if len(fs) == 1]
    assert single, f"no file with exactly one safe PP1xx fix: {offense}"
    # PP105 (precompile a regex, in parsing.py) first when there is one: the example.
    chosen = sorted(single, key=lambda f: (f.code != "PP105", f.code, f.filename))[0]
    fixed = copy_workspace(client_template, tmp_path_factory.mktemp("cli-fix") / "example")
    done = perfpilot("check", "--fix", "--exit-zero", chosen.filename, cwd=fixed)
    assert done.returncode == 0, done.stdout + done.stderr
    before = (client_template / chosen.filename).read_text()
    expected = (fixed / chosen.filename).read_text()
    assert expected != before, f"perfpilot check --fix changed nothing: {done.stdout}"
    return FixCase(chosen, before, expected)
