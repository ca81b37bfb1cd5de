"""The VS Code extension's manifest: what it does in untrusted workspaces, and verify's surface."""

from __future__ import annotations

import json

from tests.conftest import REPO

MANIFEST = REPO / "editor-clients" / "vscode" / "package.json"


def test_untrusted_workspaces_cannot_make_perfpilot_run_their_code() -> None:
    manifest = json.loads(MANIFEST.read_text())
    untrusted = manifest["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited" and "never runs" in untrusted["description"]
    restricted = set(untrusted["restrictedConfigurations"])
    assert {
        "perfpilot.serverCommand",
        "perfpilot.verify.run",
        "perfpilot.verify.tests",
    } <= restricted
    settings = manifest["contributes"]["configuration"]["properties"]
    assert settings["perfpilot.verify.run"]["default"] == "onRequest"
    assert settings["perfpilot.verify.budget"]["default"] == 10
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    assert "perfpilot.verifyFixes" in commands
    palette = manifest["contributes"]["menus"]["commandPalette"]
    verify = next(m for m in palette if m["command"] == "perfpilot.verifyFixes")
    assert "isWorkspaceTrusted" in verify["when"]
