"""Profiles that lie: failed runs, no checked time, few samples, other projects, moved code."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.cli.test_check import def_line_of, findings, perfpilot
from tests.conftest import REPO

SHORT_WORKLOAD = ["python3", "workload.py", "--lines", "1500"]
# Starts like a real program whose interpreter lacks a dependency: it fails at import.
MISSING_DEPENDENCY = "import no_such_dependency_for_perfpilot\n\nprint('never here')\n"


def copy_example(root: Path, pyproject: str = "[project]\nname = 'loganalyzer'\n") -> Path:
    shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(pyproject)
    return root


def stored(root: Path) -> list[Path]:
    """The profiles `check` may choose from: files directly in .perfpilot/profiles."""
    folder = root / ".perfpilot" / "profiles"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def one_error_line(done: object) -> str:
    stderr = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == 2, (done.stdout, stderr)  # type: ignore[attr-defined]
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    return stderr


def test_a_failed_run_never_becomes_the_profile_check_uses(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "example")
    good = perfpilot("profile", "--", *SHORT_WORKLOAD, cwd=root)
    assert good.returncode == 0, good.stderr
    (root / "app.py").write_text(MISSING_DEPENDENCY)
    failed = perfpilot("profile", "--", "python3", "app.py", cwd=root)
    # The program's own status (an uncaught ImportError exits 1), and a line that says so.
    assert failed.returncode == 1
    assert "failed (exit status 1)" in failed.stderr and "kept aside" in failed.stderr
    aside = list((root / ".perfpilot" / "profiles" / "failed").iterdir())
    assert len(aside) == 1 and aside[0].name in failed.stderr
    assert len(stored(root)) == 1
    # The next check uses the good profile, not the newer failed one.
    checked = perfpilot("check", cwd=root)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "`edit_distance`" in checked.stdout
    # Asked for by name, the failed run's profile is an error that says why.
    explicit = perfpilot("check", "--profile", str(aside[0]), cwd=root)
    message = one_error_line(explicit)
    assert aside[0].name in message and "none of its" in message
    assert re.search(r"none of its [\d.]+ m?s is in a function under ", message), message
    assert "failed before running this code" in message
    # check --run with a failing command: an error, and nothing new for the next check.
    run = perfpilot("check", "--run", "python3 app.py", cwd=root)
    assert run.returncode == 2 and "ModuleNotFoundError" in run.stderr  # the program's own
    last = run.stderr.splitlines()[-1]
    assert last.startswith("perfpilot: error: `python3 app.py` exited with status 1"), last
    assert len(stored(root)) == 1


def test_a_missing_script_is_not_a_profile(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "example")
    done = perfpilot("profile", "--", "python3", "nosuch.py", cwd=root)
    assert done.returncode != 0 and "kept aside" in done.stderr
    assert stored(root) == []
    nothing = perfpilot("check", cwd=root)
    assert "no profile" in one_error_line(nothing)


@pytest.mark.slow
def test_py_spy_passes_the_programs_exit_status_on(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "example")
    (root / "exits.py").write_text("import sys\nsum(range(3_000_000))\nsys.exit(4)\n")
    done = perfpilot("profile", "--sampler", "py-spy", "--", "python3", "exits.py", cwd=root)
    if done.returncode != 4 and "ermission" in done.stderr:
        pytest.skip(f"py-spy cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 4, done.stderr  # py-spy itself exits 0
    assert "failed (exit status 4)" in done.stderr and stored(root) == []
    fine = perfpilot("profile", "--sampler", "py-spy", "--", *SHORT_WORKLOAD, cwd=root)
    assert fine.returncode == 0, fine.stderr
    assert len(stored(root)) == 1


@pytest.mark.slow
def test_few_samples_say_how_uncertain_the_shares_are(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "example")
    workload = ["python3", "workload.py", "--lines", "8000"]  # about a second: ~200 samples
    done = perfpilot("profile", "--sampler", "py-spy", "-o", "spy.json", "--", *workload, cwd=root)
    if done.returncode != 0 and "ermission" in done.stderr:
        pytest.skip(f"py-spy cannot trace here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    taken = len(json.loads((root / "spy.json").read_text())["profiles"][0]["weights"])
    assert 0 < taken < 1000, taken  # a short run at 200 Hz

    text = perfpilot("check", "--profile", "spy.json", cwd=root)
    assert text.returncode == 1, text.stderr
    found = findings(text.stdout)
    notes = [f for f in found if f["code"] == "PP903"]
    assert len(notes) == 1, text.stdout
    # Samples with no Python frame (interpreter start-up, exit) are not in any share.
    counted = re.match(r"only (\d+) samples", notes[0]["msg"])
    assert counted, notes[0]["msg"]
    samples = int(counted.group(1))
    assert 0.5 * taken <= samples <= taken
    hot = [f for f in found if f["code"] == "PP001"]
    assert hot and all(re.search(r"own share [\d.]+-[\d.]+% at 95%", f["msg"]) for f in hot)
    assert f"{samples:,} samples" in text.stdout.splitlines()[-1]

    document = json.loads(
        perfpilot("check", "--profile", "spy.json", "--output-format", "json", cwd=root).stdout
    )
    assert document["samples"] == samples
    for finding in document["findings"]:
        if finding["code"] == "PP001":
            data = finding["data"]
            low, high = data["own_interval"]
            assert data["samples"] == samples and low <= data["own_percent"] <= high
            assert high - low > 2  # a 240-sample share is not known to a point
    sarif = json.loads(
        perfpilot("check", "--profile", "spy.json", "--output-format", "sarif", cwd=root).stdout
    )
    run = sarif["runs"][0]
    assert "PP903" in {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert any("at 95%" in r["message"]["text"] for r in run["results"] if r["ruleId"] == "PP001")

    # A tracing profile of the same program counts calls, not samples: no such warning.
    traced = perfpilot("profile", "-o", "traced.prof", "--", *SHORT_WORKLOAD, cwd=root)
    assert traced.returncode == 0, traced.stderr
    exact = perfpilot("check", "--profile", "traced.prof", cwd=root)
    assert "PP903" not in exact.stdout and "at 95%" not in exact.stdout


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two projects in one folder: `app` (the current one) and `lib`, profiled with cProfile."""
    base = tmp_path_factory.mktemp("side")
    app = base / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (app / "main.py").write_text("def main() -> int:\n    return 1\n")
    lib = copy_example(
        base / "lib", "[project]\nname = 'loganalyzer'\n\n[tool.perfpilot]\nthreshold = 5.0\n"
    )
    done = perfpilot("profile", "-o", str(base / "lib.prof"), "--", *SHORT_WORKLOAD, cwd=lib)
    assert done.returncode == 0, done.stderr
    return base


