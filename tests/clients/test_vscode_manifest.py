"""The VS Code extension's manifest keeps repository settings away from secrets and commands.

A `.vscode/settings.json` comes with the repository. VS Code ignores workspace values of
settings whose scope is `machine` or `application`: every setting that chooses what runs, where
the API key goes, which variable it comes from, or whether code is sent at all must have one.
"""

from __future__ import annotations

import json
import re

from tests.conftest import REPO

VSCODE = REPO / "editor-clients" / "vscode"
USER_ONLY = {
    "perfpilot.serverCommand",
    "perfpilot.llm.enabled",
    "perfpilot.llm.provider",
    "perfpilot.llm.baseUrl",
    "perfpilot.llm.apiKeyEnv",
    "perfpilot.regressions.testCommand",
}


def test_secret_and_command_settings_cannot_come_from_a_workspace() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text())
    properties = manifest["contributes"]["configuration"]["properties"]
    assert USER_ONLY <= set(properties)
    for name in USER_ONLY:
        assert properties[name].get("scope") in ("machine", "application"), name
    # Nothing else may hold a key, a URL or a command line.
    for name, spec in properties.items():
        if name not in USER_ONLY and re.search(r"(?i)key|url|command|path|token", name):
            raise AssertionError(f"{name} looks like a user-only setting: scope it")
        if name not in USER_ONLY:
            assert spec.get("scope") != "machine-overridable", name
    # Restricted Mode: the extension (which starts a server, maybe from the workspace's venv,
    # that runs ruff and git there) stays off until the user trusts the folder.
    assert manifest["capabilities"]["untrustedWorkspaces"]["supported"] is False


def test_the_extension_sends_user_only_keys_from_user_settings_only() -> None:
    source = (VSCODE / "src" / "settings.ts").read_text()
    listed = re.search(r"USER_ONLY_LLM_KEYS = \[([^\]]*)\]", source)
    assert listed is not None
    keys = {f"perfpilot.llm.{k}" for k in re.findall(r'"(\w+)"', listed.group(1))}
    assert keys == {k for k in USER_ONLY if k.startswith("perfpilot.llm.")}
    assert "inspect(`llm.${key}`)?.globalValue" in source


def test_verification_is_a_user_choice_and_a_command() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text())
    settings = manifest["contributes"]["configuration"]["properties"]
    # Whether the workspace's code runs (verify.run, verify.tests) is the user's: a repository's
    # .vscode/settings.json cannot switch it on.
    for name in ("perfpilot.verify.run", "perfpilot.verify.tests"):
        assert settings[name]["scope"] == "application", name
    assert settings["perfpilot.verify.run"]["default"] == "onRequest"
    assert settings["perfpilot.verify.budget"]["default"] == 10
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    assert "perfpilot.verifyFixes" in commands
    source = (VSCODE / "src" / "settings.ts").read_text()
    assert "inspect(`verify.${key}`)?.globalValue" in source


def test_what_a_mitigation_runs_is_a_user_choice() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text())
    settings = manifest["contributes"]["configuration"]["properties"]
    # The test command and verification run the workspace's code: user settings only.
    for name in ("perfpilot.regressions.testCommand", "perfpilot.regressions.verify"):
        assert settings[name]["scope"] == "application", name
    source = (VSCODE / "src" / "settings.ts").read_text()
    listed = re.search(r"USER_ONLY_REGRESSION_KEYS = \[([^\]]*)\]", source)
    assert listed is not None
    assert set(re.findall(r'"(\w+)"', listed.group(1))) == {"testCommand", "verify"}
    assert "inspect(`regressions.${key}`)?.globalValue" in source
