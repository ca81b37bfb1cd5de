"""The `perfpilot` command line: `check` (findings for CI and terminals) and `profile`."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from perfpilot.server.defense_cli import (
    DefenseUsageError,
    register_history_commands,
    run_history,
    run_record,
)
from perfpilot.server.fetch_cli import register_fetch
from perfpilot.server.mcp.cli import McpUsageError, register_mcp
from perfpilot.server.optimize_cli import register_optimize
from perfpilot.server.regress_cli import register_regress, run_regress
from perfpilot.server.render import OUTPUT_FORMATS, display_path, package_version
from perfpilot.server.verify_cli import (
    VerifyUsageError,
    capture_hot,
    register_verify,
)
from perfpilot.tools.config import (
    ConfigError,
    find_workspace_root,
)
from perfpilot.tools.defense.history import HistoryError
from perfpilot.tools.defense.repo import GitError
from perfpilot.tools.model import ProfileError
from perfpilot.tools.profiling import SAMPLERS, ProfilingError, run_profiled

# The heavier modules (libcst skills, profile loaders, the LLM client) are imported by the
# subcommand that needs them: `perfpilot mcp` must answer its client within a few hundred ms.

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DEFENSE_ERRORS = (DefenseUsageError, HistoryError, GitError)


class UsageError(Exception):
    """A problem with what the user asked for; reported in one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="perfpilot", description="A performance copilot for Python."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="report hot functions from profiles")
    check.add_argument("paths", nargs="*", metavar="PATH", help="only report findings here")
    check.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="FILE|SPEC",
        help="profile file, or a profiler query: pyroscope+https://HOST?query=... (repeatable)",
    )
    check.add_argument("--run", metavar="CMD", help="profile this command now and use the result")
    check.add_argument("--sampler", choices=SAMPLERS, default="cprofile", help="for --run")
    check.add_argument("--threshold", type=_percentage, metavar="PCT", help="minimum own share")
    check.add_argument("--output-format", choices=OUTPUT_FORMATS, default="text")
    check.add_argument(
        "--path-mapping",
        action="append",
        default=[],
        metavar="FROM=TO",
        help="rewrite a recorded path prefix to a workspace path (repeatable)",
    )
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    check.add_argument("--fix", action="store_true", help="apply safe fixes to the files")
    check.add_argument(
        "--unsafe-fixes", action="store_true", help="with --fix or --diff, apply unsafe fixes too"
    )
    check.add_argument(
        "--diff", action="store_true", help="print the fixes as a unified diff; change nothing"
    )
    check.add_argument(
        "--verify",
        action="store_true",
        help="measure each fix on recorded calls (runs your code; see `perfpilot capture`);"
        " with --fix, apply only fixes verified faster",
    )
    check.add_argument(
        "--budget", type=float, default=None, metavar="SECONDS", help="verify time per fix"
    )
    check.add_argument(
        "--tests", action="store_true", help="with --verify, also run the covering tests"
    )
    check.add_argument(
        "--diff-all",
        action="store_true",
        help="like --diff, then every fix it leaves out (unsafe, display-only), each marked",
    )
    check.add_argument(
        "--include-generated",
        action="store_true",
        help="look for fix opportunities in generated files too (skipped by default)",
    )
    check.add_argument(
        "--all",
        action="store_true",
        dest="all_functions",
        help="look for fix opportunities in every function, not only the hot ones",
    )
    check.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        metavar="N",
        help="processes for scanning files (default: one per core; 1: none)",
    )

    skills = commands.add_parser(
        "skills",
        help="list the skills, print one, or `skills export DIR` (Agent Skills folders)",
    )
    skills.add_argument("name", nargs="?", help="print this skill's SKILL.md, or `export`")
    skills.add_argument("directory", nargs="?", help="with `export`: where to write the folders")

    serve = commands.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen on TCP instead (HOST defaults to 127.0.0.1)"
    )

    profile = commands.add_parser("profile", help="run a Python command under a profiler")
    profile.add_argument("-o", "--output", metavar="FILE", help="where to write the profile")
    profile.add_argument("--sampler", choices=SAMPLERS, default="cprofile")
    profile.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")
    profile.add_argument(
        "--capture",
        action="store_true",
        help="then run the command again, recording calls of the hottest functions",
    )
    profile.add_argument(
        "--top", type=int, default=10, metavar="N", help="with --capture: how many functions"
    )
    register_optimize(commands)
    register_mcp(commands)
    register_fetch(commands)
    register_history_commands(commands)
    register_regress(commands)
    register_verify(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            from perfpilot.server.check import run_check

            return run_check(args)
        if args.command == "serve":
            return run_serve(args)
        if args.command == "skills":
            return run_skills(args)
        if args.command == "mcp":
            from perfpilot.server.mcp.cli import run_mcp

            return run_mcp(args)
        if args.command == "optimize":
            from perfpilot.server.optimize_cli import run_optimize

            return run_optimize(args)
        if args.command == "fetch":
            from perfpilot.server.fetch_cli import run_fetch

            return run_fetch(args)
        if args.command == "record":
            return run_record(args)
        if args.command == "history":
            return run_history(args)
        if args.command == "regress":
            return run_regress(args)
        if args.command == "capture":
            from perfpilot.server.verify_cli import run_capture_command

            return run_capture_command(args)
        if args.command == "verify":
            from perfpilot.server.verify_cli import run_verify

            return run_verify(args)
        return run_profile(args)
    except (
        UsageError,
        McpUsageError,
        VerifyUsageError,
        ConfigError,
        ProfileError,
        ProfilingError,
        *DEFENSE_ERRORS,
    ) as exc:
        print(f"perfpilot: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug must still not print a traceback at users
        if os.environ.get("PERFPILOT_DEBUG"):
            raise
        print(
            f"perfpilot: internal error: {type(exc).__name__}: {exc}"
            " (set PERFPILOT_DEBUG=1 for the traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _positive_int(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, got {text!r}")
    return value


def run_profile(args: argparse.Namespace) -> int:
    """`perfpilot profile -- CMD...`: profile a command, write the profile, pass its status on."""
    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("nothing to profile: perfpilot profile [-o FILE] -- CMD...")
    cwd = Path.cwd()
    output = Path(args.output) if args.output else None
    root = find_workspace_root(cwd)
    run = run_profiled(command, cwd, args.sampler, output, root=root)
    where = display_path(str(run.output), cwd)
    status = run.returncode
    if status == 0:
        print(f"perfpilot: wrote {where} ({run.seconds:.2f} s, exit status 0)", file=sys.stderr)
    elif run.set_aside:
        print(
            f"perfpilot: `{shlex.join(command)}` failed (exit status {status}); its profile is"
            f" kept aside as {where}, where `perfpilot check` does not look",
            file=sys.stderr,
        )
    else:
        print(
            f"perfpilot: wrote {where} ({run.seconds:.2f} s), but `{shlex.join(command)}` failed"
            f" (exit status {status}): the profile may not cover the whole program",
            file=sys.stderr,
        )
    if args.capture and status == 0:
        return capture_hot(root, cwd, command, [str(run.output)], args.top)
    # A program killed by a signal exits like a shell reports it: 128 + the signal number.
    return status if status >= 0 else 128 - status


def run_skills(args: argparse.Namespace) -> int:
    """`perfpilot skills [NAME]`: one line per skill, or one skill's text."""
    from perfpilot.skills.registry import discover

    root = find_workspace_root(Path.cwd())
    if args.name == "export":
        return run_skills_export(args, root)
    if args.directory:
        raise UsageError(f"unexpected argument {args.directory!r}")
    found = discover(root)
    for problem in found.problems:
        print(f"perfpilot: warning: skill {problem}", file=sys.stderr)
    if args.name:
        skill = found.by_name(args.name) or found.by_code(args.name.upper())
        if skill is None:
            raise UsageError(f"no skill named {args.name!r} (see `perfpilot skills`)")
        sys.stdout.write(skill.path.read_text(encoding="utf-8"))
        return EXIT_CLEAN
    for skill in found.skills:
        how = "transform" if skill.transform is not None else "words only"
        usual, _, conditions = skill.applicability_rule().partition("; ")
        print(
            f"{skill.code or '-':6} {skill.name:28} {usual:12} {how:10} {skill.origin}"
            f"  {skill.description.split('. ')[0].rstrip('.')}"
        )
        if conditions:  # what lowers or raises a fix's applicability, from SKILL.md
            print(f"{'':6} {conditions}")
    return EXIT_CLEAN


def run_skills_export(args: argparse.Namespace, root: Path) -> int:
    """`perfpilot skills export DIR`: the built-in and installed skills as Agent Skills."""
    from perfpilot.skills.agent_skills import export_skills
    from perfpilot.skills.registry import discover

    if not args.directory:
        raise UsageError("skills export: where to? perfpilot skills export DIR")
    found = discover(root, transforms=False)
    for problem in found.problems:
        print(f"perfpilot: warning: skill {problem}", file=sys.stderr)
    skills = [s for s in found.skills if s.origin != "workspace"]
    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{args.directory}: not a directory")
    try:
        folders = export_skills(skills, target)
    except (OSError, ValueError) as exc:
        raise UsageError(f"skills export: {exc}") from None
    for folder in folders:
        print(display_path(str(folder), Path.cwd()))
    print(
        f"perfpilot: wrote {len(folders)} Agent Skills folders to {args.directory}", file=sys.stderr
    )
    return EXIT_CLEAN


def run_serve(args: argparse.Namespace) -> int:
    """`perfpilot serve`: the language server on stdio, or on TCP (loopback unless told)."""
    from perfpilot.server.lsp.app import create_server  # pygls only loads for `serve`

    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            raise UsageError(f"--tcp {args.tcp}: expected HOST:PORT or :PORT")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return EXIT_CLEAN


def _percentage(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage (0-100)")
    return value


if __name__ == "__main__":
    raise SystemExit(main())
