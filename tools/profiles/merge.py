"""Merge several profiles of the same program into one."""

from __future__ import annotations

from collections.abc import Sequence

from perfpilot.tools.model import FunctionKey, FunctionStats, Profile, Stacks
from perfpilot.tools.profiles.stacks import StackBuilder


def merge_profiles(profiles: Sequence[Profile]) -> Profile:
    """Sum profiles into one; profiles in different units are each scaled to weigh the same.

    Summing seconds with samples would let whichever profile has the larger numbers win, so
    mixed units are normalized: every profile contributes its shares, and the result's unit
    is "relative" (its total is the number of profiles).
    """
    if not profiles:
        raise ValueError("merge_profiles needs at least one profile")
    if len(profiles) == 1:
        return profiles[0]
    units = {p.unit for p in profiles}
    same_unit = len(units) == 1
    scales = [1.0 if same_unit else (1.0 / p.total if p.total > 0 else 0.0) for p in profiles]

    functions: dict[FunctionKey, FunctionStats] = {}
    for profile, scale in zip(profiles, scales):
        for key, stats in profile.functions.items():
            _add_stats(functions.setdefault(key, FunctionStats(key=key)), stats, scale)

    builder: StackBuilder | None = None
    if all(p.stacks is not None for p in profiles):
        builder = StackBuilder()
        for profile, scale in zip(profiles, scales):
            assert profile.stacks is not None
            _add_stacks(builder, profile.stacks, scale)

    durations = [p.duration for p in profiles]
    counts = [p.samples for p in profiles]
    return Profile(
        format="+".join(dict.fromkeys(p.format for p in profiles)),
        unit=profiles[0].unit if same_unit else "relative",
        source=", ".join(p.source for p in profiles),
        total=sum(p.total * s for p, s in zip(profiles, scales)),
        duration=None if None in durations else sum(d for d in durations if d is not None),
        functions=functions,
        stacks=builder.stacks if builder else None,
        meta={"merged": str(len(profiles))},
        samples=None if None in counts else sum(c for c in counts if c is not None),
    )


def _add_stats(into: FunctionStats, stats: FunctionStats, scale: float) -> None:
    into.qualname = into.qualname or stats.qualname
    into.self_time += stats.self_time * scale
    into.total_time += stats.total_time * scale
    if stats.calls is not None:
        into.calls = (into.calls or 0) + stats.calls
    for target, source in (
        (into.line_times, stats.line_times),
        (into.callers, stats.callers),
        (into.callees, stats.callees),
    ):
        for item, value in source.items():
            target[item] = target.get(item, 0.0) + value * scale  # type: ignore[index]


def _add_stacks(builder: StackBuilder, stacks: Stacks, scale: float) -> None:
    remap = [builder.frame(f.file, f.name, f.line, f.def_line, f.qualname) for f in stacks.frames]
    for stack, weight in stacks.stacks.items():
        builder.add(tuple(remap[i] for i in stack), weight * scale)
