"""The documented GitHub Actions workflow (docs/perfpilot.yml): its shape, and its perfpilot
steps run as written on a copy of the example project, with their outputs checked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # PyYAML: a dependency of libcst, so of perfpilot

from tests.clients.conftest import Finding, copy_workspace
from tests.conftest import REPO

WORKFLOW = REPO / "docs" / "perfpilot.yml"
DOC = REPO / "docs" / "github-actions.md"
ANNOTATION = re.compile(r"^::(?P<level>notice|warning|error) (?P<props>[^:]*)::(?P<message>.*)$")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def job(workflow: dict) -> dict:
    (only,) = workflow["jobs"].values()
    return only


def test_workflow_shape(workflow: dict) -> None:
    # `on` is YAML 1.1's boolean true for PyYAML; GitHub reads it as the key "on".
    triggers = workflow.get("on", workflow.get(True))
    assert "pull_request" in triggers
    assert workflow["permissions"]["security-events"] == "write"
    steps = job(workflow)["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    upload = next(
        s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )
    runs = [s.get("run", "") for s in steps]
    assert any("--output-format github" in r for r in runs)
    sarif_step = next(r for r in runs if "--output-format sarif" in r)
    # The SARIF file the check writes is the one uploaded.
    assert f"> {upload['with']['sarif_file']}" in sarif_step
    # The profile the check reads is the one the profile step writes.
    profile_out = next(re.search(r"-o (\S+)", r)[1] for r in runs if "perfpilot profile" in r)
    assert all(f"--profile {profile_out}" in r for r in runs if "perfpilot check" in r)


def test_doc_shows_the_workflow() -> None:
    doc = DOC.read_text()
    assert "docs/perfpilot.yml" in doc or "perfpilot.yml" in doc
    assert "--output-format github" in doc and "--output-format sarif" in doc


def test_workflow_steps_run_as_written(
    workflow: dict, client_template: Path, cli_findings: list[Finding], tmp_path: Path
) -> None:
    """Run every `perfpilot ...` step of the workflow, in order, as the runner would (bash,
    the job's env); the install step is what made this test environment."""
    root = copy_workspace(client_template, tmp_path / "project")
    the_job = job(workflow)
    env = {
        **os.environ,
        **{k: str(v) for k, v in the_job.get("env", {}).items()},
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    outputs = {}
    for step in the_job["steps"]:
        command = step.get("run", "")
        if not command.startswith("perfpilot "):
            continue
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{step['name']}: {done.stderr}"
        outputs[step["name"]] = done.stdout
    assert len(outputs) == 3, outputs.keys()

    # The profile step wrote a real profile.
    assert (root / "perfpilot.prof").stat().st_size > 0

    # Annotations: one workflow command per finding, located like the CLI's findings.
    github = next(out for name, out in outputs.items() if "Annotate" in name)
    annotations = []
    for line in github.splitlines():
        found = ANNOTATION.match(line)
        if found:
            props = dict(p.split("=", 1) for p in found["props"].split(","))
            annotations.append((found["level"], props))
    assert annotations, github
    files = {props["file"] for _, props in annotations}
    assert all((root / f).is_file() for f in files), files
    levels = {level for level, _ in annotations}
    assert "notice" in levels  # PP001, hot functions
    codes = {re.search(r"\((PP\d{3})\)", props["title"])[1] for _, props in annotations}
    assert "PP001" in codes
    # The same findings as the CLI's JSON on the profile the workflow made. (Another profile of
    # the same program may put a function just over or under the threshold.)
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "check", "--profile", "perfpilot.prof",
         "--output-format", "json", "--exit-zero"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    same_profile = {f["code"] for f in json.loads(done.stdout)["findings"]}
    if any(code.startswith("PP1") for code in same_profile):
        assert "warning" in levels and any(c.startswith("PP1") for c in codes), codes
    assert same_profile >= codes - {"PP902", "PP901"}
    assert any(f.code.startswith("PP1") for f in cli_findings)  # the example has skill fixes

    # SARIF: a 2.1.0 log with perfpilot's rules and results, paths relative to the source root.
    sarif = json.loads((root / "perfpilot.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    assert run["tool"]["driver"]["name"] == "perfpilot"
    rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
    results = run["results"]
    assert results and {r["ruleId"] for r in results} <= rules
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and (root / uri).is_file(), uri
        assert location["region"]["startLine"] >= 1
    assert len(results) == len(annotations)
