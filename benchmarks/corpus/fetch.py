"""Fetch the real-code corpus: sdists from PyPI, unpacked, each in its own venv (editable).

    python benchmarks/corpus/fetch.py [LIBRARY ...]

Downloads into $PERFPILOT_CORPUS_DIR (default: benchmarks/corpus/.work, gitignored). The
library is installed editable from the unpacked sdist, so profiles point at those sources and
`check` can fix them; the sdist is kept so `--reset` can restore pristine sources.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import venv
from pathlib import Path

from corpus_config import Library, load_libraries, work_dir


def download_sdist(library: Library) -> Path:
    """Download the pinned sdist (no wheel: wheels lack the tests) and return its path."""
    folder = work_dir() / "sdists"
    folder.mkdir(parents=True, exist_ok=True)
    found = _find_sdist(folder, library)
    if found:
        return found
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(folder),
            f"{library.pypi}=={library.version}",
        ],
        check=True,
    )
    found = _find_sdist(folder, library)
    if not found:
        sys.exit(f"{library.name}: pip downloaded no sdist for {library.pypi}=={library.version}")
    return found


def _find_sdist(folder: Path, library: Library) -> Path | None:
    wanted = library.pypi.lower().replace("-", "_").replace(".", "_")
    for candidate in folder.glob("*.tar.gz"):
        stem = candidate.name[: -len(".tar.gz")]
        name, _, version = stem.rpartition("-")
        if (
            name.lower().replace("-", "_").replace(".", "_") == wanted
            and version == library.version
        ):
            return candidate
    return None


def unpack(library: Library, sdist: Path, reset: bool) -> None:
    """Unpack the sdist into the library's root (again when `reset`)."""
    if library.root.exists() and not reset:
        return
    shutil.rmtree(library.root, ignore_errors=True)
    library.root.parent.mkdir(parents=True, exist_ok=True)
    staging = library.root.parent / f".unpack-{library.name}"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(staging, filter="data")  # "data": no links out, no absolute paths
    (top,) = list(staging.iterdir())
    top.rename(library.root)
    staging.rmdir()


def install(library: Library) -> None:
    """Create the library's venv and install the library (editable) and its test deps."""
    marker = library.venv / ".perfpilot-installed"
    build_env = dict(library.build_env)
    stamp = f"{library.version} {' '.join(library.deps)}"  # a manifest change reinstalls
    if build_env:
        stamp += " " + " ".join(f"{key}={value}" for key, value in library.build_env)
    if marker.exists() and marker.read_text() == stamp:
        return
    venv.create(library.venv, with_pip=True, clear=True)
    pip = [str(library.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    env = {**os.environ, **build_env}
    subprocess.run([*pip, "-e", str(library.root), *library.deps], check=True, env=env)
    marker.write_text(stamp)


def main() -> int:
    """Fetch, unpack and install every library named (all by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("libraries", nargs="*", help="names from manifest.toml (default: all)")
    parser.add_argument("--reset", action="store_true", help="unpack pristine sources again")
    args = parser.parse_args()
    for library in load_libraries(args.libraries):
        print(f"{library.name} {library.version}: fetching", flush=True)
        unpack(library, download_sdist(library), args.reset)
        install(library)
        print(f"{library.name} {library.version}: ready in {library.root}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
