"""Measure perfpilot's offense on the real-code corpus: what is verified faster, and what it does.

    python benchmarks/corpus/fetch.py                       # once: sdists, sources, venvs
    python benchmarks/corpus/run.py [LIBRARY ...] [--runs N] [--skip-tests] [--json FILE]

Per library: its test suite; `perfpilot profile` of its workload (cProfile) and the top-10
functions by own time; `perfpilot check --output-format json` on its package (hot functions,
then `--all`); `perfpilot capture` of every function with a fix opportunity while the workload
runs; every fix of a function the workload called verified on the recorded calls (behaviour,
then interleaved timing with a significance test); the fixes verified faster applied to the
sources whatever their static applicability (the measurement is the proof); the test suite
again (a fix that breaks it is reverted and reported); the workload timed pristine vs fixed,
taking turns; the pristine sources restored. Prints the library table and the per-skill table
(the `measured-median` of each SKILL.md), and writes both as JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from apply_step import Patched, keep_tests_green, time_interleaved
from corpus_config import Library, load_libraries, work_dir
from suite import run_tests
from tables import TOP, LibraryReport, change, render_libraries, render_skills, skill_figures
from verify_step import choose, fix_functions, measure, with_live_calls

from perfpilot.tools.verify.capture import DEFAULT_CALLS as CAPTURE_CALLS
from perfpilot.tools.verify.verify_fix import DEFAULT_BUDGET as VERIFY_BUDGET
from perfpilot.tools.verify.verify_fix import VerifySettings

PERFPILOT = [
    sys.executable,
    "-m",
    "perfpilot.server",
]  # the perfpilot of the interpreter running this


def profile_workload(library: Library) -> Path:
    """Profile the workload with `perfpilot profile` (cProfile) and return the profile's path."""
    output = work_dir() / "profiles" / f"{library.name}.prof"
    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            *PERFPILOT,
            "profile",
            "-o",
            str(output),
            "--",
            str(library.python),
            str(library.workload),
        ],
        cwd=library.root,
        check=True,
        capture_output=True,
    )
    return output


def top_functions(library: Library, profile: Path) -> list[tuple[str, float, bool]]:
    """The TOP functions by own time: display name, share of all own time, in the library?"""
    stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values()) or 1.0
    ranked = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:TOP]
    package = str(library.package_dir) + os.sep
    rows = []
    for (filename, line, name), entry in ranked:
        inside = os.path.abspath(filename).startswith(package)
        label = f"{os.path.relpath(filename, library.root)}:{line}:{name}" if inside else name
        rows.append((label, 100.0 * entry[2] / total, inside))
    return rows


