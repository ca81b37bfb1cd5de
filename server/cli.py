"""The `perfpilot` command line: `check` (findings for CI and terminals) and `profile`."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

from perfpilot.server.render import OUTPUT_FORMATS, display_path, package_version
from perfpilot.server.startup_gc import collect_less, exiting

# Every other module is imported by the function that needs it: `perfpilot --version` imports
# nothing more, each subcommand only what it runs (libcst skills, profile loaders, the LLM
# client), and `perfpilot mcp` must answer its client within a few hundred ms.
SAMPLERS = ("cprofile", "py-spy")  # tools.profiling's, checked equal by a test

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem with what the user asked for; reported in one line, exit status 2."""


# Subcommands defined in their own modules: (module, register function, {command: help}).
# Only the module of the command being run is imported; the others are listed with their help
# line alone (a test checks that these lines are the modules' own).
REGISTERED_ELSEWHERE = [
    (
        "perfpilot.server.optimize_cli",
        "register_optimize",
        {
            "optimize": "ask the LLM agent for a faster version of one function"
            " (needs the LLM enabled)"
        },
    ),
    (
        "perfpilot.server.mcp.cli",
        "register_mcp",
        {"mcp": "run the MCP server for coding agents (stdio by default)"},
    ),
    (
        "perfpilot.server.fetch_cli",
        "register_fetch",
        {"fetch": "fetch production profiles from Pyroscope or Parca into .perfpilot/profiles"},
    ),
    (
        "perfpilot.server.defense_cli",
        "register_history_commands",
        {
            "record": "profile a command (or import profiles) into history",
            "history": "show recorded runs, or one function's series",
        },
    ),
    (
        "perfpilot.server.regress_cli",
        "register_regress",
        {"regress": "find functions that got slower between commits"},
    ),
    (
        "perfpilot.server.verify_cli",
        "register_verify",
        {
            "capture": "run a command and record calls of hot functions (for verify)",
            "verify": "replay recorded calls against each fix: behaviour and speed",
        },
    ),
]


class _VersionAction(argparse.Action):
    """`--version` anywhere on the line: the version is read (importlib.metadata) only then."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        parser.exit(message=f"{parser.prog} {package_version()}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser; with `command`, only that subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog="perfpilot", description="A performance copilot for Python."
    )
    parser.add_argument("--version", action=_VersionAction)
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
        "--select",
        action="append",
        metavar="CODES",
        help="report and fix only these codes or prefixes, e.g. PP1,PP001 (default: all)",
    )
    check.add_argument(
        "--ignore", action="append", metavar="CODES", help="leave these codes or prefixes out"
    )
    check.add_argument(
        "--include-unproven",
        action="store_true",
        help="also offer fixes of skills measured below 1.05x on the corpus (see `perfpilot"
        " skills`)",
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
    for module, register, helps in REGISTERED_ELSEWHERE:
        if command is None or command in helps:
            getattr(import_module(module), register)(commands)
        else:
            for name, help_line in helps.items():
                commands.add_parser(name, help=help_line)
    return parser


def expected_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's input, reported in one line with exit status 2."""
    from perfpilot.server.defense_cli import DefenseUsageError
    from perfpilot.server.mcp.cli import McpUsageError
    from perfpilot.server.verify_cli import VerifyUsageError
    from perfpilot.tools.config import ConfigError
    from perfpilot.tools.defense.history import HistoryError
    from perfpilot.tools.defense.repo import GitError
    from perfpilot.tools.model import ProfileError
    from perfpilot.tools.profiling import ProfilingError

    return (
        UsageError,
        McpUsageError,
        VerifyUsageError,
        ConfigError,
        ProfileError,
        ProfilingError,
        DefenseUsageError,
        HistoryError,
        GitError,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    if argv is not None:  # called from Python (a test): the interpreter goes on afterwards
        return _run(list(argv))
    arguments = sys.argv[1:]
    if not {"serve", "mcp"} & set(arguments):  # servers run long: they collect as usual
        collect_less()  # a command allocates much and frees little: see startup_gc.py
    try:
        return _run(arguments)
    finally:
        exiting()


def _run(arguments: list[str]) -> int:
    if arguments == ["--version"]:  # the whole parser (every subcommand's module) not needed
        print(f"perfpilot {package_version()}")
        return EXIT_CLEAN
    named = next((a for a in arguments if not a.startswith("-")), None)
    args = build_parser(named).parse_args(arguments)
    try:
        if args.command == "check":
            from perfpilot.server.check import run_check

            return run_check(args)
        if args.command == "serve":
            return run_serve(args)
        if args.command == "skills":
            from perfpilot.server.skills_cli import run_skills

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
            from perfpilot.server.defense_cli import run_record

            return run_record(args)
        if args.command == "history":
            from perfpilot.server.defense_cli import run_history

            return run_history(args)
        if args.command == "regress":
            from perfpilot.server.regress_cli import run_regress

            return run_regress(args)
        if args.command == "capture":
            from perfpilot.server.verify_cli import run_capture_command

            return run_capture_command(args)
        if args.command == "verify":
            from perfpilot.server.verify_cli import run_verify

            return run_verify(args)
        return run_profile(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug must still not print a traceback at users
        if isinstance(exc, expected_errors()):  # their modules load only when one is raised
            print(f"perfpilot: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
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
    from perfpilot.tools.config import find_workspace_root
    from perfpilot.tools.profiling import run_profiled

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
        from perfpilot.server.verify_cli import capture_hot

        return capture_hot(root, cwd, command, [str(run.output)], args.top)
    # A program killed by a signal exits like a shell reports it: 128 + the signal number.
    return status if status >= 0 else 128 - status


def run_serve(args: argparse.Namespace) -> int:
    """`perfpilot serve`: the language server on stdio, or on TCP (loopback unless told)."""
    from perfpilot.server.lsp.app import create_server  # pygls only loads for `serve`
    from perfpilot.tools.free_memory import use_one_malloc_arena

    use_one_malloc_arena()  # before the load and skill threads start (see free_memory.py)
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
