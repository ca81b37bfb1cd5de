"""`perfpilot check`'s offense half: which files to scan, fix mode, and the fix summary."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from perfpilot.server.offense_pool import reports_in_pool, worker_count
from perfpilot.server.render import FixSummary, display_path
from perfpilot.skills import verdicts
from perfpilot.skills.fixing import Evidence, FileReport, process_file
from perfpilot.skills.registry import Skill, discover
from perfpilot.tools.code_selection import CodeSelection
from perfpilot.tools.hotspots import under_any
from perfpilot.tools.model import Applicability
from perfpilot.tools.source_index import WorkspaceIndex
from perfpilot.tools.validate.syntax import project_python

if TYPE_CHECKING:  # --verify only: its modules (asyncio, the capture store) load with it
    from perfpilot.skills.verifying import Verifier
    from perfpilot.tools.verify.verify_fix import VerifySettings


class OffenseOptions(Protocol):
    """The flags the offense half reads (`perfpilot check`'s, or the MCP check tool's)."""

    fix: bool
    diff: bool
    unsafe_fixes: bool
    all_functions: bool
    unsafe_setting: bool
    include_generated: bool  # fix opportunities in generated files too
    diff_all: bool  # with diff: each fix left out, marked, after the patch
    include_unproven: bool  # offer skills measured not to win on the corpus (the user's opt-in)
    codes: CodeSelection  # --select / --ignore: skills not wanted do not even run


@dataclass
class OffenseRun:
    """Reports per file, the summary, and the files that could not be handled."""

    reports: list[FileReport] = field(default_factory=list)
    summary: FixSummary = field(default_factory=FixSummary)
    errors: list[str] = field(default_factory=list)


def run_offense(
    args: OffenseOptions,
    root: Path,
    index: WorkspaceIndex,
    hot_by_file: Mapping[str, Mapping[str, Evidence]],
    paths: Sequence[str] | None,
    progress: Callable[[int, int, str], None] | None = None,
    verify: VerifySettings | None = None,
    jobs: int = 1,
) -> OffenseRun:
    """Scan (and with --fix/--diff, fix) the hot functions' files, or every file with --all.

    `progress(done, total, path)` runs before each file (after each, with a process pool); it
    may raise to stop the run. `jobs` > 1 allows a forked pool where there are files enough.
    With `verify` (--verify), every fix is measured on recorded calls: findings carry the
    verdict, and --fix/--diff apply only fixes verified faster.
    """
    mode = "fix" if args.fix and not args.diff else "diff" if args.diff else "report"
    unsafe = args.unsafe_fixes or (args.unsafe_setting and mode != "report")
    minimum = Applicability.UNSAFE if unsafe else Applicability.SAFE
    run = OffenseRun(summary=FixSummary(mode=mode, unsafe=unsafe))
    if args.all_functions:
        files = [os.path.join(index.root, rel) for rel in index.python_files()]
    else:
        files = sorted(hot_by_file)
    files = [p for p in files if paths is None or under_any(p, paths)]
    if not files:
        return run  # no hot function here: the skills (and libcst with them) are not loaded
    # Lazy: a transform is imported when a function first triggers its skill (most never do).
    skills = discover(root, lazy=True)
    for problem in skills.problems:
        print(f"perfpilot: warning: skill {problem}", file=sys.stderr)
    active = [s for s in skills.with_transforms() if args.codes.wants(s.code)]
    python = project_python(str(root))
    check: Verifier | None = None
    if verify is not None:
        from perfpilot.skills.verifying import verifier

        check = verifier(str(root), verify)
    else:
        problem = verdicts.load(str(root))  # `perfpilot verify` earlier: rank and offer by it
        if problem:
            print(f"perfpilot: warning: {problem}", file=sys.stderr)

    def one_file(path: str) -> FileReport:
        hot = None if args.all_functions else hot_by_file[path]
        if check is not None and mode == "report":
            return _verified_report(
                path, hot, active, check, str(root), python, args.include_unproven
            )
        return process_file(
            path,
            hot,
            active,
            mode=mode,
            minimum=minimum,
            root=str(root),
            python=python,
            display=display_path(path, root),
            verify=check,
            include_generated=args.include_generated,
            show_all=args.diff_all,
            include_unproven=args.include_unproven,
        )

    # Verification runs the user's code under a time budget per fix: it stays sequential.
    workers = worker_count(len(files), jobs) if check is None else 1
    if workers > 1:
        # Imported once, before the fork, rather than once in every worker.
        for problem in skills.load_transforms():
            print(f"perfpilot: warning: skill {problem}", file=sys.stderr)
        active = [s for s in active if s in skills.skills]
        reports: Iterable[FileReport] = reports_in_pool(files, one_file, workers, progress)
    else:
        reports = _one_by_one(files, one_file, progress)
    for report in reports:
        if report.error:
            print(f"perfpilot: error: {report.error}", file=sys.stderr)
            run.errors.append(report.error)
        run.reports.append(report)
        _count(run.summary, report)
    for skill in active:  # a transform that failed to import when a function triggered it
        if skill.loader is not None and skill.loader.error is not None:
            print(f"perfpilot: warning: skill {skill.loader.error}", file=sys.stderr)
    return run


def _verified_report(
    path: str,
    hot: Mapping[str, Evidence] | None,
    skills: Sequence[Skill],
    check: Verifier,
    root: str,
    python: tuple[int, int] | None,
    include_unproven: bool,
) -> FileReport:
    """Every fix verified; the offered ones reported, largest expected saving first."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FileReport(path, [], error=f"{path}: cannot read: {exc}")
    from perfpilot.skills.verifying import verified_opportunities

    found = verified_opportunities(
        text, path, hot, skills, check, root=root, python=python, include_unproven=include_unproven
    )
    found.sort(key=lambda v: (-(v.found.saving or 0.0), v.finding.line, v.finding.column))
    return FileReport(path, [item.finding for item in found])


def _one_by_one(
    files: Sequence[str],
    one_file: Callable[[str], FileReport],
    progress: Callable[[int, int, str], None] | None,
) -> Iterator[FileReport]:
    for done, path in enumerate(files):
        if progress is not None:
            progress(done, len(files), path)
        yield one_file(path)


def _count(summary: FixSummary, report: FileReport) -> None:
    summary.opportunities += len(report.findings)
    summary.unproven += report.unproven
    if report.skipped_generated:
        summary.generated_files += 1
        summary.skipped_generated += report.skipped_generated
    fixes = report.fixes
    if fixes is None:
        return
    summary.applied += len(fixes.applied)
    summary.files_changed += 1 if fixes.applied and (report.written or report.diff) else 0
    summary.hidden_unsafe += len(fixes.hidden_unsafe)
    summary.display_only += len(fixes.display_only)
    summary.refused += [(report.path, title, reason) for title, reason in fixes.refused]
    summary.held += [(report.path, title, verdict) for title, verdict in fixes.held]
