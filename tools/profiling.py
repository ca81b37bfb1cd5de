"""Run a Python command under a profiler and store the profile in the workspace."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from perfpilot.tools.config import ConfigError, workspace_profiles_dir

SAMPLERS = ("cprofile", "py-spy")
_EXTENSIONS = {"cprofile": ".prof", "py-spy": ".speedscope.json"}
# Profiles of runs that failed go to this subfolder of the default folder: kept for a look
# (a test suite with one failure still ran), but out of "the newest profile" that `check` and
# the editors load, which only looks at the folder's own files.
FAILED_DIR = "failed"
KEEP_FAILED = 20


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
# The defense compares runs taken minutes or days apart, often on a busy CI machine: with the
# wall clock, whichever function was running when the OS preempted the program is charged for
# the wait, which scatters shares run to run. Process CPU time is not charged for that.
CLOCKS = ("wall", "cpu")
_CPU_PROFILER = "import time\nprofiler = cProfile.Profile(time.process_time)"

# py-spy exits 0 whatever its program did: a Python program runs under this wrapper, which
# writes the program's exit status to a private file, then exits as the program would.
_STATUS_BOOTSTRAP = """\
import os, runpy, sys
status_file, mode, target = sys.argv[1:4]
sys.argv = [target, *sys.argv[4:]]
if mode == "script":
    sys.path[0] = os.path.dirname(os.path.abspath(target))
else:
    sys.path[0] = os.getcwd()
status = 1
try:
    if mode == "script":
        runpy.run_path(target, run_name="__main__")
    else:
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    status = 0
except SystemExit as exc:
    code = exc.code
    status = 0 if code is None else code if isinstance(code, int) else 1
    raise
except KeyboardInterrupt:
    status = 130
    raise
finally:
    with open(status_file, "w") as handle:
        handle.write(str(status))
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
    # The run failed and its profile went to the FAILED_DIR subfolder (default output only).
    set_aside: bool = False


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


def profiler_command(
    command: Sequence[str],
    sampler: str,
    output: Path,
    status_file: Path | None = None,
    clock: str = "wall",
) -> list[str]:
    """Build the argv that runs `command` under `sampler`, writing to `output`.

    With py-spy and a `status_file`, a Python command runs under a wrapper that writes its
    exit status there (py-spy's own status says nothing about the program's).
    """
    if not command:
        raise ProfilingError("no command to profile")
    if sampler == "py-spy":
        py_spy = shutil.which("py-spy") or _beside_interpreter("py-spy")
        if py_spy is None:
            raise ProfilingError("py-spy is not installed (pip install 'perfpilot[sampling]')")
        # 200 Hz rather than py-spy's 100: short workloads still get enough samples, and the
        # sampler runs out of process, so the program does not slow down.
        record = [py_spy, "record", "--rate", "200", "--format", "speedscope"]
        wrapped = None
        if status_file is not None:
            try:
                wrapped = bootstrap_command(
                    list(command), ["-c", _STATUS_BOOTSTRAP, str(status_file)]
                )
            except ProfilingError:  # `python -c ...`: py-spy samples it as it is
                wrapped = None
        return [*record, "--output", str(output), "--", *(wrapped or command)]
    if sampler != "cprofile":
        raise ProfilingError(f"unknown sampler {sampler!r} (choose from {', '.join(SAMPLERS)})")
    if clock not in CLOCKS:
        raise ProfilingError(f"unknown clock {clock!r} (choose from {', '.join(CLOCKS)})")
    script = _CPROFILE_BOOTSTRAP
    if clock == "cpu":
        script = script.replace("profiler = cProfile.Profile()", _CPU_PROFILER)
    return bootstrap_command(list(command), ["-c", script, str(output)])


def set_aside(profile: Path, keep: int = KEEP_FAILED) -> Path:
    """Move the profile of a failed run into the FAILED_DIR subfolder; return its new path.

    Only the newest `keep` failed profiles stay: they are for a look, not an archive.
    """
    folder = profile.parent / FAILED_DIR
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        # A folder that came with the repository must not lead the move (or the pruning of
        # old files) elsewhere; the failed run's profile is not kept rather than chosen.
        profile.unlink(missing_ok=True)
        raise ProfilingError(f"its profile was not kept: {folder} is a link or not a folder")
    folder.mkdir(exist_ok=True)
    target = folder / profile.name
    counter = 1
    while target.exists():  # two failures in one second get the same timestamp
        target = folder / f"{counter}-{profile.name}"
        counter += 1
    os.replace(profile, target)
    ours = tuple(_EXTENSIONS.values())
    kept = sorted(
        (
            entry
            for entry in os.scandir(folder)
            if entry.is_file(follow_symlinks=False) and entry.name.endswith(ours)
        ),
        key=lambda entry: entry.stat(follow_symlinks=False).st_mtime_ns,
        reverse=True,
    )
    for old in kept[keep:]:
        os.unlink(old.path)
    return target


