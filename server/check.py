"""`perfpilot check`: choose profiles, check each project a PATH belongs to, render the result."""

from __future__ import annotations

import argparse
import glob
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from perfpilot.server.check_core import CheckOptions, CheckOutcome, check_workspace
from perfpilot.server.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, UsageError
from perfpilot.server.progress import progress_bar
from perfpilot.server.render import FixSummary, Summary, display_path, render
from perfpilot.tools.code_selection import CodeSelection, CodeSelectionError, parse_codes
from perfpilot.tools.config import (
    OUTSIDE,
    PROFILES_DIR,
    Settings,
    find_workspace_root,
    load_settings,
    parse_path_mapping,
    within_workspace,
)
from perfpilot.tools.hotspots import under_any
from perfpilot.tools.model import Profile
from perfpilot.tools.profiles.remote.spec import RemoteSpec, is_remote_spec
from perfpilot.tools.user_config import user_includes_unproven

if TYPE_CHECKING:  # --verify only
    from perfpilot.tools.verify.verify_fix import VerifySettings


def run_check(args: argparse.Namespace) -> int:
    """`perfpilot check`: map profiles onto the workspace, find opportunities, maybe fix them.

    A PATH outside the current directory's project is checked in its own project (the nearest
    pyproject.toml or .git above it) with that project's settings, as ruff does.
    """
    args.diff = args.diff or args.diff_all
    if args.unsafe_fixes and not (args.fix or args.diff):
        raise UsageError("--unsafe-fixes needs --fix or --diff")
    cwd = Path.cwd()
    home = find_workspace_root(cwd)
    paths = [_existing_path(cwd, p) for p in args.paths] or None
    explicit = _explicit_profiles(args, cwd, home)
    loaded: dict[str, Profile] = {}  # a profile shared by several projects is read once
    bar = progress_bar(args.output_format)  # None unless stderr is a terminal and text output
    try:
        checks = [
            _check_project(args, root, group, explicit, cwd, loaded, bar)
            for root, group in _projects_of(paths, home).items()
        ]
    finally:
        if bar is not None:
            bar.finish()
    findings = [f for check in checks for f in check.findings]
    reports = [r for check in checks for r in check.offense.reports]
    summary = _combined_summary(checks)
    if args.diff:
        sys.stdout.write("".join(report.diff for report in reports))
        sys.stdout.write("".join(report.unapplied_diff for report in reports))
        sys.stderr.write(render("text", [], summary, home).splitlines()[-1] + "\n")
        changed = any(report.diff for report in reports)
        return EXIT_FINDINGS if changed and not args.exit_zero else EXIT_CLEAN
    sys.stdout.write(render(args.output_format, findings, summary, home))
    if any(check.offense.errors for check in checks):
        return EXIT_ERROR
    return EXIT_FINDINGS if findings and not args.exit_zero else EXIT_CLEAN


def _check_project(
    args: argparse.Namespace,
    root: Path,
    paths: list[str] | None,
    explicit: list[str | RemoteSpec] | None,
    cwd: Path,
    loaded: dict[str, Profile],
    bar: Callable[[int, int, str], None] | None,
) -> CheckOutcome:
    """Check one project with its own settings; `paths` (absolute) narrow the findings."""
    settings = load_settings(root)
    for warning in settings.warnings:
        print(f"perfpilot: warning: {warning}", file=sys.stderr)
    threshold = settings.threshold if args.threshold is None else args.threshold
    mappings = [*settings.path_mappings, *(parse_path_mapping(m) for m in args.path_mapping)]
    profile_paths: list[str | RemoteSpec]
    try:
        profile_paths = explicit or list(_configured_profiles(settings.profiles, root, cwd))
    except UsageError:
        if not args.all_functions:
            raise
        profile_paths = []  # --all without any profile: opportunities only
    options = CheckOptions(
        threshold=threshold,
        mappings=mappings,
        paths=paths,
        fix=args.fix,
        diff=args.diff,
        unsafe_fixes=args.unsafe_fixes,
        all_functions=args.all_functions,
        unsafe_setting=settings.unsafe_fixes,
        include_generated=args.include_generated or settings.include_generated,
        diff_all=args.diff_all,
        verify=_verify_settings(args, settings) if args.verify else None,
        jobs=args.jobs or os.cpu_count() or 1,
        include_unproven=_include_unproven(args.include_unproven, settings),
        codes=_codes(args, settings),
    )
    return check_workspace(root, profile_paths, options, bar, loaded=loaded, cwd=cwd)


def _codes(args: argparse.Namespace, settings: Settings) -> CodeSelection:
    """--select/--ignore, each replacing the project's `select`/`ignore` when given."""
    try:
        select = parse_codes(args.select, "--select") if args.select else settings.select
        ignore = parse_codes(args.ignore, "--ignore") if args.ignore else settings.ignore
    except CodeSelectionError as exc:
        raise UsageError(str(exc)) from None
    return CodeSelection(select, ignore)


def _include_unproven(flag: bool, settings: Settings) -> bool:
    """--include-unproven (or the user's config), unless the project's `= false` turns it off."""
    in_config, warning = user_includes_unproven()
    if warning:
        print(f"perfpilot: warning: {warning}", file=sys.stderr)
    asked = flag or in_config
    if flag and settings.forbid_unproven:
        print(
            "perfpilot: warning: --include-unproven ignored: [tool.perfpilot] include_unproven"
            " = false in this project",
            file=sys.stderr,
        )
    return asked and not settings.forbid_unproven