def check_report(library: Library, profile: Path, everywhere: bool) -> dict[str, object]:
    """Run `perfpilot check --output-format json` on the library's sources and parse it."""
    command = [
        *PERFPILOT,
        "check",
        "--profile",
        str(profile),
        "--output-format",
        "json",
        "--exit-zero",
        # Every skill is measured here, the unproven ones too: this run is what proves them.
        "--include-unproven",
        library.source,
    ]
    if everywhere:
        command.append("--all")
    done = subprocess.run(command, cwd=library.root, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def fixes_per_code(
    report: dict[str, object], only_in: set[tuple[str, str]] | None = None
) -> Counter[str]:
    """Count fix findings per `code:applicability`, optionally only in the given functions."""
    counts: Counter[str] = Counter()
    for finding in report["findings"]:  # type: ignore[union-attr]
        data = finding.get("data") or {}
        if "skill" not in data:
            continue
        if only_in is not None and (finding["filename"], data.get("qualname")) not in only_in:
            continue
        counts[f"{finding['code']}:{data.get('applicability', '?')}"] += 1
    return counts


def hot_ranked(report: dict[str, object]) -> set[tuple[str, str]]:
    """(file, qualname) of the check's own top-TOP hot functions (PP001 ranks)."""
    return {
        (finding["filename"], finding["data"]["qualname"])
        for finding in report["findings"]  # type: ignore[union-attr]
        if finding["code"] == "PP001" and finding["data"]["rank"] <= TOP
    }


def measure_library(library: Library, args: argparse.Namespace) -> LibraryReport:
    """Profile, check, verify, apply, test and time one library; its sources end pristine."""
    started = time.perf_counter()
    report = LibraryReport(library)
    say(f"{library.name}: profiling")
    profile = profile_workload(library)
    report.top = top_functions(library, profile)
    hot = check_report(library, profile, everywhere=False)
    report.hot_fixes = fixes_per_code(hot)
    everywhere = check_report(library, profile, everywhere=True)
    top = hot_ranked(hot)
    report.top_fixes = fixes_per_code(everywhere, top)
    report.all_fixes = fixes_per_code(everywhere)
    if not args.skip_tests:
        say(f"{library.name}: tests")
        report.tests_before = run_tests(library)
    patched = None
    if not args.no_verify:
        functions = fix_functions(everywhere)
        if args.scope == "top":
            functions = {key: value for key, value in functions.items() if key in top}
        say(f"{library.name}: capturing {len(functions)} functions with fixes, then verifying")
        settings = VerifySettings(budget=args.budget)
        measured = measure(library, functions, top, settings, args.calls, sys.stderr)
        report.fixes, report.capture_problems = measured.fixes, measured.capture_problems
        say(
            f"{library.name}: capture {measured.capture_seconds:.0f} s,"
            f" verification {measured.verify_seconds:.0f} s"
        )
        settings = with_live_calls(library, settings, args.calls)
        texts = {} if args.no_apply else choose(library, measured.fixes, settings, sys.stderr)
        if texts:
            patched = Patched(library, texts)
    try:
        if patched is not None and report.tests_before is not None:
            say(f"{library.name}: tests with {sum(f.applied for f in report.fixes or ())} fixes")
            applied = [f for f in report.fixes or () if f.applied]
            report.tests_after = keep_tests_green(patched, applied, report.tests_before, sys.stderr)
            if not any(f.applied for f in applied):
                patched = None
        say(f"{library.name}: timing the workload, {args.runs} runs" + (" each" if patched else ""))
        report.before, report.after = time_interleaved(library, patched, args.runs)
    finally:
        if patched is not None:
            patched.restore()
    report.seconds = time.perf_counter() - started
    return report


def say(text: str) -> None:
    """Progress on stderr (the tables go to stdout)."""
    print(text, file=sys.stderr, flush=True)


def main() -> int:
    """Measure every library named (all by default) and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("libraries", nargs="*", help="names from manifest.toml (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="timed workload runs (each version)")
    parser.add_argument("--skip-tests", action="store_true", help="do not run the test suites")
    # The defaults are the product's (`perfpilot capture`, `perfpilot verify`): the table
    # measures what a user's own `capture` + `verify` would conclude, not a cheaper variant.
    parser.add_argument(
        "--budget", type=float, default=VERIFY_BUDGET, help="verify seconds per fix (default 10)"
    )
    parser.add_argument(
        "--calls", type=int, default=CAPTURE_CALLS, help="calls captured per function (default 256)"
    )
    parser.add_argument(
        "--scope",
        choices=("called", "top"),
        default="called",
        help="verify fixes in every function the workload calls (default; per-skill medians)"
        " or only in the top-10 hot functions",
    )
    parser.add_argument("--no-verify", action="store_true", help="profile and check only")
    parser.add_argument("--no-apply", action="store_true", help="verify, apply nothing")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if args.runs < 1 or args.budget <= 0 or args.calls < 1:
        parser.error("--runs, --budget and --calls must be positive")
    started = time.perf_counter()
    reports = []
    for library in load_libraries(args.libraries):
        if not library.python.exists():
            sys.exit(f"{library.name}: not fetched; run benchmarks/corpus/fetch.py first")
        try:
            reports.append(measure_library(library, args))
        except (subprocess.CalledProcessError, OSError, ValueError, RuntimeError) as exc:
            # One library's failure (a crashed workload, a broken check) must not lose the
            # others' figures: it gets a row saying so; its sources were restored.
            traceback.print_exc()
            reports.append(LibraryReport(library, error=f"{type(exc).__name__}: {exc}"[:200]))
        say(f"{library.name}: done in {reports[-1].seconds:.0f} s")
    figures = skill_figures(reports)
    print(render_libraries(reports, args.runs))
    print(render_skills(figures))
    total = time.perf_counter() - started
    print(f"\nWhole run: {total:.0f} s ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).")
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(reports, figures, args, total), indent=2))
    return 0


def to_json(
    reports: list[LibraryReport],
    figures: dict[str, dict[str, object]],
    args: argparse.Namespace,
    total: float,
) -> dict[str, object]:
    """Everything measured, for notes and SKILL.md figures."""
    return {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "command": " ".join(sys.argv),
        "settings": {
            "runs": args.runs,
            "budget": args.budget,
            "calls": args.calls,
            "scope": args.scope,
        },
        "seconds": round(total, 1),
        "skills": figures,
        "libraries": [
            {
                "library": r.library.name,
                "version": r.library.version,
                "top": [
                    {"function": n, "own_percent": round(p, 2), "in_library": i}
                    for n, p, i in r.top
                ],
                "fixes_all": dict(r.all_fixes),
                "fixes_top": dict(r.top_fixes),
                "verified_faster_in_top": sum(
                    1 for f in r.fixes or () if f.top and f.outcome == "faster"
                ),
                "tests_before": r.tests_before.__dict__ if r.tests_before else None,
                "tests_after": r.tests_after.__dict__ if r.tests_after else None,
                "workload_before": r.before,
                "workload_after": r.after,
                "change": change(r.before, r.after),
                "capture_problems": r.capture_problems,
                "fixes": [f.record() for f in r.fixes or ()],
                "seconds": round(r.seconds, 1),
                "error": r.error,
            }
            for r in reports
        ],
    }


if __name__ == "__main__":
    sys.exit(main())
