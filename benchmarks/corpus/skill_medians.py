"""Measure each skill's fixes on the real-code corpus: median verified speedup per skill.

For every library: `perfpilot check --all` lists each fire of each skill; one `perfpilot
capture` run of the workload records calls of every function a skill fires in; `perfpilot
verify PATH::FUNCTION` then replays those calls against each fix (behaviour, then interleaved
timing). A fire counts as *verified* when behaviour was equal and the speed was measured
(verdict "faster" or "not faster") with an A/A noise floor of at most 10 % (a timing that moves
more than that against itself is not a figure); its speedup is the original time over the
fixed time. The
table gives, per skill, how many fires there were, how many the workload called, how many were
verified, the median and range of their speedups, and why the others could not be verified.
Those medians are what SKILL.md's `measured-median` / `measured-fixes` hold.

    PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/skill_medians.py [LIB...]
        [--budget SECONDS] [--codes PP101,PP107] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus_config import Library, load_libraries, work_dir

PERFPILOT = [sys.executable, "-m", "perfpilot.server"]
# A timing whose A/A run (original against itself) moved more than this is noise, not a figure.
MAX_NOISE = 0.10


@dataclass
class Fire:
    """One opportunity one skill found, and what measuring its fix gave."""

    library: str
    code: str
    skill: str
    path: str  # relative to the library's root
    line: int
    qualname: str
    called: bool = False
    speedup: float | None = None  # set when verified (behaviour equal, speed measured)
    faster: bool = False  # the verdict was "faster" (the speedup cleared the noise)
    noise: float | None = None  # the A/A noise of the timing (0.03 = 3%)
    verdict: str = ""  # the verdict's summary, or why there is none


@dataclass
class SkillRow:
    """The table's row of one skill."""

    code: str
    name: str
    fires: int = 0
    called: int = 0
    speedups: list[float] = field(default_factory=list)
    faster: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def fires_of(library: Library, codes: set[str] | None) -> list[Fire]:
    """Every skill fire `check --all` reports in the library's package (all skills offered)."""
    command = [*PERFPILOT, "check", "--all", "--include-unproven", "--output-format", "json"]
    done = subprocess.run(
        [*command, "--exit-zero", library.source],
        cwd=library.root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"{library.name}: check failed: {done.stderr.strip()[-400:]}")
    fires = []
    for finding in json.loads(done.stdout)["findings"]:
        data = finding.get("data") or {}
        if "skill" not in data or (codes and finding["code"] not in codes):
            continue
        fires.append(
            Fire(
                library.name,
                finding["code"],
                data["skill"],
                finding["filename"],
                finding["location"]["row"],
                data["qualname"],
            )
        )
    return fires


def capture(library: Library, functions: list[str]) -> set[str]:
    """Record calls of `functions` (PATH::QUALNAME) while the workload runs; those recorded."""
    done = subprocess.run(
        [
            *PERFPILOT,
            "capture",
            "--clear",
        ],
        cwd=library.root,
        capture_output=True,
        text=True,
    )
    done = subprocess.run(
        [
            *PERFPILOT,
            "capture",
            "--functions",
            ",".join(functions),
            "--calls",
            "64",
            "--",
            str(library.python),
            str(library.workload),
        ],
        cwd=library.root,
        capture_output=True,
        text=True,
    )
    recorded = set()
    for line in done.stderr.splitlines():
        # "perfpilot: captured 64 of 1200 calls of PATH::QUALNAME"
        if line.startswith("perfpilot: captured ") and " of " in line:
            name = line.split(" calls of ", 1)[-1].split(" call of ", 1)[-1].split(" (")[0]
            if not line.startswith("perfpilot: captured 0 "):
                recorded.add(name.strip())
    return recorded


