"""`perfpilot check` holds back a skill measured below 1.05x on the corpus: --include-unproven
offers it, a fix verified faster on its function is offered anyway, a project may only say no."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_check import perfpilot
from tests.skills.unproven_package import CODE, make_skill_package

KNOWN = ", ".join(f'"k{i}"' for i in range(40))
# PP103 (the built-in set-membership) is suppressed on the line: only the package's copy of
# it, the unproven PP197, fires there.
SHOP = f'''def count_known(items: list[str]) -> int:
    """Count the items that are known names."""
    total = 0
    for item in items:
        if item in [{KNOWN}]:  # perfpilot: ignore[PP103]
            total += 1
    return total
'''
MAIN = """from shop import count_known

for round in range(60):
    count_known([f"k{(i * 7 + round) % 90}" for i in range(400)])
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's cache and config folders (the capture key) for the whole module."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(autouse=True)
def private_cache(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test sees the captures the module's fixture made (signed with this key)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("PERFPILOT_CONFIG")  # a new user's: no opt-in (tests/conftest.py)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, home: Path) -> Iterator[Path]:
    """A workspace profiled and captured once, with the skill package on PYTHONPATH."""
    site = make_skill_package(tmp_path_factory.mktemp("site"))
    root = tmp_path_factory.mktemp("shop")
    (root / "shop.py").write_text(SHOP)
    (root / "main.py").write_text(MAIN)
    (root / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home / "cache"))
        patch.setenv("XDG_CONFIG_HOME", str(home / "config"))
        patch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
        done = perfpilot("profile", "--", sys.executable, "main.py", cwd=root)
        assert done.returncode == 0, done.stderr
        done = perfpilot(
            "capture",
            "--functions",
            "shop.py::count_known",
            "--",
            sys.executable,
            "main.py",
            cwd=root,
        )
        assert done.returncode == 0 and "captured" in done.stderr, done.stderr
        yield root


def codes(stdout: str) -> list[str]:
    return [f["code"] for f in json.loads(stdout)["findings"]]


def copy_of(shop: Path, tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    return root


def test_check_holds_back_the_unproven_skill_in_every_format(shop: Path) -> None:
    done = perfpilot("check", "--output-format", "json", cwd=shop)
    assert done.returncode == 1, done.stderr
    assert "PP001" in codes(done.stdout) and CODE not in codes(done.stdout)
    for fmt in ("sarif", "github", "text"):
        shown = perfpilot("check", "--output-format", fmt, cwd=shop)
        assert shown.returncode == 1 and CODE not in shown.stdout, (fmt, shown.stdout)
    assert "1 held back (skill measured below 1.05x" in shown.stdout  # the text summary
    assert json.loads(done.stdout)["fixes"]["unproven"] == 1
    done = perfpilot("check", "--include-unproven", "--output-format", "json", cwd=shop)
    (mine,) = [f for f in json.loads(done.stdout)["findings"] if f["code"] == CODE]
    assert mine["data"]["estimate"] == "skill median on the corpus (6 fixes)"
    assert "skill median on the corpus (6 fixes)" in mine["message"]
    assert (
        CODE
        in perfpilot("check", "--include-unproven", "--output-format", "sarif", cwd=shop).stdout
    )


def test_fix_leaves_the_unproven_skill_out_unless_asked(shop: Path, tmp_path: Path) -> None:
    root = copy_of(shop, tmp_path)
    done = perfpilot("check", "--fix", "--unsafe-fixes", "--exit-zero", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "shop.py").read_text() == SHOP
    done = perfpilot("check", "--fix", "--unsafe-fixes", "--include-unproven", cwd=root)
    assert "item in {" in (root / "shop.py").read_text(), done.stdout + done.stderr


def test_a_fix_verified_faster_here_is_offered_and_ranked_by_its_measure(shop: Path) -> None:
    done = perfpilot("check", "--verify", "--budget", "2", "--output-format", "json", cwd=shop)
    assert done.returncode == 1, done.stderr
    mine = next((f for f in json.loads(done.stdout)["findings"] if f["code"] == CODE), None)
    assert mine is not None, done.stdout
    assert mine["data"]["verdict"]["kind"] == "faster", mine["message"]
    assert mine["data"]["estimate"] == "measured on this function"
    assert mine["data"]["speedup"] == pytest.approx(
        mine["data"]["verdict"]["speed"]["speedup"], abs=0.001
    )
    # A later `check` (another process, no --verify) knows the verdict: it is kept in the
    # user's cache, never in the workspace.
    later = perfpilot("check", "--output-format", "json", cwd=shop)
    kept = next((f for f in json.loads(later.stdout)["findings"] if f["code"] == CODE), None)
    assert kept is not None and kept["data"]["estimate"] == "measured on this function", (
        later.stdout + later.stderr
    )
    assert not list(shop.rglob("*verdict*"))


def test_a_saved_verdict_that_was_changed_is_ignored(shop: Path, home: Path) -> None:
    """A verdict can offer a held-back fix: one not signed with this user's key counts for
    nothing (a planted or edited file), and check says so."""
    done = perfpilot("verify", "shop.py::count_known", "--budget", "2", cwd=shop)
    assert done.returncode == 0, done.stdout + done.stderr
    (saved,) = (home / "cache" / "perfpilot" / "verdicts").iterdir()
    trusted = perfpilot("check", "--output-format", "json", cwd=shop)
    assert CODE in codes(trusted.stdout), trusted.stdout + trusted.stderr
    mac, _, body = saved.read_text().partition("\n")
    saved.write_text(mac + "\n" + body.replace('"faster"', '"faster" '))
    done = perfpilot("check", "--output-format", "json", cwd=shop)
    assert CODE not in codes(done.stdout)
    assert "not written by perfpilot for this user, or changed; ignored" in done.stderr
    saved.unlink()


def test_a_project_may_turn_the_opt_in_off_but_not_on(shop: Path, tmp_path: Path) -> None:
    root = copy_of(shop, tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text("[project]\nname = 'shop'\n[tool.perfpilot]\ninclude_unproven = false\n")
    done = perfpilot("check", "--include-unproven", "--output-format", "json", cwd=root)
    assert CODE not in codes(done.stdout)
    assert "--include-unproven ignored" in done.stderr
    pyproject.write_text("[project]\nname = 'shop'\n[tool.perfpilot]\ninclude_unproven = true\n")
    done = perfpilot("check", "--output-format", "json", cwd=root)
    assert CODE not in codes(done.stdout)
    assert "include_unproven = true ignored" in done.stderr


def test_the_users_config_file_may_opt_in(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config" / "perfpilot" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[skills]\ninclude_unproven = true\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert CODE in codes(perfpilot("check", "--output-format", "json", cwd=shop).stdout)
    config.write_text("[skills]\ninclude_unproven = 'yes'\n")
    done = perfpilot("check", "--output-format", "json", cwd=shop)
    assert CODE not in codes(done.stdout)
    assert "[skills] include_unproven: expected true or false" in done.stderr


def test_fix_verify_applies_it_where_it_was_measured_faster(shop: Path) -> None:
    # Last: it changes the module's workspace (captures belong to its path, not to a copy).
    done = perfpilot("check", "--fix", "--unsafe-fixes", "--verify", "--budget", "2", cwd=shop)
    assert "item in {" in (shop / "shop.py").read_text(), done.stdout + done.stderr
    assert "Applied 1 " in done.stdout, done.stdout
