"""The built wheel holds every module under perfpilot/ and nothing else, and works installed."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = {"server": "perfpilot/server", "tools": "perfpilot/tools", "skills": "perfpilot/skills"}


def source_modules() -> set[str]:
    """Every module file of the source tree, as it must appear inside the wheel."""
    expected = set()
    for folder, installed in PACKAGES.items():
        for path in (REPO / folder).rglob("*.py"):
            if "__pycache__" not in path.parts:
                relative = path.relative_to(REPO / folder).as_posix()
                expected.add(f"{installed}/{relative}")
    return expected


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (built,) = out.glob("perfpilot-*.whl")
    return built


@pytest.mark.slow
def test_wheel_holds_every_module_and_nothing_outside_perfpilot(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    outside = {n for n in names if not n.startswith(("perfpilot/", "perfpilot-"))}
    assert not outside, outside
    missing = source_modules() - names
    assert not missing, f"modules absent from the wheel (add their package to pyproject): {missing}"
    assert "perfpilot/tools/profiles/profile.proto" in names
    skill_texts = {
        f"perfpilot/skills/{p.parent.name}/SKILL.md" for p in (REPO / "skills").glob("*/SKILL.md")
    }
    assert skill_texts and not skill_texts - names, skill_texts - names


@pytest.mark.slow
def test_installed_wheel_imports_every_module_and_runs(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    modules = sorted(
        name[: -len(".py")].replace("/", ".").removesuffix(".__init__")
        for name in zipfile.ZipFile(wheel).namelist()
        if name.endswith(".py")
        and not name.endswith("__main__.py")
        # Skill folders are kebab-case: their transforms load by path (checked below).
        and "-" not in name.split("/")[-2]
    )
    # Run from an empty folder with folders named like ours, so nothing resolves to the checkout.
    (tmp_path / "tools").mkdir()
    (tmp_path / "server").mkdir()
    script = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    imported = subprocess.run(
        [str(python), "-c", script, *modules], cwd=tmp_path, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    where = subprocess.run(
        [str(python), "-c", "import perfpilot.tools.model as m; print(m.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert str(env_dir) in where.stdout
    cli = subprocess.run(
        [str(env_dir / "bin" / "perfpilot"), "--version"], capture_output=True, text=True
    )
    assert cli.returncode == 0 and cli.stdout.startswith("perfpilot ")
    listed = subprocess.run(
        [str(env_dir / "bin" / "perfpilot"), "skills"], cwd=tmp_path, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    for skill in (REPO / "skills").glob("*/transform.py"):
        line = next(x for x in listed.stdout.splitlines() if skill.parent.name in x)
        assert "transform" in line, line
