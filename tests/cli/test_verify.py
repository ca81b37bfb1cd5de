"""`perfpilot profile --capture`, `verify`, `check --verify` and `check --fix --verify`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.cli.test_check import perfpilot
from tests.conftest import REPO

VERDICTS = ("faster:", "not faster:", "differs ", "nondeterministic:", "unverified:")
SHOP = '''def count_known(items: list[str], known: list[str]) -> int:
    """Count the items that are in `known`."""
    total = 0
    for item in items:
        if item in known:
            total += 1
    return total
'''
SHOP_MAIN = """from shop import count_known

KNOWN = [f"k{i}" for i in range(200)]
for round in range(40):
    print(count_known([f"k{(i * 7 + round) % 400}" for i in range(300)], KNOWN))
"""


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example, profiled and captured by `perfpilot profile --capture` (one real run each)."""
    home = tmp_path_factory.mktemp("home")
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(
        REPO / "examples", root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home / "cache"))
        patch.setenv("XDG_CONFIG_HOME", str(home / "config"))
        done = perfpilot(
            "profile",
            "--capture",
            "--top",
            "6",
            "--",
            sys.executable,
            "workload.py",
            "--lines",
            "3000",
            cwd=root,
        )
    assert done.returncode == 0, done.stderr
    assert "captured 256 of" in done.stderr and "loganalyzer workload" in done.stdout
    return root, home


def _use(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


def test_every_fix_opportunity_of_the_example_gets_a_verdict(
    captured: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, home = captured
    _use(home, monkeypatch)
    done = perfpilot("verify", "--budget", "1", cwd=root)
    assert done.returncode == 0, done.stderr
    lines = [x for x in done.stdout.splitlines() if ": PP1" in x]
    # As many verdicts as `check` reports fix opportunities on the same profile.
    check = perfpilot("check", "--output-format", "json", "--exit-zero", cwd=root)
    findings = json.loads(check.stdout)["findings"]
    opportunities = [f for f in findings if f["code"].startswith("PP1")]
    assert len(lines) == len(opportunities) >= 2, done.stdout
    for line in lines:
        assert any(v in line for v in VERDICTS), line
    assert "edit_distance" in done.stdout and "recorded call" in done.stdout
    assert done.stdout.splitlines()[-1].startswith(f"Verified {len(lines)} fixes:")


def test_check_verify_puts_verdicts_in_json_and_fix_applies_only_faster_ones(
    captured: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, home = captured
    _use(home, monkeypatch)
    done = perfpilot("check", "--verify", "--budget", "1", "--output-format", "json", cwd=root)
    assert done.returncode == 1, done.stderr
    offense = [f for f in json.loads(done.stdout)["findings"] if f["code"].startswith("PP1")]
    assert offense and all("verdict" in f["data"] or "refusal" in f["data"] for f in offense)
    verdicts = [f["data"]["verdict"] for f in offense if "verdict" in f["data"]]
    assert verdicts and all(v["summary"] and v["kind"] for v in verdicts)
    done = perfpilot("check", "--verify", "--budget", "1", "--output-format", "github", cwd=root)
    annotations = [x for x in done.stdout.splitlines() if "::PP1" in x]
    assert annotations, done.stdout
    assert all("[verify: " in x or "[not verified: " in x for x in annotations), done.stdout
    assert any("[verify: " in x for x in annotations)
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    done = perfpilot("check", "--fix", "--unsafe-fixes", "--verify", "--budget", "1", cwd=root)
    held = [x for x in done.stdout.splitlines() if x.startswith("  not applied:")]
    applied = int(done.stdout.split("Applied ")[1].split()[0])
    assert held and applied + len(held) >= 2, done.stdout
    for line in held:  # each with its verdict and figure
        assert "not faster:" in line or "unverified:" in line or "nondeterministic" in line
    changed = [p for p, data in before.items() if p.read_bytes() != data]
    assert len(changed) <= applied


def test_check_fix_verify_applies_a_fix_verified_faster(tmp_path: Path) -> None:
    root = tmp_path / "shop-ws"
    root.mkdir()
    (root / "shop.py").write_text(SHOP)
    (root / "main.py").write_text(SHOP_MAIN)
    (root / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    done = perfpilot(
        "capture", "--functions", "shop.py::count_known", "--", sys.executable, "main.py", cwd=root
    )
    assert done.returncode == 0 and "captured 40 of 40 calls" in done.stderr, done.stderr
    done = perfpilot(
        "check", "--all", "--fix", "--unsafe-fixes", "--verify", "--budget", "2", cwd=root
    )
    assert "Applied 1 safe and unsafe fix" in done.stdout, done.stdout + done.stderr
    assert "known_set = set(known)" in (root / "shop.py").read_text()
