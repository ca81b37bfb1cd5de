"""The CLI imports only what a command needs: `--version` and `check` start quickly.

Timings are benchmarks/bench_cli_startup.py's; these tests pin the import discipline that
makes them, in a fresh interpreter each (a test process has imported everything already).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from perfpilot.server import cli
from perfpilot.tools import profiling

# Heavy or unrelated to a check: the LLM client, the defense's history, the MCP SDK, jedi.
NOT_FOR_CHECK = [
    "anthropic",
    "jedi",
    "mcp",
    "sqlite3",
    "perfpilot.tools.defense.recording",
    "perfpilot.tools.agent_tools",
    # --verify's and --run's machinery, the process pool (a few hot files need none), and the
    # remote-profile HTTP client (no spec names a server).
    "asyncio",
    "multiprocessing",
    "concurrent.futures.process",
    "http.client",
    "ssl",
    "perfpilot.tools.verify.verify_fix",
    "perfpilot.skills.verifying",
]


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_version_imports_no_subcommand() -> None:
    modules = imported_after(
        "from perfpilot.server.cli import main\nassert main(['--version']) == 0"
    )
    light = {"perfpilot.tools", "perfpilot.tools.model"}  # the Finding types render names
    assert not {m for m in modules if m.startswith("perfpilot.tools") and m not in light}
    assert not {m for m in modules if m.startswith("perfpilot.skills")}
    assert not {"perfpilot.server.defense_cli", "perfpilot.server.optimize_cli"} & modules


def test_check_parser_imports_no_defense_llm_or_mcp() -> None:
    modules = imported_after(
        "from perfpilot.server.cli import build_parser\n"
        "build_parser('check').parse_args(['check', '--profile', 'x.prof'])"
    )
    assert not [m for m in NOT_FOR_CHECK if m in modules]
    assert "importlib.metadata" not in modules  # the version is read when --version is asked


def test_a_whole_check_imports_no_defense_llm_or_mcp(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'w'\n")
    (tmp_path / "app.py").write_text("def spin():\n    return sum(i * i for i in range(300000))\n")
    (tmp_path / "run.py").write_text("import app\nfor _ in range(20):\n    app.spin()\n")
    profile = tmp_path / "app.prof"
    profiled = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "profile", "-o", str(profile), "--"]
        + [sys.executable, "run.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert profiled.returncode == 0, profiled.stderr
    modules = imported_after(
        "import os\n"
        f"os.chdir({str(tmp_path)!r})\n"
        "from perfpilot.server.cli import main\n"
        f"assert main(['check', '--profile', {str(profile)!r}, '.']) == 1"
    )
    assert "perfpilot.server.check" in modules  # it did run
    assert not [m for m in NOT_FOR_CHECK if m in modules]
    assert "libcst" in modules  # the skills ran on spin

    # The same check of a folder holding no hot function loads no skill, hence no libcst.
    (tmp_path / "cold").mkdir()
    (tmp_path / "cold" / "idle.py").write_text("def idle():\n    return 0\n")
    modules = imported_after(
        "import os\n"
        f"os.chdir({str(tmp_path)!r})\n"
        "from perfpilot.server.cli import main\n"
        f"assert main(['check', '--profile', {str(profile)!r}, 'cold']) == 0"
    )
    assert "perfpilot.server.check" in modules and "libcst" not in modules


def test_every_command_is_listed_with_its_own_help_line() -> None:
    # The full parser (every module imported, as for --help) and the one `check` builds
    # list the same commands with the same help.
    def listing(parser: object) -> list[tuple[str, str | None]]:
        (commands,) = [a for a in parser._actions if a.dest == "command"]  # type: ignore[attr-defined]
        return [(c.dest, c.help) for c in commands._choices_actions]

    assert listing(cli.build_parser("check")) == listing(cli.build_parser())
    for command in ("record", "regress", "verify", "mcp", "optimize", "fetch"):
        assert listing(cli.build_parser(command)) == listing(cli.build_parser())


def test_cli_samplers_are_the_profilers() -> None:
    assert cli.SAMPLERS == profiling.SAMPLERS
