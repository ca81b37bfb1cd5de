"""Capture a library's workload, verify every fix on the recorded calls, choose what to apply.

Used by run.py. Per library: `perfpilot capture` (the same engine, in process) records real calls
of every function with a fix opportunity while the workload runs; every fix of a function the
workload called is verified on those calls (behaviour equal, then interleaved timing with a
significance test); the fixes verified faster with the same behaviour are chosen, whatever
their static applicability (the measurement is the proof), combined per file without overlaps,
and a function with several of them is verified again with all of them together.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from corpus_config import Library

from perfpilot.skills.fixing import scan_text
from perfpilot.skills.registry import discover
from perfpilot.skills.runner import build_fix
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.model import TextEdit
from perfpilot.tools.profiling import ProfilingError
from perfpilot.tools.validate.syntax import project_python
from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from perfpilot.tools.verify.live import LiveRun
from perfpilot.tools.verify.model import Verdict, VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

OUTCOMES = ("faster", "slower", "no-change", "behaviour-differs", "cannot-verify")
CAPTURE_TIMEOUT = 900.0
MAX_NOISE = 0.25  # an A/A disagreement above this makes a "not faster" verdict meaningless


@dataclass
class FixResult:
    """One fix opportunity of the library and what measuring it found."""

    path: str  # relative to the library's root
    qualname: str
    line: int
    code: str
    skill: str
    title: str
    applicability: str
    top: bool  # in the check's own top-10 hot functions
    outcome: str = "not-called"  # one of OUTCOMES, or "not-called" (the workload never ran it)
    reason: str = ""  # why it could not be verified (cannot-verify)
    summary: str = ""  # the verdict's one line
    speedup: float | None = None
    low: float | None = None
    high: float | None = None
    noise: float | None = None
    rounds: int = 0
    calls: int = 0
    applied: bool = False
    in_process: bool = False  # verified on live calls (the recorded ones could not be pickled)
    note: str = ""  # why a verified-faster fix was not applied, or was reverted
    edits: tuple[TextEdit, ...] = field(default=(), repr=False)

    def record(self) -> dict[str, object]:
        """JSON-ready fields (no edits)."""
        return {k: v for k, v in self.__dict__.items() if k != "edits"}


@dataclass
class Measured:
    """The verification of one library: every fix's result and the capture's problems."""

    fixes: list[FixResult]
    capture_seconds: float = 0.0
    verify_seconds: float = 0.0
    capture_problems: dict[str, str] = field(default_factory=dict)  # function -> why


def fix_functions(report: dict[str, object]) -> dict[tuple[str, str], list[dict[str, object]]]:
    """(file, qualname) -> the fix findings of `check --all` in that function."""
    groups: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    for finding in report["findings"]:  # type: ignore[union-attr]
        data = finding.get("data") or {}
        if "skill" in data:
            groups[(finding["filename"], data["qualname"])].append(finding)
    return groups


def measure(
    library: Library,
    functions: dict[tuple[str, str], list[dict[str, object]]],
    top: set[tuple[str, str]],
    settings: VerifySettings,
    calls: int,
    log: object,
) -> Measured:
    """Capture the workload once, then verify every fix of every function it called."""
    import time

    root = library.root
    settings = with_live_calls(library, settings, calls)
    inside = [key for key in functions if _in_package(library, key[0])]
    targets = [CaptureTarget(str(root / path), qualname) for path, qualname in inside]
    problems: dict[str, str] = {}
    captured: set[tuple[str, str]] = set()
    started = time.perf_counter()
    if targets:
        try:
            run = run_capture(
                root,
                [str(library.python), str(library.workload)],
                targets,
                root,
                calls=calls,
                stdout=subprocess.DEVNULL,
                timeout=CAPTURE_TIMEOUT,
            )
        except ProfilingError as exc:
            problems = {f"{p}::{q}": f"capture failed: {exc}" for p, q in inside}
        else:
            for capture in run.captures:
                captured.add((os.path.relpath(capture.path, root), capture.qualname))
            for missing in run.not_found:
                name, _, why = missing.partition(" (")
                path, _, qualname = name.rpartition("::")
                problems[f"{os.path.relpath(path, root)}::{qualname}"] = why.rstrip(")")
    capture_seconds = time.perf_counter() - started
    started = time.perf_counter()
    results: list[FixResult] = []
    skills = discover(root).with_transforms()
    python = project_python(str(root))
    by_file: dict[str, list[str]] = defaultdict(list)
    for path, qualname in inside:
        by_file[path].append(qualname)
    for path, qualnames in sorted(by_file.items()):
        absolute = str(root / path)
        text = Path(absolute).read_text(encoding="utf-8")
        # Every function, as `check --all` looks at them, then only the ones it reported.
        for found in scan_text(text, absolute, None, skills, python):
            qualname = found.function.qualname
            if qualname not in qualnames:
                continue
            key = f"{path}::{qualname}"
            fix = build_fix(text, found, root=str(root), python=python)
            result = FixResult(
                path=path,
                qualname=qualname,
                line=found.opportunity.line,
                code=str(found.skill.code),
                skill=found.skill.name,
                title=fix.title,
                applicability=fix.applicability.name.lower().replace("_", "-"),
                top=(path, qualname) in top,
                edits=fix.edits,
            )
            results.append(result)
            why = problems.get(key)
            if why == "never called":
                continue  # outcome stays "not-called"
            if not fix.applicable:
                result.outcome, result.reason = "cannot-verify", "refused by validation"
                result.summary = fix.refusal or ""
                continue
            if why is not None:
                result.outcome, result.reason = "cannot-verify", _capture_reason(why)
                result.summary = why
                continue
            print(f"  verify {key} {result.code} ...", file=log, flush=True)
            verdict = verify_change(
                root, absolute, qualname, text, apply_edits(text, fix.edits), settings
            )
            classify(result, verdict)
    return Measured(results, capture_seconds, time.perf_counter() - started, problems)


def with_live_calls(library: Library, settings: VerifySettings, calls: int) -> VerifySettings:
    """`settings` where calls that cannot be pickled are verified in-process on the workload's
    live calls (`perfpilot verify --run CMD`)."""
    live = LiveRun((str(library.python), str(library.workload)), str(library.root), calls=calls)
    return dataclasses.replace(settings, live=live)


def classify(result: FixResult, verdict: Verdict) -> None:
    """Fill the outcome, reason and figures of `result` from a verdict."""
    result.summary = verdict.summary
    result.calls = verdict.calls
    result.in_process = "in-process" in verdict.summary or any(
        "in-process" in note for note in verdict.notes
    )
    if verdict.speed is not None:
        speed = verdict.speed
        result.speedup, result.low, result.high = speed.speedup, speed.low, speed.high
        result.noise, result.rounds = speed.noise, speed.rounds
    kind = verdict.kind
    if kind is VerdictKind.FASTER:
        result.outcome = "faster"
    elif kind is VerdictKind.NOT_FASTER and verdict.speed and verdict.speed.noise > MAX_NOISE:
        # The original timed twice disagreed by more than MAX_NOISE: not a measurement.
        result.outcome, result.reason = "cannot-verify", "timing too noisy"
    elif kind is VerdictKind.NOT_FASTER:
        assert verdict.speed is not None
        result.outcome = "slower" if verdict.speed.slower else "no-change"
    elif kind is VerdictKind.DIFFERS:
        result.outcome = "behaviour-differs"
    elif kind is VerdictKind.NONDETERMINISTIC:
        result.outcome, result.reason = "cannot-verify", "nondeterministic"
    else:
        result.outcome, result.reason = "cannot-verify", unverified_reason(verdict.summary)


def unverified_reason(summary: str) -> str:
    """A short, countable reason from an `unverified: ...` summary."""
    pickled = re.search(r"first: [^:]*: (\w+): (.*)$", summary)
    if "none recorded" in summary and pickled:
        error = re.sub(r"<[^>]*>|0x[0-9a-f]+", "...", pickled.group(2))
        return f"unpicklable ({error[:70]})"
    for needle, reason in (
        ("independent copies", "in-process: shared state changed"),
        ("could be copied", "in-process: arguments not copyable"),
        ("never called", "not called in-process"),
        ("in-process", "in-process run failed"),
        ("none recorded", "calls not recordable (too large)"),
        ("async function", "async function"),
        ("did not finish", "replay timed out"),
        ("replay failed", "replay failed"),
        ("did not fit in the budget", "timing over budget"),
        ("fit in the budget", "timing over budget (too few rounds)"),
        ("no recorded calls", "no recorded calls"),
        ("capture", "capture unusable"),
    ):
        if needle in summary:
            return reason
    return summary.removeprefix("unverified: ")[:60]


def _capture_reason(why: str) -> str:
    if why.startswith("capture failed"):
        return "capture failed"
    return why.split(":")[0][:60]


def _in_package(library: Library, path: str) -> bool:
    """Whether a reported file is inside the library's own package (fixes stay there)."""
    absolute = os.path.realpath(library.root / path)
    return absolute.startswith(os.path.realpath(library.package_dir) + os.sep)


