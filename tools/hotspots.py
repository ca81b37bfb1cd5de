"""Turn a mapped profile into ranked hot-function findings (PP001) and input notes (PP9xx)."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass

from perfpilot.tools.evidence_text import calls_text
from perfpilot.tools.mapping import MappedFunction, MappingResult
from perfpilot.tools.model import Finding, Profile, Severity
from perfpilot.tools.profile_quality import (
    few_samples,
    few_samples_finding,
    sample_count,
    wilson_interval,
)
from perfpilot.tools.source_index import SourceFunction

HOT_FUNCTION = "PP001"
UNMAPPED_PATHS = "PP901"
MISSING_FUNCTIONS = "PP902"

# How many callers/callees/lines a finding carries as evidence.
EVIDENCE_ITEMS = 5


@dataclass(frozen=True, slots=True)
class HotFunction:
    """A ranked workspace function with its shares of the profile (percentages)."""

    rank: int
    mapped: MappedFunction
    own_share: float
    self_share: float
    library_share: float
    total_share: float
    # Samples in a sampled profile; the own share's 95 % interval when they are few.
    samples: int | None = None
    own_interval: tuple[float, float] | None = None


def hot_functions(result: MappingResult, threshold: float) -> list[HotFunction]:
    """Rank workspace functions by own time; keep those whose own share reaches `threshold`.

    Own time (self plus library code called directly) is the ranking key, so a wrapper such
    as `main` with 100 % total time and no work of its own never outranks the real work.
    """
    profile = result.profile
    samples = sample_count(profile)
    few = few_samples(profile)
    ranked: list[HotFunction] = []
    for mapped in result.ranked():
        own = profile.share(mapped.own_time)
        if own < threshold or mapped.own_time <= 0:
            break
        interval = wilson_interval(own, few) if few is not None else None
        ranked.append(
            HotFunction(
                rank=len(ranked) + 1,
                mapped=mapped,
                own_share=own,
                self_share=profile.share(mapped.self_time),
                library_share=profile.share(mapped.library_time),
                total_share=profile.share(mapped.total_time),
                samples=samples,
                own_interval=interval,
            )
        )
    return ranked


def hot_function_findings(
    result: MappingResult, threshold: float, paths: Collection[str] | None = None
) -> list[Finding]:
    """PP001 on the def line of each hot function, restricted to `paths` (absolute) if given."""
    findings = []
    for hot in hot_functions(result, threshold):
        function = hot.mapped.function
        if paths is None or under_any(function.path, paths):
            findings.append(hot_finding(hot, result.profile))
    return findings


def hot_finding(
    hot: HotFunction, profile: Profile, where: SourceFunction | None = None, changed: bool = False
) -> Finding:
    """The PP001 finding of a hot function, placed at `where` (its current position) if given.

    The editor passes the function as it stands in the buffer, which may have moved or
    changed since the profile was taken.
    """
    function = where or hot.mapped.function
    data = hot_data(hot, profile)
    data["changed"] = changed
    return Finding(
        code=HOT_FUNCTION,
        message=hot_message(hot, changed),
        path=function.path,
        line=function.name_line,
        column=function.name_column,
        end_line=function.name_line,
        end_column=function.name_column + len(function.name),
        severity=Severity.INFORMATION,
        data=data,
    )


def input_findings(result: MappingResult, profile_path: str) -> list[Finding]:
    """PP9xx notes about the profile: entries not placed in the workspace, too few samples."""
    findings = []
    profile = result.profile
    if result.unmapped_paths:
        count = len(result.unmapped_paths)
        share = profile.share(sum(result.unmapped_paths.values()))
        example = max(result.unmapped_paths, key=result.unmapped_paths.__getitem__)
        findings.append(
            Finding(
                code=UNMAPPED_PATHS,
                message=(
                    f"{count} profiled file{'s' if count != 1 else ''} ({share:.1f}% of self time)"
                    f" match no workspace file, e.g. {example}; add a path mapping"
                    " (--path-mapping FROM=TO or [tool.perfpilot] path_mappings)"
                ),
                path=profile_path,
                line=1,
                severity=Severity.WARNING,
                data={
                    "count": count,
                    "share": round(share, 2),
                    "paths": sorted(result.unmapped_paths)[:20],
                },
            )
        )
    if result.missing_functions:
        count = len(result.missing_functions)
        names = ", ".join(f"{p}:{n}" for p, n in sorted(result.missing_functions)[:3])
        findings.append(
            Finding(
                code=MISSING_FUNCTIONS,
                message=(
                    f"{count} profiled function{'s' if count != 1 else ''} no longer exist in"
                    f" the workspace (renamed or deleted since profiling), e.g. {names};"
                    " re-profile to refresh"
                ),
                path=profile_path,
                line=1,
                severity=Severity.WARNING,
                data={"count": count},
            )
        )
    sparse = few_samples_finding(profile, profile_path)
    if sparse is not None:
        findings.append(sparse)
    return findings


def hot_message(hot: HotFunction, changed: bool = False) -> str:
    """One line with the shares and calls of a hot function."""
    mapped = hot.mapped
    own = f"{hot.self_share:.1f}% self"
    if hot.library_share >= 0.05:
        own += f" (+{hot.library_share:.1f}% in library calls)"
    calls = f", {calls_text(mapped.calls)}" if mapped.calls is not None else ""
    if changed:
        note = " (changed since profile)"
    else:
        note = " (moved since profile)" if mapped.moved else ""
    return (
        f"Hot function `{mapped.function.qualname}` (#{hot.rank}): {own},"
        f" {hot.total_share:.1f}% total{calls}{note}{uncertainty(hot)}"
    )


def uncertainty(hot: HotFunction) -> str:
    """`; own share 18.3-29.0% at 95% (240 samples)` when the profile holds few samples."""
    if hot.own_interval is None or hot.samples is None:
        return ""
    low, high = hot.own_interval
    return f"; own share {low:.1f}-{high:.1f}% at 95% ({hot.samples:,} samples)"


def hot_data(hot: HotFunction, profile: Profile) -> dict[str, object]:
    """Machine-readable evidence of a hot function: shares, calls, top callers/callees/lines."""
    mapped = hot.mapped
    share = profile.share
    return {
        "qualname": mapped.function.qualname,
        "rank": hot.rank,
        "own_percent": round(hot.own_share, 2),
        "self_percent": round(hot.self_share, 2),
        "library_percent": round(hot.library_share, 2),
        "total_percent": round(hot.total_share, 2),
        "calls": mapped.calls,
        "samples": hot.samples,
        "own_interval": (
            [round(v, 2) for v in hot.own_interval] if hot.own_interval is not None else None
        ),
        "moved": mapped.moved,
        "callers": _top(mapped.callers, share),
        "callees": _top(mapped.callees, share),
        "hot_lines": [
            {"line": line, "percent": round(share(t), 2)}
            for line, t in sorted(mapped.line_times.items(), key=lambda kv: -kv[1])[:EVIDENCE_ITEMS]
        ],
    }


def _top(edges: dict[str, float], share: Callable[[float], float]) -> list[dict[str, object]]:
    best = sorted(edges.items(), key=lambda kv: -kv[1])[:EVIDENCE_ITEMS]
    return [{"name": name, "percent": round(share(t), 2)} for name, t in best]


def under_any(path: str, roots: Collection[str]) -> bool:
    """True when `path` is one of `roots` (absolute) or inside one of them."""
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)
