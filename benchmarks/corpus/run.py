"""Measure perfpilot's offense on the real-code corpus and print one table.

    python benchmarks/corpus/fetch.py            # once: sdists, sources, venvs
    python benchmarks/corpus/run.py [LIBRARY ...] [--runs N] [--skip-tests]

Per library: run its test suite, profile its workload with `perfpilot profile`, take the top-10
functions by own time from that profile, run `perfpilot check --output-format json` on the
library's sources (hot functions, then `--all`), and time the workload N times, interleaved
with the other libraries' runs so machine load hits them all alike (median and spread).
The verify / apply / before-after steps are seams (see `verify_fixes`, `apply_verified_fixes`)
until `perfpilot verify` and `check --fix --verify` exist.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from corpus_config import Library, load_libraries, work_dir

PERFPILOT = [
    sys.executable,
    "-m",
    "perfpilot.server",
]  # the perfpilot of the interpreter running this
TOP = 10


@dataclass
class TestResult:
    """Counts from one run of a library's test suite."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def cell(self) -> str:
        """`passed/failed` as the table shows it (skipped in brackets when any)."""
        extra = f" ({self.skipped} skip)" if self.skipped else ""
        return f"{self.passed}/{self.failed}{extra}"


@dataclass
class LibraryReport:
    """Everything run.py measured for one library."""

    library: Library
    tests_before: TestResult | None = None
    top: list[tuple[str, float, bool]] = field(default_factory=list)  # name, own %, in library
    hot_fixes: Counter[str] = field(default_factory=Counter)
    top_fixes: Counter[str] = field(default_factory=Counter)
    all_fixes: Counter[str] = field(default_factory=Counter)
    times: list[float] = field(default_factory=list)
    verdicts: list[dict[str, object]] | None = None
    tests_after: TestResult | None = None


def run_tests(library: Library) -> TestResult:
    """Run the library's own test suite offline and count passes and failures."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PIP_NO_INDEX": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        library.test_command(), cwd=library.root, env=env, capture_output=True, text=True
    )
    result = parse_test_output(done.stdout + done.stderr)
    result.seconds = time.perf_counter() - started
    if done.returncode and not result.failed:
        result.failed = 1  # a crash or collection error counts as a failure, never as green
    return result


def parse_test_output(text: str) -> TestResult:
    """Read pytest's summary line or unittest's `Ran N tests` / `FAILED (...)` lines."""
    result = TestResult()
    summary = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    if summary:
        for count, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary[-1]):
            if word == "passed":
                result.passed = int(count)
            elif word == "skipped":
                result.skipped = int(count)
            else:
                result.failed += int(count)
        return result
    ran = re.search(r"Ran (\d+) tests?", text)
    if ran:
        failed = sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", text))
        skipped = sum(int(n) for n in re.findall(r"skipped=(\d+)", text))
        result.failed, result.skipped = failed, skipped
        result.passed = int(ran.group(1)) - failed - skipped
    return result


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


# --- seams for the verification step (issue 11) -------------------------------------------
def verify_fixes(library: Library, profile: Path) -> list[dict[str, object]] | None:
    """SEAM: verdicts of `perfpilot verify` / `check --fix --verify` on the hot functions.

    Returns None (table: "n/a"): `perfpilot verify` is on main now but not wired in. Wire it:
    capture inputs from the workload (`perfpilot capture`), run `check --verify --output-format
    json` in library.root, and return one dict per fix: code, qualname, verdict, speedup.
    """
    if not _perfpilot_has("verify"):
        return None
    # perfpilot verify exists (issue 11 merged) but is not wired in yet: say so, keep the table.
    print(
        f"{library.name}: perfpilot verify exists but run.py does not call it yet (seam)",
        file=sys.stderr,
        flush=True,
    )
    return None


def apply_verified_fixes(library: Library, verdicts: list[dict[str, object]]) -> bool:
    """SEAM: apply only the fixes verified faster (`check --fix --verify`); True if any changed.

    Undo with `fetch.py --reset LIBRARY` (pristine sources from the sdist).
    """
    raise NotImplementedError("needs verify_fixes")


def _perfpilot_has(command: str) -> bool:
    done = subprocess.run([*PERFPILOT, "--help"], capture_output=True, text=True)
    return re.search(rf"^\s+{command}\s", done.stdout, re.MULTILINE) is not None


# --- timing -----------------------------------------------------------------------------------
def time_workloads(reports: list[LibraryReport], runs: int) -> None:
    """Run every workload `runs` times, round-robin across libraries, and record seconds."""
    for _ in range(runs):
        for report in reports:
            library = report.library
            started = time.perf_counter()
            subprocess.run(
                [str(library.python), str(library.workload)],
                cwd=library.root,
                check=True,
                capture_output=True,
            )
            report.times.append(time.perf_counter() - started)


def spread(times: list[float]) -> str:
    """Median ± half the min-max range, in seconds."""
    if not times:
        return "-"
    return f"{statistics.median(times):.2f} ±{(max(times) - min(times)) / 2:.2f}"


def render(reports: list[LibraryReport], runs: int) -> str:
    """The Markdown table (and the top functions per library) for the README and notes."""
    lines = [
        f"| library | version | top-{TOP} in lib | fixes in top-{TOP} | fixes, hot (≥ threshold) "
        "| fixes, --all | verdicts | tests before (pass/fail) "
        f"| workload s (median ±half-range, {runs} runs) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        lib = report.library
        in_lib = sum(1 for _, _, inside in report.top if inside)
        verdicts = "n/a (not wired)" if report.verdicts is None else len(report.verdicts)
        tests = report.tests_before.cell() if report.tests_before else "skipped"
        lines.append(
            f"| {lib.name} | {lib.version} | {in_lib}/{len(report.top)} "
            f"| {_codes(report.top_fixes)} | {_codes(report.hot_fixes)} "
            f"| {_codes(report.all_fixes)} | {verdicts} | {tests} | {spread(report.times)} |"
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
    return "\n".join(lines)


def _codes(counts: Counter[str]) -> str:
    return ", ".join(f"{code}×{n}" for code, n in sorted(counts.items())) or "none"


def main() -> int:
    """Measure every library named (all by default) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("libraries", nargs="*", help="names from manifest.toml (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="timed workload runs per library")
    parser.add_argument("--skip-tests", action="store_true", help="do not run the test suites")
    args = parser.parse_args()
    reports = []
    for library in load_libraries(args.libraries):
        if not library.python.exists():
            sys.exit(f"{library.name}: not fetched; run benchmarks/corpus/fetch.py first")
        report = LibraryReport(library)
        print(f"{library.name}: profiling", file=sys.stderr, flush=True)
        profile = profile_workload(library)
        report.top = top_functions(library, profile)
        hot = check_report(library, profile, everywhere=False)
        report.hot_fixes = fixes_per_code(hot)
        everywhere = check_report(library, profile, everywhere=True)
        report.top_fixes = fixes_per_code(everywhere, hot_ranked(hot))
        report.all_fixes = fixes_per_code(everywhere)
        report.verdicts = verify_fixes(library, profile)
        if not args.skip_tests:
            print(f"{library.name}: tests", file=sys.stderr, flush=True)
            report.tests_before = run_tests(library)
        reports.append(report)
    print(
        f"timing {len(reports)} workloads x {args.runs}, interleaved", file=sys.stderr, flush=True
    )
    time_workloads(reports, args.runs)
    print(render(reports, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
