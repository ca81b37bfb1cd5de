"""`perfpilot check` and `perfpilot profile` end to end, on a copy of the bundled example."""

from __future__ import annotations

import json
import marshal
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PERFPILOT = [sys.executable, "-m", "perfpilot.server"]
FINDING = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>PP\d{3}) (?P<msg>.+)$")
WORKLOAD = ["python3", "workload.py", "--lines", "4000"]


def perfpilot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PERFPILOT, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding a copy of examples/, profiled once with cProfile."""
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(
        REPO / "examples", root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
    done = perfpilot("profile", "-o", "example.prof", "--", *WORKLOAD, cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def findings(stdout: str) -> list[dict[str, str]]:
    return [m.groupdict() for line in stdout.splitlines() if (m := FINDING.match(line))]


def def_line_of(path: Path, name: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if re.match(rf"\s*(async )?def {name}\(", line):
            return number
    raise AssertionError(f"no def {name} in {path}")


def test_text_output_ranks_the_real_hot_spot_first(example: Path) -> None:
    done = perfpilot("check", "--profile", "example.prof", cwd=example)
    assert done.returncode == 1, done.stderr
    found = findings(done.stdout)
    assert found, done.stdout
    top = found[0]
    assert top["code"] == "PP001" and "`edit_distance`" in top["msg"]
    assert top["path"] == "loganalyzer/enrich.py"
    assert int(top["line"]) == def_line_of(example / "loganalyzer/enrich.py", "edit_distance")
    assert re.search(r"\d+\.\d% self.*\d+\.\d% total, [\d,]+ calls", top["msg"])
    assert not any("`main`" in f["msg"] for f in found)
    hot = [f for f in found if f["code"] == "PP001"]
    summary = done.stdout.splitlines()[-1]
    assert summary.startswith(f"Found {len(hot)} hot functions at or above 2% in 1 profile")
    # Every profiled function of the example is found where the profile says it is.
    assert not any(f["code"] in ("PP901", "PP902") for f in found), done.stdout


def test_exit_zero_and_threshold(example: Path) -> None:
    assert (
        perfpilot("check", "--profile", "example.prof", "--exit-zero", cwd=example).returncode == 0
    )
    done = perfpilot("check", "--profile", "example.prof", "--threshold", "100", cwd=example)
    assert done.returncode == 0 and findings(done.stdout) == []
    low = findings(
        perfpilot("check", "--profile", "example.prof", "--threshold", "0.5", cwd=example).stdout
    )
    default = findings(perfpilot("check", "--profile", "example.prof", cwd=example).stdout)
    assert len(low) > len(default)


def test_paths_restrict_findings(example: Path) -> None:
    done = perfpilot("check", "--profile", "example.prof", "loganalyzer/parsing.py", cwd=example)
    paths = {f["path"] for f in findings(done.stdout) if f["code"] == "PP001"}
    assert paths == {"loganalyzer/parsing.py"}
    missing = perfpilot("check", "--profile", "example.prof", "nope/", cwd=example)
    assert missing.returncode == 2 and "nope/: no such file or directory" in missing.stderr


def test_json_output(example: Path) -> None:
    done = perfpilot("check", "--profile", "example.prof", "--output-format", "json", cwd=example)
    document = json.loads(done.stdout)
    first = document["findings"][0]
    assert first["code"] == "PP001" and first["filename"] == "loganalyzer/enrich.py"
    assert first["data"]["qualname"] == "edit_distance"
    assert first["data"]["self_percent"] <= first["data"]["total_percent"]
    assert first["data"]["calls"] > 1000


@pytest.fixture(scope="session")
def sarif_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The SARIF 2.1.0 schema, from Microsoft's npm package (no copy lives in this repo)."""
    cache = REPO / "tests" / ".cache"
    schema = cache / "package" / "lib" / "schemas" / "sarif-2.1.0-rtm.5.json"
    if not schema.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is needed to fetch the SARIF schema")
        cache.mkdir(parents=True, exist_ok=True)
        packed = subprocess.run(
            [npm, "pack", "@microsoft/jest-sarif@1.0.0-beta.0", "--silent"],
            cwd=cache,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert packed.returncode == 0, packed.stderr
        subprocess.run(["tar", "xzf", packed.stdout.strip()], cwd=cache, check=True)
    return json.loads(schema.read_text())


def test_sarif_validates_against_the_schema(example: Path, sarif_schema: dict[str, object]) -> None:
    import jsonschema

    done = perfpilot("check", "--profile", "example.prof", "--output-format", "sarif", cwd=example)
    document = json.loads(done.stdout)
    jsonschema.validate(document, sarif_schema)
    results = document["runs"][0]["results"]
    assert results and results[0]["ruleId"] == "PP001" and results[0]["level"] == "note"
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "loganalyzer/enrich.py"
    # A deliberately broken document must fail, or the validation above proves nothing.
    del document["runs"][0]["tool"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, sarif_schema)


def test_github_annotations(example: Path) -> None:
    done = perfpilot("check", "--profile", "example.prof", "--output-format", "github", cwd=example)
    lines = done.stdout.splitlines()
    assert lines and all(line.startswith("::") and "title=perfpilot (PP" in line for line in lines)
    assert lines[0].startswith("::notice title=perfpilot (PP001),")
    assert "file=loganalyzer/enrich.py,line=" in lines[0]


def test_run_profiles_and_reports(example: Path) -> None:
    done = perfpilot("check", "--run", " ".join(WORKLOAD), "--output-format", "json", cwd=example)
    assert done.returncode == 1, done.stderr
    # The program's own output must not corrupt the machine-readable findings.
    assert "== Summary ==" in done.stderr
    assert json.loads(done.stdout)["findings"][0]["data"]["qualname"] == "edit_distance"
    stored = list((example / ".perfpilot" / "profiles").glob("*.prof"))
    assert stored
    # With no flag, the newest stored profile is used.
    again = perfpilot("check", cwd=example)
    assert again.returncode == 1 and "`edit_distance`" in again.stdout


def test_failing_run_is_an_error(example: Path) -> None:
    (example / "broken.py").write_text("raise SystemExit(3)\n")
    done = perfpilot("check", "--run", "python3 broken.py", cwd=example)
    assert done.returncode == 2
    assert "exited with status 3" in done.stderr


def test_profile_passes_the_exit_status_on(example: Path) -> None:
    (example / "fails.py").write_text("import sys\nsum(range(10000))\nsys.exit(5)\n")
    done = perfpilot("profile", "-o", "fails.prof", "--", "python3", "fails.py", cwd=example)
    assert done.returncode == 5
    assert (example / "fails.prof").exists()
    refused = perfpilot("profile", "--", "ls", "-l", cwd=example)
    assert refused.returncode == 2 and "not a Python command" in refused.stderr


def test_pyproject_settings(example: Path, tmp_path: Path) -> None:
    root = tmp_path / "configured"
    shutil.copytree(example, root, ignore=shutil.ignore_patterns(".perfpilot"))
    (root / "profiles").mkdir()
    shutil.copy(example / "example.prof", root / "profiles" / "a.prof")
    (root / "pyproject.toml").write_text(
        "[tool.perfpilot]\nprofiles = ['profiles/*.prof']\nthreshold = 10.0\n"
    )
    done = perfpilot("check", cwd=root)
    found = findings(done.stdout)
    assert found and "at or above 10%" in done.stdout
    assert len(found) < len(
        findings(perfpilot("check", "--profile", "example.prof", cwd=example).stdout)
    )
    (root / "pyproject.toml").write_text("[tool.perfpilot]\nthreshold = 'high'\n")
    bad = perfpilot("check", cwd=root)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "threshold: expected a number" in bad.stderr


def hostile_profiles(tmp: Path, good: bytes) -> dict[str, bytes]:
    nested = b"[" * 200_000 + b"]" * 200_000
    huge_list = b"{" + bytes([0x29, 3]) + b"[" + (2**31 - 1).to_bytes(4, "little")
    return {
        "empty.prof": b"",
        "truncated.prof": good[: len(good) // 2],
        "code.prof": marshal.dumps(compile("x = 1", "x", "exec")),
        "huge.prof": huge_list,
        "nested.json": nested,
        "garbage.bin": os.urandom(4096),
        "wrongshape.prof": marshal.dumps({("a.py", 1, "f"): (1, 2)}),
        "text.txt": b"hello world\nthis is not a profile\n",
    }


def test_bad_profiles_give_one_located_line_and_status_2(example: Path, tmp_path: Path) -> None:
    good = (example / "example.prof").read_bytes()
    for name, data in hostile_profiles(tmp_path, good).items():
        path = tmp_path / name
        path.write_bytes(data)
        done = perfpilot("check", "--profile", str(path), cwd=example)
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, (name, done.stderr)
        assert done.stderr.count("\n") == 1 and str(path) in done.stderr, (name, done.stderr)
    missing = perfpilot("check", "--profile", "does-not-exist.prof", cwd=example)
    assert missing.returncode == 2 and "does-not-exist.prof: no such file" in missing.stderr
    directory = perfpilot("check", "--profile", str(tmp_path), cwd=example)
    assert directory.returncode == 2 and "is a directory" in directory.stderr


def test_no_profile_at_all_explains_where_profiles_come_from(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    done = perfpilot("check", cwd=tmp_path)
    assert done.returncode == 2 and "--profile FILE or --run CMD" in done.stderr


def test_foreign_profile_needs_a_mapping_and_says_so(example: Path, tmp_path: Path) -> None:
    """A profile recorded in a container under /app: suffix matching still finds the files."""
    workspace = tmp_path / "ws"
    shutil.copytree(example, workspace, ignore=shutil.ignore_patterns(".perfpilot", "*.prof"))
    container = tmp_path / "container" / "app"
    shutil.copytree(REPO / "examples", container, ignore=shutil.ignore_patterns("__pycache__"))
    profile = tmp_path / "foreign.prof"
    done = perfpilot("profile", "-o", str(profile), "--", *WORKLOAD, cwd=container)
    assert done.returncode == 0, done.stderr
    mapped = perfpilot("check", "--profile", str(profile), cwd=workspace)
    assert "`edit_distance`" in mapped.stdout and "PP901" not in mapped.stdout
    # Rename the package: suffixes no longer match, and perfpilot says so instead of going quiet.
    (workspace / "loganalyzer").rename(workspace / "logtool")
    lost = perfpilot("check", "--profile", str(profile), cwd=workspace)
    assert "PP901" in lost.stdout and "`edit_distance`" not in lost.stdout
    with_mapping = perfpilot(
        "check",
        "--profile",
        str(profile),
        "--path-mapping",
        f"{container}/loganalyzer=logtool",
        cwd=workspace,
    )
    assert "`edit_distance`" in with_mapping.stdout


@pytest.mark.slow
def test_py_spy_sampler_end_to_end(example: Path) -> None:
    done = perfpilot(
        "profile",
        "--sampler",
        "py-spy",
        "-o",
        "spy.speedscope.json",
        "--",
        # The default workload (~1 s, ~200 samples): the short one gives a sampler too few.
        "python3",
        "workload.py",
        cwd=example,
    )
    if done.returncode != 0 and "ermission" in done.stderr:
        pytest.skip(f"py-spy cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    checked = perfpilot(
        "check", "--profile", "spy.speedscope.json", "--output-format", "json", cwd=example
    )
    document = json.loads(checked.stdout)
    hot = [f for f in document["findings"] if f["code"] == "PP001"]
    ranked = [f["data"]["qualname"] for f in hot]
    # Sampling is noisy on a loaded machine: the recursive hot spot must lead, give or take one.
    assert "edit_distance" in ranked[:2], ranked
    first = hot[ranked.index("edit_distance")]
    assert first["data"]["calls"] is None  # a sampler cannot count calls
    enrich = (example / "loganalyzer" / "enrich.py").read_text().splitlines()
    hot_lines = [entry["line"] for entry in first["data"]["hot_lines"]]
    start = def_line_of(example / "loganalyzer/enrich.py", "edit_distance")
    assert all(start <= line <= len(enrich) for line in hot_lines) and hot_lines


def test_a_plugin_transform_that_fails_to_import_is_reported_once(
    example: Path, tmp_path: Path
) -> None:
    """Skills load lazily in check: a broken installed transform is still one warning line."""
    site = tmp_path / "site"
    skill = site / "acme_perf" / "acme-broken"
    skill.mkdir(parents=True)
    (site / "acme_perf" / "__init__.py").write_text("")
    (skill / "SKILL.md").write_text(
        "---\nname: acme-broken\ndescription: Use it in loops.\nmetadata:\n  code: PP171\n"
        '  applicability: unsafe\n  kind: offense\n  trigger: "for"\n---\n# Body\nWords.\n'
    )
    (skill / "transform.py").write_text("import nonexistent_module_xyz\n")
    dist = site / "acme_perf-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-perf\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[perfpilot.skills]\nacme = acme_perf\n")
    done = subprocess.run(
        [*PERFPILOT, "check", "--profile", "example.prof"],
        cwd=example,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert done.returncode == 1, done.stderr  # the other skills' and PP001 findings stand
    assert any(f["code"] == "PP001" for f in findings(done.stdout))
    warnings = [line for line in done.stderr.splitlines() if "nonexistent_module_xyz" in line]
    assert len(warnings) == 1, done.stderr
    assert warnings[0].startswith("perfpilot: warning: skill ") and "import failed" in warnings[0]
    assert "Traceback" not in done.stderr