def test_paths_in_another_project_are_checked_there(side_by_side: Path) -> None:
    app, lib = side_by_side / "app", side_by_side / "lib"
    done = perfpilot("check", "--profile", "../lib.prof", "../lib", cwd=app)
    assert done.returncode == 1, done.stdout + done.stderr
    found = findings(done.stdout)
    assert "PP901" not in done.stdout and "PP902" not in done.stdout
    hot = [f for f in found if f["code"] == "PP001"]
    assert hot, done.stdout
    for finding in hot:  # each at its def line in lib's own files
        name = re.search(r"`(?:\w+\.)*(\w+)`", finding["msg"])[1]
        path = Path(finding["path"])
        assert path.is_relative_to(lib) and int(finding["line"]) == def_line_of(path, name)
    enrich = lib / "loganalyzer" / "enrich.py"
    # lib's own settings apply to lib's files (its threshold is 5%).
    assert "at or above 5%" in done.stdout.splitlines()[-1]
    # One file of the other project: only its findings.
    one = perfpilot("check", "--profile", "../lib.prof", "../lib/loganalyzer/enrich.py", cwd=app)
    assert one.returncode in (0, 1), one.stderr
    assert {f["path"] for f in findings(one.stdout)} <= {str(enrich)}


def test_a_nested_project_inside_the_current_one_uses_its_profiles(tmp_path: Path) -> None:
    """A monorepo: the profile is recorded at the top, PATH names a package with its own
    pyproject.toml; the package is checked as part of the top project, as before."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'mono'\n")
    package = tmp_path / "packages" / "spinner"
    package.mkdir(parents=True)
    (package / "pyproject.toml").write_text("[project]\nname = 'spinner'\n")
    (package / "work.py").write_text(
        "def spin(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n"
        "    return total\n\n\nif __name__ == '__main__':\n    spin(300_000)\n"
    )
    done = perfpilot("profile", "--", "python3", "packages/spinner/work.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    checked = perfpilot("check", "packages/spinner", cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    hot = [f for f in findings(checked.stdout) if f["code"] == "PP001"]
    assert [(f["path"], "`spin`" in f["msg"]) for f in hot] == [("packages/spinner/work.py", True)]
    assert "PP901" not in checked.stdout


def test_a_profile_with_no_time_in_the_checked_project_is_an_error(side_by_side: Path) -> None:
    app = side_by_side / "app"
    done = perfpilot("check", "--profile", "../lib.prof", cwd=app)
    message = one_error_line(done)
    assert "lib.prof" in message and f"in a function under {app}" in message
    assert "--path-mapping FROM=TO" in message and "pass its folder as PATH" in message
    assert "enrich.py" in message  # where its time is: the files the user can map
    # Even with --exit-zero: no data is not a pass.
    assert perfpilot("check", "--profile", "../lib.prof", "--exit-zero", cwd=app).returncode == 2


def test_functions_moved_by_a_safe_fix_are_found_at_their_new_place(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "example")
    done = perfpilot("profile", "-o", "example.prof", "--", *SHORT_WORKLOAD, cwd=root)
    assert done.returncode == 0, done.stderr
    parsing = root / "loganalyzer" / "parsing.py"
    before = def_line_of(parsing, "parse_line")
    # A low threshold, so that parse_line (PP105's target) is hot on a loaded machine too.
    fixed = perfpilot("check", "--profile", "example.prof", "--threshold", "0.5", "--fix", cwd=root)
    assert re.search(r"Applied [1-9]\d* safe fix", fixed.stdout), fixed.stdout + fixed.stderr
    after = def_line_of(parsing, "parse_line")
    assert after > before  # the fix inserted a module-level pattern above it
    again = perfpilot("check", "--profile", "example.prof", "--threshold", "0.5", cwd=root)
    assert "PP902" not in again.stdout, again.stdout
    moved = next(f for f in findings(again.stdout) if "`parse_line`" in f["msg"])
    assert moved["path"] == "loganalyzer/parsing.py" and int(moved["line"]) == after
    assert "moved since profile" in moved["msg"]
