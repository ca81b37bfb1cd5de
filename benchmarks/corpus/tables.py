"""The corpus tables (per library, per skill) as Markdown, and the JSON the lead pastes from."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from apply_step import spread
from corpus_config import Library
from suite import TestResult
from verify_step import OUTCOMES, FixResult

TOP = 10


@dataclass
class LibraryReport:
    """Everything run.py measured for one library."""

    library: Library
    tests_before: TestResult | None = None
    top: list[tuple[str, float, bool]] = field(default_factory=list)  # name, own %, in library
    hot_fixes: Counter[str] = field(default_factory=Counter)
    top_fixes: Counter[str] = field(default_factory=Counter)
    all_fixes: Counter[str] = field(default_factory=Counter)
    fixes: list[FixResult] | None = None  # None: verification not run
    capture_problems: dict[str, str] = field(default_factory=dict)
    tests_after: TestResult | None = None
    before: list[float] = field(default_factory=list)  # workload seconds, pristine
    after: list[float] = field(default_factory=list)  # workload seconds, fixed (interleaved)
    seconds: float = 0.0  # wall time of this library's whole measurement
    error: str = ""  # why the measurement stopped (the row says so)


def verdict_cell(fixes: list[FixResult]) -> str:
    """'faster 2, no-change 1, cannot-verify 3 (unpicklable ×2, ...)' over called fixes."""
    counts = Counter(f.outcome for f in fixes)
    parts = []
    for outcome in OUTCOMES:
        if not counts[outcome]:
            continue
        text = f"{outcome} {counts[outcome]}"
        if outcome == "cannot-verify":
            reasons = Counter(f.reason for f in fixes if f.outcome == outcome)
            text += " (" + "; ".join(f"{r} ×{n}" for r, n in reasons.most_common()) + ")"
        parts.append(text)
    if counts["not-called"]:
        parts.append(f"not called {counts['not-called']}")
    return ", ".join(parts) or "none"


def change(before: list[float], after: list[float]) -> str:
    """The fixed workload's median against the pristine one, in percent."""
    if not before or not after:
        return "-"
    ratio = statistics.median(after) / statistics.median(before)
    return f"{100 * (ratio - 1):+.1f}%"


def render_libraries(reports: list[LibraryReport], runs: int) -> str:
    """The per-library table, then each library's top-10 and its verified-faster fixes."""
    lines = [
        f"| library | top-{TOP} in lib | fixes offered (--all), per code | fixes in top-{TOP} "
        f"| verdicts, top-{TOP} fixes | verdicts, all fixes | applied | tests before → after "
        f"| workload s before | after | change |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        if report.error:
            lines.append(f"| {report.library.name} | failed: {report.error} |" + " |" * 9)
            continue
        in_lib = sum(1 for _, _, inside in report.top if inside)
        fixes = report.fixes
        top_cell = verdict_cell([f for f in fixes if f.top]) if fixes is not None else "n/a"
        all_cell = verdict_cell(fixes) if fixes is not None else "n/a"
        applied = [f for f in fixes or () if f.applied]
        reverted = [f for f in fixes or () if f.note.startswith("reverted")]
        applied_cell = str(len(applied)) + (f" ({len(reverted)} reverted)" if reverted else "")
        before = report.tests_before.cell() if report.tests_before else "not run"
        after = report.tests_after.cell() if report.tests_after else "—"
        timed_after = spread(report.after) if report.after else "no fix applied"
        lines.append(
            f"| {report.library.name} {report.library.version} | {in_lib}/{len(report.top)} "
            f"| {_codes(report.all_fixes)} | {_codes(report.top_fixes)} | {top_cell} "
            f"| {all_cell} | {applied_cell} | {before} → {after} | {spread(report.before)} "
            f"| {timed_after} | {change(report.before, report.after)} |"
        )
    lines.append("")
    lines.append(
        f"Workload: {runs} runs each of pristine and fixed, taking turns; median ± half the"
        " min–max range, in seconds; change = fixed median / pristine median − 1."
    )
    lines.append("")
    for report in reports:
        lines.append(
            f"**{report.library.name}** top-{TOP} by own time: "
            + "; ".join(
                f"{'`' + name + '`' if inside else name} {share:.1f}%"
                for name, share, inside in report.top
            )
        )
        lines.append("")
        for fix in sorted(report.fixes or (), key=lambda f: (not f.top, -(f.speedup or 0))):
            if fix.outcome == "faster" or fix.note:
                where = "top-10" if fix.top else "called"
                state = "applied" if fix.applied else fix.note or "not applied"
                lines.append(
                    f"- {where} `{fix.path}::{fix.qualname}` {fix.code} ({fix.applicability}):"
                    f" {fix.summary}; {state}"
                )
        lines.append("")
    return "\n".join(lines)


def skill_figures(reports: list[LibraryReport]) -> dict[str, dict[str, object]]:
    """Per skill code: fixes measured, median speedup, min–max, verdict counts, where."""
    by_code: dict[str, list[tuple[str, FixResult]]] = defaultdict(list)
    for report in reports:
        for fix in report.fixes or ():
            by_code[fix.code].append((report.library.name, fix))
    figures = {}
    for code, entries in sorted(by_code.items()):
        measured = [
            f.speedup
            for _, f in entries
            if f.speedup is not None and f.outcome in ("faster", "slower", "no-change")
        ]
        outcomes = Counter(f.outcome for _, f in entries)
        figures[code] = {
            "skill": entries[0][1].skill,
            "measured-fixes": len(measured),
            "measured-median": round(statistics.median(measured), 3) if measured else None,
            "min": round(min(measured), 3) if measured else None,
            "max": round(max(measured), 3) if measured else None,
            "outcomes": dict(outcomes),
            "fixes": [
                {"library": library, **fix.record()}
                for library, fix in entries
                if fix.outcome != "not-called"
            ],
        }
    return figures


def render_skills(figures: dict[str, dict[str, object]]) -> str:
    """The per-skill table: where each SKILL.md's measured-median comes from."""
    lines = [
        "| code | skill | fixes verified | median measured speedup | min–max | faster "
        "| slower | no-change | behaviour-differs | cannot-verify | not called |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for code, entry in figures.items():
        outcomes: dict[str, int] = entry["outcomes"]  # type: ignore[assignment]
        median = entry["measured-median"]
        low, high = entry["min"], entry["max"]
        lines.append(
            f"| {code} | {entry['skill']} | {entry['measured-fixes']} "
            f"| {f'{median:.2f}x' if median is not None else '—'} "
            f"| {f'{low:.2f}–{high:.2f}' if low is not None else '—'} "
            + " ".join(
                f"| {outcomes.get(k, 0)}"
                for k in ("faster", "slower", "no-change", "behaviour-differs", "cannot-verify")
            )
            + f" | {outcomes.get('not-called', 0)} |"
        )
    lines.append("")
    lines.append(
        "fixes verified: fixes of this skill in functions the workloads called whose behaviour"
        " matched on the recorded calls and whose speed was measured (faster, slower or"
        " no-change); the median and min–max are over those speedups (original time / fixed"
        " time on the recorded calls)."
    )
    return "\n".join(lines)


def _codes(counts: Counter[str]) -> str:
    return ", ".join(f"{code}×{n}" for code, n in sorted(counts.items())) or "none"
