"""Place a profile's hot functions onto the current text of a file, following the user's edits."""

from __future__ import annotations

from dataclasses import dataclass

from perfpilot.tools.hotspots import HotFunction, hot_finding
from perfpilot.tools.model import Finding, Profile
from perfpilot.tools.module_index import ModuleIndex, SourceFunction

# Lines below this share of the profile get no inlay hint: noise, not signal.
MIN_LINE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class FunctionAnnotation:
    """A hot function as it stands in the buffer now, with its profile evidence."""

    function: SourceFunction
    hot: HotFunction
    # The body differs from the profiled one: the figures describe older code.
    changed: bool
    finding: Finding
    # Current 1-based line -> percent of the profile; empty when the body changed, because
    # old line numbers no longer point at the same code.
    line_shares: dict[int, float]


def annotate(
    module: ModuleIndex, hot: list[HotFunction], profile: Profile
) -> list[FunctionAnnotation]:
    """Match hot functions (as profiled) to the functions of `module` (as edited).

    A function is matched by qualified name, the nearest one if several share it; renamed or
    deleted functions simply lose their annotations.
    """
    annotations = []
    for entry in hot:
        profiled = entry.mapped.function
        candidates = module.by_qualname(profiled.qualname)
        if not candidates:
            continue
        current = min(candidates, key=lambda f: abs(f.first_line - profiled.first_line))
        changed = current.body_hash != profiled.body_hash
        shift = current.first_line - profiled.first_line
        line_shares = {}
        if not changed:
            for line, time in entry.mapped.line_times.items():
                share = profile.share(time)
                if share >= MIN_LINE_SHARE:
                    line_shares[line + shift] = share
        annotations.append(
            FunctionAnnotation(
                function=current,
                hot=entry,
                changed=changed,
                finding=hot_finding(entry, profile, current, changed),
                line_shares=line_shares,
            )
        )
    return annotations
