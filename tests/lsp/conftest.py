"""A real perfpilot language server on stdio, driven by pytest-lsp with editors' capabilities."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest import REPO

# The capability sets of real editors, as recorded by pytest-lsp.
CLIENTS = ["visual-studio-code@v1.65.2", "neovim@v0.10.0", "neovim@v0.11.0"]
WORKLOAD = ["python3", "workload.py", "--lines", "4000"]


def make_example_workspace(root: Path) -> Path:
    """A copy of the bundled example with a cProfile profile in .perfpilot/profiles."""
    shutil.copytree(REPO / "examples", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text("[project]\nname = 'loganalyzer'\n")
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "profile", "--", *WORKLOAD],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture(scope="session")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, profiled once per session; tests copy it so edits never leak."""
    return make_example_workspace(tmp_path_factory.mktemp("template") / "example")


@pytest.fixture
def workspace(example_template: Path, tmp_path: Path) -> Path:
    """A private copy of the profiled example for one test."""
    root = tmp_path / "example"
    shutil.copytree(example_template, root)
    return root


def answer_editor_requests(client: LanguageClient) -> None:
    """Answer the server-to-client requests a real editor answers (pytest-lsp has no default)."""
    registrations: list[types.Registration] = []
    client.registrations = registrations  # type: ignore[attr-defined]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    @client.feature(types.CLIENT_UNREGISTER_CAPABILITY)
    def unregister_capability(params: types.UnregistrationParams) -> None:
        gone = {u.id for u in params.unregisterations}
        registrations[:] = [r for r in registrations if r.id not in gone]

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(params: None) -> None:
        return None

    @client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_hint_refresh(params: None) -> None:
        return None


async def start_session(
    client: LanguageClient,
    editor: str,
    root: Path,
    settings: dict[str, Any],
    folder_name: str = "example",
) -> None:
    """Initialize `client` as `editor` (its recorded capabilities) on the workspace `root`.

    `settings` is the client's `perfpilot` configuration, given both as initialization options
    and in answer to workspace/configuration, as VS Code and Neovim do.
    """
    answer_editor_requests(client)
    client.set_configuration({"perfpilot": settings})
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(editor),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=folder_name)],
            initialization_options={"perfpilot": settings},
        )
    )
    client.workspace_root = root  # type: ignore[attr-defined]


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perfpilot.server", "serve"]),
    params=CLIENTS,
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, workspace: Path):
    """A client with a real editor's capabilities, initialized on the example workspace."""
    answer_editor_requests(lsp_client)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="example")],
            initialization_options={"perfpilot": {"debounce": 50}},
        )
    )
    lsp_client.workspace_root = workspace  # type: ignore[attr-defined]
    lsp_client.client_name = request.param  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()