def verify(library: Library, function: str, budget: float) -> list[dict[str, object]]:
    """`perfpilot verify PATH::QUALNAME --output-format json`: one record per fix."""
    done = subprocess.run(
        [*PERFPILOT, "verify", function, "--budget", str(budget), "--output-format", "json"],
        cwd=library.root,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):
        print(f"  verify {function}: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return []
    return json.loads(done.stdout)


def uncapturable_reason(library: Library, fire: Fire) -> str | None:
    """Why calls of the fire's function cannot be recorded on main (generator, async)."""
    from perfpilot.tools.verify.capture import uncapturable

    path = library.root / fire.path
    return uncapturable(str(path), fire.qualname, path.read_text(encoding="utf-8"))


def measure(library: Library, codes: set[str] | None, budget: float) -> list[Fire]:
    """Fires of one library, each with its verified speedup or the reason it has none."""
    fires = fires_of(library, codes)
    functions = {}
    for fire in fires:
        reason = uncapturable_reason(library, fire)
        if reason:
            fire.verdict = f"cannot be captured: {reason.removeprefix('it is ')}"
            continue
        functions[f"{fire.path}::{fire.qualname}"] = fire.path
    print(
        f"{library.name}: {len(fires)} fires in {len(functions)} capturable functions",
        file=sys.stderr,
        flush=True,
    )
    recorded = capture(library, sorted(functions)) if functions else set()
    by_function: dict[str, list[Fire]] = defaultdict(list)
    for fire in fires:
        if not fire.verdict:
            by_function[f"{fire.path}::{fire.qualname}"].append(fire)
    for function, group in sorted(by_function.items()):
        called = any(function.endswith(name) or name.endswith(function) for name in recorded)
        for fire in group:
            fire.called = called
            if not called:
                fire.verdict = "not called by the workload"
        if not called:
            continue
        print(f"  verify {function} ({len(group)} fires)", file=sys.stderr, flush=True)
        records = verify(library, function, budget)
        for fire in group:
            record = next(
                (r for r in records if r["code"] == fire.code and r["line"] == fire.line), None
            )
            _judge(fire, record)
    return fires


def _judge(fire: Fire, record: dict[str, object] | None) -> None:
    if record is None:
        fire.verdict = "verify did not report it"
        return
    verdict = record.get("verdict")
    if not isinstance(verdict, dict):
        fire.verdict = f"refused: {record.get('refusal')}"
        return
    fire.verdict = str(verdict["summary"])
    speed = verdict.get("speed")
    # The json names kinds as `faster`, `not_faster`, ...: the two with equal behaviour, timed.
    kind = str(verdict["kind"]).replace("_", " ")
    if kind in ("faster", "not faster") and isinstance(speed, dict):
        fire.noise = float(speed["noise"])
        if fire.noise > MAX_NOISE:
            fire.verdict = f"too noisy: A/A noise {100 * fire.noise:.0f}% ({fire.verdict})"
            return
        fire.speedup = float(speed["speedup"])
        fire.faster = kind == "faster"


def reason_of(fire: Fire) -> str:
    """A short reason for the table (the verdict's kind, or the first words of why)."""
    text = fire.verdict
    prefixes = ("differs", "nondeterministic", "unverified", "refused", "too noisy")
    for prefix in (*prefixes, "cannot be captured"):
        if text.startswith(prefix):
            return prefix if prefix != "cannot be captured" else text
    return text.split(":")[0]


def table(fires: list[Fire]) -> str:
    """The Markdown table: one row per skill."""
    rows: dict[str, SkillRow] = {}
    for fire in fires:
        row = rows.setdefault(fire.code, SkillRow(fire.code, fire.skill))
        row.fires += 1
        row.called += fire.called
        if fire.speedup is not None:
            row.speedups.append(fire.speedup)
            row.faster += fire.faster
        else:
            row.reasons[reason_of(fire)] += 1
    lines = [
        "| code | skill | fires | called | verified | faster | median | min–max "
        "| not verified: why |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for code in sorted(rows):
        row = rows[code]
        got = row.speedups
        median = f"{statistics.median(got):.3f}" if got else "unmeasured"
        spread = f"{min(got):.2f}–{max(got):.2f}" if got else "-"
        why = ", ".join(f"{reason} ×{n}" for reason, n in row.reasons.most_common()) or "-"
        lines.append(
            f"| {code} | {row.name} | {row.fires} | {row.called} | {len(got)} | {row.faster}"
            f" | {median} "
            f"| {spread} | {why} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Measure the libraries named (all by default) and print the per-skill table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("libraries", nargs="*", help="names from manifest.toml (default: all)")
    parser.add_argument("--budget", type=float, default=5.0, help="verify seconds per fix")
    parser.add_argument("--codes", help="only these codes, comma-separated (e.g. PP107)")
    parser.add_argument("--json", type=Path, help="also write every fire with its verdict here")
    args = parser.parse_args()
    codes = set(args.codes.split(",")) if args.codes else None
    fires: list[Fire] = []
    for library in load_libraries(args.libraries):
        if not library.python.exists():
            sys.exit(f"{library.name}: not fetched; run benchmarks/corpus/fetch.py first")
        fires += measure(library, codes, args.budget)
        if args.json:  # after each library: a long run interrupted still leaves its figures
            args.json.write_text(json.dumps([asdict(f) for f in fires], indent=1))
    print(table(fires))
    print(f"\n(corpus: {work_dir()}; verify budget {args.budget:g} s per fix)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    raise SystemExit(main())
