"""Shared paths and the manifest of the real-code corpus (used by fetch.py and run.py)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MANIFEST = HERE / "manifest.toml"
WORKLOADS = HERE / "workloads"


def work_dir() -> Path:
    """Where sdists, sources and venvs live: $PERFPILOT_CORPUS_DIR or the gitignored `.work`."""
    return Path(os.environ.get("PERFPILOT_CORPUS_DIR") or HERE / ".work").resolve()


@dataclass(frozen=True)
class Library:
    """One corpus library as the manifest describes it."""

    name: str
    pypi: str
    version: str
    source: str
    deps: tuple[str, ...]
    tests: tuple[str, ...]
    deselect: tuple[str, ...]
    build_env: tuple[tuple[str, str], ...] = ()  # env vars for building the sdist (e.g. no C ext)

    @property
    def root(self) -> Path:
        """The unpacked sdist."""
        return work_dir() / "src" / f"{self.name}-{self.version}"

    @property
    def package_dir(self) -> Path:
        """The library's own sources, which `check` looks at."""
        return self.root / self.source

    @property
    def venv(self) -> Path:
        """The library's venv."""
        return work_dir() / "venvs" / self.name

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    @property
    def workload(self) -> Path:
        """The workload script."""
        return WORKLOADS / f"{self.name}_workload.py"  # not <name>.py: it would shadow the library

    def test_command(self) -> list[str]:
        """The offline test command, deselects included."""
        command = [str(self.python), *self.tests]
        for node in self.deselect:
            command += ["--deselect", node]
        return command


def load_libraries(only: list[str] | None = None) -> list[Library]:
    """Read the manifest; `only` picks libraries by name (unknown names exit 2)."""
    with MANIFEST.open("rb") as handle:
        table = tomllib.load(handle)["libraries"]
    unknown = sorted(set(only or ()) - set(table))
    if unknown:
        sys.exit(f"unknown corpus libraries: {', '.join(unknown)} (known: {', '.join(table)})")
    return [
        Library(
            name=name,
            pypi=entry["pypi"],
            version=entry["version"],
            source=entry["source"],
            deps=tuple(entry.get("deps", ())),
            tests=tuple(entry["tests"]),
            deselect=tuple(entry.get("deselect", ())),
            build_env=tuple(sorted(entry.get("build_env", {}).items())),
        )
        for name, entry in table.items()
        if not only or name in only
    ]
