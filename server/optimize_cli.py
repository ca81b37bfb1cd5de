"""`perfpilot optimize PATH::FUNCTION [--profile FILE] [--apply]`: the LLM agent from a terminal.

The diff goes to stdout (so `> fix.diff` keeps a clean patch), the validation report to
stderr. Exit status: 0 a validated edit (written with --apply), 1 no edit survived
validation, 2 a usage, configuration or API problem.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from perfpilot.tools.agent_tools import FunctionRef, ToolContext
from perfpilot.tools.config import ConfigError, find_workspace_root, load_settings
from perfpilot.tools.edits import StaleFileError, apply_edits, read_for_update, write_if_unchanged
from perfpilot.tools.llm_config import LLMSettings, llm_settings
from perfpilot.tools.model import ProfileError
from perfpilot.tools.profiles.remote import is_remote_spec, parse_remote, save_fetched
from perfpilot.tools.registry import ToolError
from perfpilot.tools.user_config import user_config_path

if TYPE_CHECKING:  # the agent (anthropic) loads only when `optimize` runs
    from perfpilot.skills.agent import AgentResult

EXIT_FIXED, EXIT_NO_FIX, EXIT_ERROR = 0, 1, 2


class OptimizeError(Exception):
    """A problem with what was asked; one line, exit status 2."""


def register_optimize(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `optimize` subcommand to perfpilot's parser."""
    optimize = commands.add_parser(
        "optimize",
        help="ask the LLM agent for a faster version of one function (needs the LLM enabled)",
    )
    optimize.add_argument("target", metavar="PATH::FUNCTION", help="e.g. pkg/mod.py::Cls.method")
    optimize.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="FILE|SPEC",
        help="profile file, or a profiler query: pyroscope+https://HOST?query=... (repeatable)",
    )
    optimize.add_argument(
        "--skill", metavar="NAME", help="the skill to follow (default: optimize-hot-function)"
    )
    optimize.add_argument("--apply", action="store_true", help="write the validated edit")
    optimize.add_argument(
        "--verify",
        action="store_true",
        help="replay recorded calls against each proposal (runs your code; see perfpilot"
        " capture); a proposal that differs or is not faster goes back to the model",
    )
    optimize.add_argument(
        "--budget", type=float, default=None, metavar="SECONDS", help="verify time per proposal"
    )
    optimize.add_argument("--model", metavar="NAME", help="the model (overrides every setting)")
    optimize.add_argument(
        "--base-url", metavar="URL", help="where API requests go (a proxy; default: Anthropic)"
    )
    optimize.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="the environment variable holding the API key (default: ANTHROPIC_API_KEY)",
    )


