"""Turn a loaded profile into a history `Run`: per-function figures plus where and how it ran."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
from pathlib import Path

from perfpilot.tools.config import PathMapping
from perfpilot.tools.defense.history import FunctionFigures, Run
from perfpilot.tools.defense.repo import GitState
from perfpilot.tools.mapping import map_profile
from perfpilot.tools.model import Profile
from perfpilot.tools.source_index import WorkspaceIndex

HOT_LINES_KEPT = 8


def machine_fingerprint() -> str:
    """A short stable id of this machine's kind: CPU model, core count, OS, architecture.

    Deliberately not the host name: two identical CI runners should compare as one machine.
    """
    cpu = _cpu_model()
    text = f"{platform.system()}|{platform.machine()}|{cpu}|{os.cpu_count()}"
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{platform.machine()}-{os.cpu_count()}cpu-{digest}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def sample_interval(profile: Profile) -> float | None:
    """How much of the profile's unit one stack sample is, for a sampling profile, else None.

    Counts matter because a single pair of sampled profiles is compared with a count test.
    py-spy's speedscope weights each sample by its interval, so the smallest stack weight is
    one sample.
    """
    if profile.unit == "samples":
        return 1.0
    if profile.samples and profile.total > 0:
        # The loader counted the samples: exact, where the smallest stack weight below is only
        # one sample if some stack happened to be seen once (aggregated stacks sum weights).
        return profile.total / profile.samples
    if profile.meta.get("flavour") == "py-spy" and profile.stacks and profile.stacks.stacks:
        return min(profile.stacks.stacks.values()) or None
    return None


def seconds_per_unit(profile: Profile) -> float | None:
    """How many seconds one unit of the profile is, when it can be known."""
    if profile.unit == "seconds":
        return 1.0
    if profile.unit == "samples" and profile.duration and profile.total > 0:
        return profile.duration / profile.total
    return None


def run_from_profile(
    profile: Profile,
    root: Path,
    *,
    workload: str,
    command: str,
    git: GitState,
    mappings: tuple[PathMapping, ...] = (),
    index: WorkspaceIndex | None = None,
    python: str | None = None,
) -> Run:
    """Map `profile` onto the workspace at `root` and build the Run to store."""
    index = index or WorkspaceIndex(str(root))
    result = map_profile(profile, index, mappings)
    interval = sample_interval(profile)
    functions: dict[str, FunctionFigures] = {}
    for mapped in result.functions.values():
        if mapped.own_time <= 0 and mapped.total_time <= 0:
            continue
        hot = sorted(mapped.line_times.items(), key=lambda kv: -kv[1])[:HOT_LINES_KEPT]
        figures = FunctionFigures(
            path=mapped.relpath,
            qualname=mapped.function.qualname,
            def_line=mapped.function.def_line,
            self_time=mapped.self_time,
            own=mapped.own_time,
            total=mapped.total_time,
            calls=mapped.calls,
            samples=round(mapped.own_time / interval) if interval else None,
            hot_lines=dict(hot),
            callees={k: v for k, v in mapped.callees.items() if not k.startswith("<")},
        )
        functions[figures.key] = figures
    return Run(
        workload=workload,
        command=command,
        commit=git.commit,
        dirty=git.dirty,
        branch=git.branch,
        recorded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        python=python or platform.python_version(),
        machine=machine_fingerprint(),
        profiler=profile.format,
        unit=profile.unit,
        total=profile.total,
        seconds_per_unit=seconds_per_unit(profile),
        duration=profile.duration,
        samples=round(profile.total / interval) if interval else None,
        source=profile.source,
        functions=functions,
    )
