"""In the editor, a skill measured below 1.05x is held back: no PP1xx diagnostic, no quick fix,
not in fix-all; `perfpilot.skills.includeUnproven` offers it, and so does verifying the fix
faster on its function (real capture, real verification, real LSP traffic)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from tests.cli.test_unproven import MAIN, SHOP
from tests.lsp.conftest import start_session
from tests.lsp.test_annotations import open_document, wait_until
from tests.skills.unproven_package import CODE, make_skill_package


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A throwaway home, and the skill package installed (the server inherits both)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("PERFPILOT_CONFIG")  # a new user's: no opt-in (tests/conftest.py)
    site = make_skill_package(tmp_path / "site")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The shop workspace, profiled into .perfpilot/profiles and its hot function captured."""
    root = tmp_path / "shop"
    root.mkdir()
    (root / "shop.py").write_text(SHOP)
    (root / "main.py").write_text(MAIN)
    (root / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "profile", "--", sys.executable, "main.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with open(os.devnull, "w") as sink:
        run = run_capture(
            root,
            [sys.executable, "main.py"],
            [CaptureTarget(str(root / "shop.py"), "count_known")],
            root,
            stdout=sink,
        )
    assert run.captures and run.captures[0].recorded > 10
    return root


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perfpilot.server", "serve"]),
    params=["visual-studio-code@v1.65.2", "neovim@v0.11.0"],
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, shop: Path):
    settings = {"debounce": 50, "verify": {"budget": 2}}
    await start_session(lsp_client, request.param, shop, settings, folder_name="shop")
    yield
    await lsp_client.shutdown_session()


def codes(client: LanguageClient, uri: str) -> set[str]:
    return {str(d.code) for d in client.diagnostics.get(uri, [])}


async def actions_on_line(client: LanguageClient, uri: str, line: int) -> list[str]:
    position = types.Range(types.Position(line, 0), types.Position(line, 200))
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=position,
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a.title for a in actions or []]


async def fix_all_changes(client: LanguageClient, uri: str) -> bool:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(
                diagnostics=[], only=[types.CodeActionKind.SourceFixAll + ".perfpilot"]
            ),
        )
    )
    (action,) = actions or []
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    assert action.edit is not None and action.edit.document_changes
    return any(change.edits for change in action.edit.document_changes)


@pytest.mark.asyncio
async def test_held_back_until_asked_or_verified_faster(client: LanguageClient) -> None:
    uri, text = await open_document(client, "shop.py")
    line = next(i for i, t in enumerate(text.splitlines()) if "item in [" in t)
    await wait_until(lambda: "PP001" in codes(client, uri))
    # Asking for actions runs the skills on this version; its PP1xx publish follows.
    assert not any(CODE in t for t in await actions_on_line(client, uri, line))
    await asyncio.sleep(0.5)
    assert CODE not in codes(client, uri)
    assert not await fix_all_changes(client, uri)
    # Verifying the function's fixes (the user's explicit command) measures PP197 faster here.
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="perfpilot.verify", arguments=[uri, {"line": line, "character": 0}]
        )
    )
    assert result["ok"] is True, result
    (entry,) = [r for r in result["results"] if r["title"].startswith(CODE)]
    assert entry["verdict"] == "faster", entry
    await wait_until(lambda: CODE in codes(client, uri))
    (diagnostic,) = [d for d in client.diagnostics[uri] if d.code == CODE]
    assert "measured on this function" in diagnostic.message
    titles = await actions_on_line(client, uri, line)
    assert any(CODE in t and "[verified: faster" in t for t in titles), titles


@pytest.mark.asyncio
async def test_include_unproven_setting_offers_it(client: LanguageClient) -> None:
    settings = {"debounce": 50, "skills": {"includeUnproven": True}}
    client.set_configuration({"perfpilot": settings})
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"perfpilot": settings})
    )
    uri, text = await open_document(client, "shop.py")
    line = next(i for i, t in enumerate(text.splitlines()) if "item in [" in t)
    await wait_until(lambda: CODE in codes(client, uri))
    (diagnostic,) = [d for d in client.diagnostics[uri] if d.code == CODE]
    assert "skill median on the corpus (6 fixes)" in diagnostic.message
    assert any(CODE in t for t in await actions_on_line(client, uri, line))


@pytest.fixture
def verified_shop(shop: Path) -> Path:
    """The shop after `perfpilot verify` on the command line measured PP197 faster there."""
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "verify", "shop.py::count_known",
         "--budget", "2"],
        cwd=shop, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0 and f"{CODE} " in done.stdout, done.stdout + done.stderr
    assert "faster" in next(line for line in done.stdout.splitlines() if CODE in line)
    return shop


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perfpilot.server", "serve"]),
)
async def client_after_verify(lsp_client: LanguageClient, verified_shop: Path):
    settings = {"debounce": 50}
    await start_session(
        lsp_client, "visual-studio-code@v1.65.2", verified_shop, settings, folder_name="shop"
    )
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_a_verdict_from_the_command_line_offers_it_in_the_editor(
    client_after_verify: LanguageClient,
) -> None:
    client = client_after_verify
    uri, _ = await open_document(client, "shop.py")
    await wait_until(lambda: CODE in codes(client, uri))
    (diagnostic,) = [d for d in client.diagnostics[uri] if d.code == CODE]
    assert "measured on this function" in diagnostic.message