def run_optimize(args: argparse.Namespace) -> int:
    """Run `perfpilot optimize`; returns the exit status (errors are printed in one line)."""
    try:
        return _optimize(args)
    except (OptimizeError, ConfigError, ProfileError, StaleFileError) as exc:
        print(f"perfpilot: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _optimize(args: argparse.Namespace) -> int:
    from perfpilot.skills.agent import run_agent

    cwd = Path.cwd()
    root = find_workspace_root(cwd)
    flags = {"model": args.model, "base_url": args.base_url, "api_key_env": args.api_key_env}
    llm = llm_settings(root, overrides=flags)
    for warning in llm.warnings:
        print(f"perfpilot: warning: {warning}", file=sys.stderr)
    if not llm.enabled:
        raise OptimizeError(
            f"the LLM is off: set `enabled = true` under [llm] in {user_config_path()} (your"
            " own settings; a repository's pyproject.toml cannot turn it on)"
        )
    path_text, sep, qualname = args.target.rpartition("::")
    if not sep or not path_text or not qualname:
        raise OptimizeError(f"{args.target}: expected PATH::FUNCTION, e.g. pkg/mod.py::parse")
    file = (cwd / path_text).resolve()
    if not file.is_file():
        raise OptimizeError(f"{path_text}: no such file")
    try:
        original, stamp = read_for_update(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise OptimizeError(f"{path_text}: cannot read: {exc}") from None
    ctx = _context(root, args.profile, file, original)
    _check_skill(ctx, args.skill)
    if args.verify:
        from perfpilot.tools.verify.verify_fix import DEFAULT_BUDGET, VerifySettings

        budget = args.budget if args.budget is not None else DEFAULT_BUDGET
        if budget <= 0:
            raise OptimizeError("--budget must be a positive number of seconds")
        ctx.verify = VerifySettings(budget=budget)
    try:
        ctx.function(str(file), qualname)
        ctx.target = FunctionRef(str(file), qualname)
    except ToolError as exc:
        raise OptimizeError(str(exc)) from None
    progress = _Progress(sys.stderr)
    try:
        result = asyncio.run(run_agent(ctx, llm, skill=args.skill, progress=progress))
    finally:
        progress.clear()
    if result.api_failed:
        # The API's answer is the whole story: one line, not an empty report around it.
        spent = result.input_tokens + result.output_tokens
        after = f" (after {result.turns} turns, {spent:,} tokens)" if result.turns else ""
        raise OptimizeError(f"{result.error or 'the API failed'}{after}")
    if result.fix is None or not result.fix.applicable:
        sys.stderr.write(report_text(result, llm, ctx.relative(file)))
        return EXIT_NO_FIX
    assert result.check is not None
    sys.stdout.write(result.check.diff)
    sys.stderr.write(report_text(result, llm, ctx.relative(file)))
    if args.apply:
        write_if_unchanged(file, original, stamp, apply_edits(original, result.fix.edits))
        print(f"perfpilot: wrote {ctx.relative(file)}", file=sys.stderr)
    return EXIT_FIXED


def _context(root: Path, profiles: list[str], file: Path, text: str) -> ToolContext:
    from perfpilot.skills.registry import discover
    from perfpilot.tools.profile_session import ProfileSession
    from perfpilot.tools.validate.syntax import project_python

    settings = load_settings(root)
    session = ProfileSession(str(root), settings)
    if profiles:
        now = datetime.now(timezone.utc)
        # A remote source is fetched into a private scratch folder, loaded, and forgotten.
        with tempfile.TemporaryDirectory(prefix="perfpilot-fetch-") as scratch:
            session.load_explicit(
                [
                    str(save_fetched(parse_remote(p, now), scratch))
                    if is_remote_spec(p)
                    else str((Path.cwd() / p).resolve())
                    for p in profiles
                ]
            )
    else:
        session.reload()
    if session.loaded is None:
        print("perfpilot: note: no profile loaded; the agent has no evidence", file=sys.stderr)
    skills = discover(root)
    return ToolContext(
        root=root,
        loaded=session.loaded,
        skills=skills,
        texts={str(file): text},
        python=project_python(str(root)),
    )


def _check_skill(ctx: ToolContext, name: str | None) -> None:
    """A named skill must exist: running without its text would be a silent, different run."""
    if name is None or ctx.skills is None:
        return
    if ctx.skills.by_name(name) or ctx.skills.by_code(name.upper()):
        return
    known = ", ".join(s.name for s in ctx.skills.skills)
    raise OptimizeError(f"no skill named {name!r} (available: {known}; see `perfpilot skills`)")


class _Progress:
    """The agent's progress as one transient status line on a terminal; nothing otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.shown = False

    def __call__(self, message: str) -> None:
        if self.live:
            # One line that fits, or the terminal wraps it and \r no longer erases it all.
            width = max(20, shutil.get_terminal_size().columns - 1)
            self.stream.write("\r\033[K" + f"perfpilot: {message}"[:width])
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        """Erase the status line before the final output."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def report_text(result: AgentResult, llm: LLMSettings, display: str) -> str:
    """The validation report: attempts, stages, applicability, refused calls, usage."""
    tokens = result.input_tokens + result.output_tokens
    lines = [
        f"perfpilot: optimize `{result.qualname}` ({display}) with {llm.model}:"
        f" {result.turns} turn{'s' if result.turns != 1 else ''},"
        f" {len(result.tool_calls)} tool call{'s' if len(result.tool_calls) != 1 else ''},"
        f" {tokens:,} tokens"
    ]
    for attempt in result.attempts:
        verdict = "passed validation" if attempt.ok else f"refused: {attempt.reason}"
        lines.append(f"  proposal {attempt.number}: {verdict}")
    if result.refused_calls:
        lines.append(f"  refused tool calls: {'; '.join(result.refused_calls)}")
    if result.fix is not None and result.fix.applicable:
        for stage in result.fix.stages:
            lines.append(
                f"  {stage.stage}: {'passed' if stage.passed else 'FAILED'}: {stage.reason}"
            )
        verdict = result.fix.verdict
        if verdict is None:
            lines.append("  verify: not run (add --verify to measure it on recorded calls)")
        level = result.fix.applicability.name.lower().replace("_", "-")
        lines.append(f"  applicability: {level} (a person must review it; run the tests)")
        if result.explanation:
            lines.append(f"  why: {result.explanation}")
    else:
        lines.append(f"perfpilot: no edit for `{result.qualname}`: {result.error or 'refused'}")
    return "\n".join(lines) + "\n"