def choose(
    library: Library, fixes: list[FixResult], settings: VerifySettings, log: object
) -> dict[str, str]:
    """The fixed text of every file with verified-faster fixes (pristine text not included).

    Fixes are taken fastest first; one whose edits overlap a chosen one, or that would not
    compile with them, is left out (noted). A function that gets several fixes is verified
    again with all of them; unless that is faster too, it keeps only its fastest one.
    """
    faster = sorted(
        (f for f in fixes if f.outcome == "faster" and _in_package(library, f.path)),
        key=lambda f: -(f.speedup or 0.0),
    )
    by_file: dict[str, list[FixResult]] = defaultdict(list)
    for fix in faster:
        by_file[fix.path].append(fix)
    texts: dict[str, str] = {}
    for path, candidates in by_file.items():
        pristine = (library.root / path).read_text(encoding="utf-8")
        chosen: list[FixResult] = []
        for fix in candidates:
            try:
                text = apply_edits(pristine, [e for f in (*chosen, fix) for e in f.edits])
                compile(text, path, "exec")
            except (ValueError, SyntaxError) as exc:
                fix.note = f"not applied: clashes with a faster fix ({exc})"
                continue
            chosen.append(fix)
        chosen = _recheck_combined(library, path, pristine, chosen, settings, log)
        for fix in chosen:
            fix.applied = True
        if chosen:
            texts[path] = apply_edits(pristine, [e for f in chosen for e in f.edits])
    return texts


def _recheck_combined(
    library: Library,
    path: str,
    pristine: str,
    chosen: list[FixResult],
    settings: VerifySettings,
    log: object,
) -> list[FixResult]:
    per_function: dict[str, list[FixResult]] = defaultdict(list)
    for fix in chosen:
        per_function[fix.qualname].append(fix)
    kept = []
    for qualname, group in per_function.items():
        if len(group) > 1:
            print(f"  verify {path}::{qualname} with {len(group)} fixes together", file=log)
            together = apply_edits(pristine, [e for f in group for e in f.edits])
            verdict = verify_change(
                library.root, str(library.root / path), qualname, pristine, together, settings
            )
            if verdict.kind is not VerdictKind.FASTER:
                for fix in group[1:]:
                    fix.note = f"not applied: together with {group[0].code} {verdict.label}"
                group = group[:1]
        kept += group
    return kept