def run_profiled(
    command: Sequence[str],
    cwd: Path,
    sampler: str = "cprofile",
    output: Path | None = None,
    stdout: TextIO | None = None,
    root: Path | None = None,
    clock: str = "wall",
) -> ProfileRun:
    """Run `command` in `cwd` under the profiler; its output goes to `stdout` (default: ours).

    Without `output`, the profile goes to `root`'s (default: `cwd`'s) profile folder, or to its
    FAILED_DIR subfolder when the command fails. `clock` is cProfile's: "wall" or "cpu".
    """
    target, argv, status_file = _prepare(command, cwd, sampler, output, root, clock)
    started = time.perf_counter()
    try:
        completed = subprocess.run(argv, cwd=cwd, check=False, stdout=stdout)
    except OSError as exc:
        raise ProfilingError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    finally:
        returncode = _program_status(status_file)
    seconds = time.perf_counter() - started
    returncode = completed.returncode if returncode is None else returncode
    if not target.is_file():
        raise ProfilingError(
            f"the profiler wrote no profile (command exited with status {returncode})"
        )
    return _finished(target, returncode, seconds, command, aside=output is None)


async def run_profiled_async(
    command: Sequence[str], cwd: Path, sampler: str = "cprofile", output: Path | None = None
) -> tuple[ProfileRun, str]:
    """Like `run_profiled`, for an event loop: returns the run and the program's output tail.

    Cancelling the awaiting task kills the program (and its profiler) before re-raising.
    """
    target, argv, status_file = _prepare(command, cwd, sampler, output, None)
    started = time.perf_counter()
    try:
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
    finally:
        status = _program_status(status_file)
    seconds = time.perf_counter() - started
    tail = output_bytes.decode("utf-8", "replace")[-2000:]
    returncode = process.returncode if process.returncode is not None else -1
    returncode = returncode if status is None else status
    if not target.is_file():
        raise ProfilingError(
            f"the profiler wrote no profile (command exited with status {returncode}): "
            + tail.strip()[-300:]
        )
    return _finished(target, returncode, seconds, command, aside=output is None), tail


def _finished(
    target: Path, returncode: int, seconds: float, command: Sequence[str], aside: bool
) -> ProfileRun:
    """The run's record; a failed run's default-placed profile is moved out of discovery."""
    if returncode != 0 and aside:
        try:
            kept = set_aside(target)
        except ProfilingError as exc:
            raise ProfilingError(f"the command failed (exit status {returncode}); {exc}") from None
        return ProfileRun(kept, returncode, seconds, tuple(command), set_aside=True)
    return ProfileRun(target, returncode, seconds, tuple(command))


def _prepare(
    command: Sequence[str],
    cwd: Path,
    sampler: str,
    output: Path | None,
    root: Path | None,
    clock: str = "wall",
) -> tuple[Path, list[str], Path | None]:
    """The profile's path (created folder), the argv that writes it, and py-spy's status file."""
    target = output or default_output(root or cwd, sampler)
    target = target if target.is_absolute() else cwd / target
    status_file = None
    if sampler == "py-spy":
        handle, name = tempfile.mkstemp(prefix="perfpilot-status-")
        os.close(handle)
        status_file = Path(name)
    try:
        argv = profiler_command(command, sampler, target, status_file, clock)
    except ProfilingError:
        _program_status(status_file)
        raise
    target.parent.mkdir(parents=True, exist_ok=True)
    return target, argv, status_file


def _program_status(status_file: Path | None) -> int | None:
    """Read and remove the wrapper's status file; None when there is none or it is empty."""
    if status_file is None:
        return None
    try:
        text = status_file.read_text().strip()
    except OSError:
        return None
    finally:
        status_file.unlink(missing_ok=True)
    try:
        return int(text)
    except ValueError:
        return None


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