def _projects_of(paths: list[str] | None, home: Path) -> dict[Path, list[str] | None]:
    """Group the checked paths by project; no paths: the whole home project.

    A path inside the home project (the current directory's) is checked there, nested
    pyproject.toml or not: a monorepo's profile is recorded at its top and maps onto all of
    it. A path outside is checked in the project above it.
    """
    if paths is None:
        return {home: None}
    groups: dict[Path, list[str] | None] = {}
    for path in paths:
        start = Path(path) if os.path.isdir(path) else Path(path).parent
        inside = under_any(path, [str(home)])
        group = groups.setdefault(home if inside else find_workspace_root(start), [])
        assert group is not None
        group.append(path)
    return groups


def _combined_summary(checks: list[CheckOutcome]) -> Summary:
    """One summary for the summary line: profiles of every project, fix counts added up."""
    first = checks[0].summary
    profiles = list(dict.fromkeys(p for c in checks for p in c.summary.profiles))
    formats = sorted({f for c in checks for f in c.summary.formats})
    fixes = _added_up([check.offense.summary for check in checks])
    return replace(first, profiles=profiles, formats=formats, fixes=fixes)


def _added_up(parts: list[FixSummary]) -> FixSummary:
    """The projects' fix summaries as one: counts added, lists joined, the rest the first's.

    Generic over the fields, so a count added to FixSummary later is never silently dropped.
    """
    total = replace(parts[0])
    for part in parts[1:]:
        for spec in fields(FixSummary):
            mine, theirs = getattr(total, spec.name), getattr(part, spec.name)
            if isinstance(mine, int) and not isinstance(mine, bool):
                setattr(total, spec.name, mine + theirs)
            elif isinstance(mine, list):
                setattr(total, spec.name, [*mine, *theirs])
    return total


def _explicit_profiles(
    args: argparse.Namespace, cwd: Path, home: Path
) -> list[str | RemoteSpec] | None:
    """Profiles named on the command line (--run, else --profile); None lets each project choose."""
    if args.run:
        command = shlex.split(args.run)
        # The program's output goes to stderr: stdout carries the findings (maybe JSON/SARIF).
        from perfpilot.tools.profiling import run_profiled  # --run only: asyncio and the rest

        run = run_profiled(command, cwd, args.sampler, stdout=sys.stderr, root=home)
        if run.returncode != 0:
            kept = f" (kept as {display_path(str(run.output), cwd)})" if run.set_aside else ""
            raise UsageError(
                f"`{args.run}` exited with status {run.returncode}; not using its profile{kept}"
            )
        return [str(run.output)]
    if args.profile:
        now = datetime.now(timezone.utc)  # one `now` for all specs: their windows line up
        # The remote client (http.client, ssl) loads only when a spec names a server.
        parse_remote = _remote_parser() if any(map(is_remote_spec, args.profile)) else None
        return [
            parse_remote(pattern, now) if parse_remote and is_remote_spec(pattern) else path
            for pattern in args.profile
            for path in ([pattern] if is_remote_spec(pattern) else _expand(pattern, cwd, True))
        ]
    return None


def _remote_parser() -> Callable[[str, datetime], RemoteSpec]:
    from perfpilot.tools.profiles.remote import parse_remote

    return parse_remote


def _configured_profiles(configured: list[str], root: Path, cwd: Path) -> list[str]:
    """[tool.perfpilot] profiles of the project at `root`, else its newest stored profile."""
    if configured:
        found = _inside([p for pattern in configured for p in _expand(pattern, root, False)], root)
        if not found:
            raise UsageError(
                f"no file matches [tool.perfpilot] profiles = {configured!r} under {root}"
            )
        return found
    directory = root / PROFILES_DIR
    # Only the folder's own files: failed runs are kept in a subfolder, never chosen here.
    candidates = [p for p in directory.glob("*") if p.is_file()] if directory.is_dir() else []
    candidates = [Path(p) for p in _inside([str(p) for p in candidates], root)]
    if not candidates:
        raise UsageError(
            "no profile: pass --profile FILE or --run CMD, set [tool.perfpilot] profiles,"
            f" or run `perfpilot profile -- CMD` to fill {display_path(str(directory), cwd)}"
        )
    return [str(max(candidates, key=lambda p: p.stat().st_mtime_ns))]


def _inside(paths: list[str], root: Path) -> list[str]:
    """Profiles found without being named must stay in the workspace (symlinks resolved)."""
    kept = []
    for path in paths:
        if within_workspace(path, root):
            kept.append(path)
        else:
            print(f"perfpilot: warning: {path} {OUTSIDE}", file=sys.stderr)
    return kept


def _expand(pattern: str, base: Path, required: bool) -> list[str]:
    full = os.path.normpath(pattern if os.path.isabs(pattern) else str(base / pattern))
    if glob.has_magic(pattern):
        matches = sorted(glob.glob(full, recursive=True))
        if not matches and required:
            raise UsageError(f"--profile {pattern}: no file matches")
        return matches
    return [full]


def _existing_path(cwd: Path, path: str) -> str:
    full = (cwd / path).resolve()
    if not full.exists():
        raise UsageError(f"{path}: no such file or directory")
    return str(full)


def _verify_settings(args: argparse.Namespace, settings: Settings) -> VerifySettings:
    """--verify's settings; verification's modules load only with the flag."""
    from perfpilot.server.verify_cli import verify_settings

    return verify_settings(args, settings)
