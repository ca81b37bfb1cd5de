"""Can a mapped profile be trusted? Time in the checked code, and enough samples for its shares."""

from __future__ import annotations

import math
from collections.abc import Sequence

from perfpilot.tools.mapping import MappingResult
from perfpilot.tools.model import Finding, Profile, Severity

FEW_SAMPLES = "PP903"
# Under this many samples a share's 95 % interval is wider than about ±3 points: worth saying.
FEW_SAMPLES_THRESHOLD = 1000
# z for a two-sided 95 % interval.
_Z95 = 1.959963984540054


def sample_count(profile: Profile) -> int | None:
    """How many samples a sampled profile holds; None for tracing profiles or unknown counts."""
    if profile.samples is not None:
        return profile.samples
    if profile.unit != "samples" or profile.total <= 0:
        return None
    return round(profile.total)  # collapsed stacks, pprof counts: the weights are samples


def wilson_interval(percent: float, samples: int) -> tuple[float, float]:
    """The Wilson 95 % interval of a share (percent) measured on `samples` samples, in percent.

    Samples of one run are not independent (a slow call spans many), so this is a lower bound
    on the real uncertainty; it is the standard first answer to "is 240 samples enough?".
    """
    if samples <= 0:
        return (0.0, 100.0)
    p = min(max(percent / 100.0, 0.0), 1.0)
    z2 = _Z95 * _Z95
    denominator = 1.0 + z2 / samples
    centre = (p + z2 / (2 * samples)) / denominator
    half = _Z95 * math.sqrt(p * (1 - p) / samples + z2 / (4 * samples * samples)) / denominator
    return (max(0.0, 100.0 * (centre - half)), min(100.0, 100.0 * (centre + half)))


def few_samples(profile: Profile) -> int | None:
    """The sample count when it is under FEW_SAMPLES_THRESHOLD, else None."""
    count = sample_count(profile)
    return count if count is not None and count < FEW_SAMPLES_THRESHOLD else None


def few_samples_finding(profile: Profile, profile_path: str) -> Finding | None:
    """PP903 on the profile when it holds too few samples for its shares to be precise."""
    count = few_samples(profile)
    if count is None:
        return None
    low, high = wilson_interval(10.0, count)
    return Finding(
        code=FEW_SAMPLES,
        message=(
            f"only {count:,} samples: each share is uncertain (a 10% share is"
            f" {low:.1f}-{high:.1f}% at 95%); profile a longer run or sample at a higher rate"
            f" for at least {FEW_SAMPLES_THRESHOLD:,}"
        ),
        path=profile_path,
        line=1,
        severity=Severity.WARNING,
        data={"samples": count, "threshold": FEW_SAMPLES_THRESHOLD},
    )


def amount(profile: Profile) -> str:
    """What a profile holds, for a person: `1.23 s`, `240 samples` or `100%` of shares."""
    if profile.unit == "seconds":
        total = profile.total
        return f"{total:.2f} s" if total >= 0.1 else f"{total * 1000:.1f} ms"
    if profile.unit == "samples":
        return f"{round(profile.total):,} samples"
    return f"{profile.total:g} {profile.unit}"


def no_checked_time(result: MappingResult, checked: Sequence[str]) -> str | None:
    """Why the profile cannot be checked when none of its time is in the checked functions.

    None when some time maps to a workspace function; `checked` names the folders whose code
    was looked for. The reason does not name the profile: the caller does.
    """
    if result.workspace_time > 0:
        return None
    profile = result.profile
    where = ", ".join(checked)
    head = f"none of its {amount(profile)} is in a function under {where}"
    if result.module_time > 0:
        head += f" (only module-level code ran there: {profile.share(result.module_time):.1f}%)"
    top = ", ".join(f"{file} {share:.0f}%" for file, share in top_files(profile, 3))
    if result.unmapped_paths:
        example = max(result.unmapped_paths, key=result.unmapped_paths.__getitem__)
        return (
            f"{head}; its source files (e.g. {example}) match no file there: for another"
            " project, pass its folder as PATH; for this one recorded elsewhere, add"
            f" --path-mapping FROM=TO (time is in: {top})"
        )
    if profile.total <= 0:
        return f"{head}; the profile holds no time at all: did the program run?"
    return (
        f"{head}; all of it is in the interpreter and libraries ({top}): the program probably"
        " failed before running this code, or the profile is of another project"
    )


def top_files(profile: Profile, count: int) -> list[tuple[str, float]]:
    """The files holding the most self time, with their shares (for error messages)."""
    by_file: dict[str, float] = {}
    stacks = profile.stacks
    if stacks is not None and stacks.stacks:
        for stack, weight in stacks.stacks.items():
            file = stacks.frames[stack[-1]].file
            by_file[file] = by_file.get(file, 0.0) + weight
    else:
        for key, stats in profile.functions.items():
            by_file[key.file] = by_file.get(key.file, 0.0) + stats.self_time
    ranked = sorted(by_file.items(), key=lambda kv: -kv[1])[:count]
    return [(_short(file), profile.share(time)) for file, time in ranked]


def _short(file: str) -> str:
    if file in ("~", ""):
        return "built-ins"
    if file.startswith("<"):
        return file
    return "/".join(file.replace("\\", "/").split("/")[-2:])
