"""Run a Python command under a profiler and store the profile in the workspace."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from perfpilot.tools.config import ConfigError, workspace_profiles_dir

SAMPLERS = ("cprofile", "py-spy")
_EXTENSIONS = {"cprofile": ".prof", "py-spy": ".speedscope.json"}


# Runs the target under cProfile like `python -m cProfile -o OUT` does, but lets the program's
# exit status through (cProfile's own main swallows SystemExit) and writes the profile even
# when the program fails. Inline, because the target interpreter may not have perfpilot.
_CPROFILE_BOOTSTRAP = """\
import cProfile, os, runpy, sys
output, mode, target = sys.argv[1:4]
sys.argv = [target, *sys.argv[4:]]
if mode == "script":
    sys.path[0] = os.path.dirname(os.path.abspath(target))
else:
    sys.path[0] = os.getcwd()
profiler = cProfile.Profile()
profiler.enable()
try:
    if mode == "script":
        runpy.run_path(target, run_name="__main__")
    else:
        runpy.run_module(target, run_name="__main__", alter_sys=True)
finally:
    profiler.disable()
    profiler.dump_stats(output)
"""


class ProfilingError(Exception):
    """The command could not be profiled (not a Python command, profiler missing, ...)."""


@dataclass(frozen=True, slots=True)
class ProfileRun:
    """The outcome of one profiled run."""

    output: Path
    returncode: int
    seconds: float
    command: tuple[str, ...]


def default_output(root: Path, sampler: str) -> Path:
    """Return `.perfpilot/profiles/<timestamp>.<ext>` under `root`, unique even within a second.

    ProfilingError when that folder is a link out of the workspace.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        directory = workspace_profiles_dir(root)
    except ConfigError as exc:
        raise ProfilingError(str(exc)) from None
    candidate = directory / f"{stamp}{_EXTENSIONS[sampler]}"
    counter = 1
    while os.path.lexists(candidate):  # a dangling link counts: the profiler would follow it
        candidate = directory / f"{stamp}-{counter}{_EXTENSIONS[sampler]}"
        counter += 1
    return candidate


def profiler_command(command: Sequence[str], sampler: str, output: Path) -> list[str]:
    """Build the argv that runs `command` under `sampler`, writing to `output`."""
    if not command:
        raise ProfilingError("no command to profile")
    if sampler == "py-spy":
        py_spy = shutil.which("py-spy") or _beside_interpreter("py-spy")
        if py_spy is None:
            raise ProfilingError("py-spy is not installed (pip install 'perfpilot[sampling]')")
        # 200 Hz rather than py-spy's 100: short workloads still get enough samples, and the
        # sampler runs out of process, so the program does not slow down.
        record = [py_spy, "record", "--rate", "200", "--format", "speedscope"]
        return [*record, "--output", str(output), "--", *command]
    if sampler != "cprofile":
        raise ProfilingError(f"unknown sampler {sampler!r} (choose from {', '.join(SAMPLERS)})")
    return bootstrap_command(list(command), ["-c", _CPROFILE_BOOTSTRAP, str(output)])


def run_profiled(
    command: Sequence[str],
    cwd: Path,
    sampler: str = "cprofile",
    output: Path | None = None,
    stdout: TextIO | None = None,
) -> ProfileRun:
    """Run `command` in `cwd` under the profiler; its output goes to `stdout` (default: ours)."""
    target, argv = _prepare(command, cwd, sampler, output)
    started = time.perf_counter()
    try:
        completed = subprocess.run(argv, cwd=cwd, check=False, stdout=stdout)
    except OSError as exc:
        raise ProfilingError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - started
    if not target.is_file():
        raise ProfilingError(
            f"the profiler wrote no profile (command exited with status {completed.returncode})"
        )
    return ProfileRun(target, completed.returncode, seconds, tuple(command))


async def run_profiled_async(
    command: Sequence[str], cwd: Path, sampler: str = "cprofile", output: Path | None = None
) -> tuple[ProfileRun, str]:
    """Like `run_profiled`, for an event loop: returns the run and the program's output tail.

    Cancelling the awaiting task kills the program (and its profiler) before re-raising.
    """
    target, argv = _prepare(command, cwd, sampler, output)
    started = time.perf_counter()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
    except OSError as exc:
        raise ProfilingError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    try:
        output_bytes, _ = await process.communicate()
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        raise
    seconds = time.perf_counter() - started
    tail = output_bytes.decode("utf-8", "replace")[-2000:]
    returncode = process.returncode if process.returncode is not None else -1
    if not target.is_file():
        raise ProfilingError(
            f"the profiler wrote no profile (command exited with status {returncode}): "
            + tail.strip()[-300:]
        )
    return ProfileRun(target, returncode, seconds, tuple(command)), tail


def _prepare(
    command: Sequence[str], cwd: Path, sampler: str, output: Path | None
) -> tuple[Path, list[str]]:
    """The profile's path (created folder) and the argv that writes it."""
    target = output or default_output(cwd, sampler)
    target = target if target.is_absolute() else cwd / target
    argv = profiler_command(command, sampler, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target, argv


def bootstrap_command(command: list[str], bootstrap: list[str]) -> list[str]:
    """The argv that runs a Python `command` through `bootstrap` (interpreter arguments).

    The bootstrap gets `script PATH` or `module NAME`, then the program's own arguments.
    """
    head = command[0]
    if _is_python(head):
        interpreter, rest = head, command[1:]
        flags = []
        # Interpreter options (-X dev, -O, -W error) stay before `-m cProfile`.
        while rest and rest[0].startswith("-") and rest[0] not in ("-m", "-c"):
            option = rest.pop(0)
            flags.append(option)
            if option in ("-X", "-W") and rest:
                flags.append(rest.pop(0))
        if rest and rest[0] == "-c":
            raise ProfilingError("`python -c` cannot be run this way; put the code in a file")
        if not rest or rest == ["-m"]:
            raise ProfilingError("no script or module to run after the interpreter")
        if rest[0] == "-m":
            return [interpreter, *flags, *bootstrap, "module", *rest[1:]]
        return [interpreter, *flags, *bootstrap, "script", *rest]
    if head.endswith(".py"):
        return [sys.executable, *bootstrap, "script", *command]
    script = shutil.which(head)
    interpreter = _shebang_interpreter(script) if script else None
    if script and interpreter:
        # A console script such as `pytest`: run its file under the interpreter it names.
        return [interpreter, *bootstrap, "script", script, *command[1:]]
    raise ProfilingError(
        f"{head!r} is not a Python command; use `python script.py`, `python -m module`,"
        " a .py file, or --sampler py-spy for any program"
    )


def _is_python(executable: str) -> bool:
    name = os.path.basename(executable).lower()
    return name.startswith(("python", "pypy")) and not name.endswith(".py")


def _shebang_interpreter(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            first = handle.readline(500)
    except OSError:
        return None
    if not first.startswith(b"#!") or b"python" not in first:
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if words and os.path.basename(words[0]) == "env" and len(words) > 1:
        return shutil.which(words[1])
    return words[0] if words else None


def _beside_interpreter(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() else None
