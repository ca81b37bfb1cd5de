"""PP2xx in the editor: a real git repository, real recorded runs, real LSP traffic."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.defense.conftest import APP, commit_all, git, perfpilot
from tests.defense.test_regress import SLOW_LINE, plant_slowdown
from tests.lsp.conftest import start_session
from tests.lsp.test_annotations import wait_until
from tests.lsp.test_optimize import _as_action

TESTS = "from app import parse\n\n\ndef test_parse():\n    assert parse(10) == 24\n"


@pytest.fixture(scope="module")
def branch_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """main with 6 recorded runs; branch `feature` slows `parse` down, 6 runs at its HEAD."""
    root = tmp_path_factory.mktemp("branch") / "proj"
    return root, make_branch_repo(root)


def make_branch_repo(root: Path) -> str:
    """Build the repository of `branch_repo` at `root`; return the culprit's SHA."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ann@example.com")
    git(root, "config", "user.name", "Ann Author")
    (root / "app.py").write_text(APP)
    (root / "test_app.py").write_text(TESTS)
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    commit_all(root, "initial")
    for _ in range(2):  # record on main, then on the branch
        done = perfpilot("record", "--repeat", "6", "--", "python3", "app.py", cwd=root)
        assert done.returncode == 0, done.stderr
        if _ == 0:
            git(root, "checkout", "-q", "-b", "feature")
            culprit = plant_slowdown(root)
    return culprit


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "perfpilot.server", "serve"]),
    params=["visual-studio-code@v1.65.2", "neovim@v0.11.0"],
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, branch_repo):
    lsp_client.message_requests = []  # type: ignore[attr-defined]

    @lsp_client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def ask(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        lsp_client.message_requests.append(params)  # type: ignore[attr-defined]
        return types.MessageActionItem("Run")

    root, _ = branch_repo
    settings = {"debounce": 50, "regressions": {"testCommand": "python3 -m pytest -q",
                                                 "repeat": 3, "verify": True}}  # fmt: skip
    await start_session(lsp_client, request.param, root, settings, folder_name="proj")
    lsp_client.client_name = request.param  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def regression_diagnostic(client: LanguageClient, uri: str) -> types.Diagnostic:
    await wait_until(lambda: any(d.code == "PP201" for d in client.diagnostics.get(uri, [])), 60)
    return next(d for d in client.diagnostics[uri] if d.code == "PP201")


@pytest.mark.asyncio
async def test_regressed_function_has_pp201_with_root_cause_and_mitigation(
    client: LanguageClient, branch_repo: tuple[Path, str]
) -> None:
    root, culprit = branch_repo
    uri = (root / "app.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=(root / "app.py")
                               .read_text())))  # fmt: skip
    diagnostic = await regression_diagnostic(client, uri)
    # On parse's def line, under its name, in the CLI's words, with the culprit commit.
    assert diagnostic.source == "perfpilot"
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (0, 4)
    assert diagnostic.range.end.character == 9
    assert diagnostic.message.startswith("`parse` regressed: +")
    assert "% of the program (" in diagnostic.message and "ms/run, p=" in diagnostic.message
    assert f"since {culprit[:7]} 'parse: count digits too'" in diagnostic.message
    # Only parse regressed; render and helper carry no PP201/PP202.
    regressed = [d for d in client.diagnostics[uri] if d.code in ("PP201", "PP202")]
    assert [d.range.start.line for d in regressed] == [0]

    answer = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    actions = {a.title: a for a in map(_as_action, answer or [])}
    cause = actions["perfpilot: Show root cause of `parse`"].command
    mitigate = actions["perfpilot: Prepare mitigation for `parse`"].command
    assert cause is not None and cause.command == "perfpilot.showRootCause"
    assert mitigate is not None and mitigate.command == "perfpilot.prepareMitigation"

    shown = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=cause.command, arguments=cause.arguments)
    )
    assert shown["commit"] == culprit and shown["author"] == "Ann Author"
    assert shown["summary"] == "parse: count digits too" and SLOW_LINE.strip() in shown["hunk"]
    if client.shown_documents:  # window/showDocument: the Markdown report opens
        document = Path(to_fs_path(client.shown_documents[-1].uri))
        text = document.read_text()
        assert culprit in text and "Ann Author" in text and SLOW_LINE.strip() in text
    else:  # no window/showDocument: the top suspect in a message
        assert any(culprit[:10] in m.message for m in client.messages)

    head = git(root, "rev-parse", "HEAD").strip()
    status = git(root, "status", "--porcelain")
    result = await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=mitigate.command, arguments=mitigate.arguments)
        ),
        timeout=300,
    )
    # The user was asked first, with what runs; then the branch was made, and reported.
    (asked,) = client.message_requests  # type: ignore[attr-defined]
    assert "`python3 app.py`" in asked.message and "python3 -m pytest -q" in asked.message
    assert result["ok"] and (result["branch"] or str(result)).startswith(
        "perfpilot/regression-parse"
    )
    branch = result["branch"]
    diff = git(root, "diff", head, branch)
    assert "-" + SLOW_LINE.rstrip("\n") in diff.splitlines()
    chosen = [c for c in result["candidates"] if c["origin"] == "revert"][0]
    assert chosen["tests"].startswith("`python3 -m pytest -q` passed")
    # Verification was asked for; nothing was captured, and the verdict says so.
    assert chosen["verified"].startswith("unverified: no recorded calls of `parse`")
    assert any(branch in m.message and "nothing pushed" in m.message for m in client.messages)
    token = next(t for t, r in client.progress_reports.items() if "mitigate" in str(t))
    assert isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd)
    # The user's branch, HEAD and work tree are as they were; no worktree is left.
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert git(root, "symbolic-ref", "--short", "HEAD").strip() == "feature"
    assert git(root, "status", "--porcelain") == status
    assert git(root, "worktree", "list").count("\n") == 1


@pytest.mark.asyncio
async def test_cancelling_the_mitigation_stops_it_and_leaves_no_worktree(
    client: LanguageClient, branch_repo: tuple[Path, str]
) -> None:
    if not client.client_name.startswith("visual-studio-code"):  # type: ignore[attr-defined]
        pytest.skip("one client is enough for the cancel path")
    root, _ = branch_repo
    uri = (root / "app.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=(root / "app.py")
                               .read_text())))  # fmt: skip
    await regression_diagnostic(client, uri)
    branches = git(root, "branch", "--list")
    request = asyncio.ensure_future(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="perfpilot.prepareMitigation", arguments=[uri, "app.py:parse"]
            )
        )
    )
    # Cancel from the progress UI once the job is at work in a temporary worktree.
    await wait_until(lambda: git(root, "worktree", "list").count("\n") > 1, 120)
    token = next(t for t in client.progress_reports if "mitigate" in str(t))
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(request, timeout=30)
    assert result["cancelled"] is True
    assert client.progress_reports[token][-1].message == "cancelled"  # type: ignore[union-attr]
    assert git(root, "worktree", "list").count("\n") == 1
    assert git(root, "branch", "--list") == branches
    assert git(root, "symbolic-ref", "--short", "HEAD").strip() == "feature"
