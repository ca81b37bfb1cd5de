"""Record runs into the history: profile a command N times, or import existing profiles."""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from perfpilot.tools.config import PathMapping
from perfpilot.tools.defense.figures import run_from_profile
from perfpilot.tools.defense.history import History, Run
from perfpilot.tools.defense.repo import GitState, describe, git_state, resolve
from perfpilot.tools.profiles import load_profile
from perfpilot.tools.profiling import ProfilingError, run_profiled
from perfpilot.tools.source_index import WorkspaceIndex


def profile_runs(
    command: Sequence[str],
    cwd: Path,
    root: Path,
    *,
    workload: str,
    repeat: int,
    sampler: str = "cprofile",
    git: GitState | None = None,
    mappings: tuple[PathMapping, ...] = (),
    stdout: TextIO | int | None = None,
    clock: str = "cpu",
) -> list[Run]:
    """Run `command` `repeat` times under the profiler in `cwd`; return the runs (not stored).

    Profiles go to a private temporary folder and are deleted once read: the history holds
    the figures. A run whose program fails is an error, not a data point. cProfile runs
    are timed in process CPU time by default (see tools.profiling.CLOCKS: preemption on a
    busy machine would otherwise scatter the shares that detection compares).
    """
    git = git or git_state(root)
    index = WorkspaceIndex(str(root))
    scratch = Path(tempfile.mkdtemp(prefix="perfpilot-record-"))
    runs = []
    try:
        for number in range(repeat):
            suffix = ".speedscope.json" if sampler == "py-spy" else ".prof"
            output = scratch / f"run{number}{suffix}"
            done = run_profiled(
                command, cwd, sampler, output, stdout=stdout or sys.stderr, clock=clock
            )
            if done.returncode != 0:
                raise ProfilingError(
                    f"`{shlex.join(command)}` exited with status {done.returncode}"
                    f" (run {number + 1} of {repeat}); nothing was recorded"
                )
            profile = load_profile(output)
            if profile.duration is None:
                profile.duration = done.seconds
            runs.append(
                run_from_profile(
                    profile, root, workload=workload, command=shlex.join(command), git=git,
                    mappings=mappings, index=index,
                )
            )  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return runs


def import_profiles(
    paths: Sequence[str],
    root: Path,
    *,
    workload: str,
    commit: str | None,
    mappings: tuple[PathMapping, ...] = (),
) -> list[Run]:
    """Runs built from existing profile files, attributed to `commit` (default: the tree's)."""
    if commit is not None:
        sha = resolve(root, commit)
        git = GitState(sha, False, None)
        describe(root, sha)  # fails early, with the ref's name, for an unknown commit
    else:
        git = git_state(root)
    index = WorkspaceIndex(str(root))
    runs = []
    for path in paths:
        profile = load_profile(path)
        runs.append(
            run_from_profile(
                profile, root, workload=workload, command=f"import {path}", git=git,
                mappings=mappings, index=index,
            )
        )  # fmt: skip
    return runs


def store(history: History, runs: Sequence[Run]) -> list[int]:
    """Store runs; return their ids."""
    return [history.add_run(run) for run in runs]
