"""A small really-profiled workspace, a fake Messages API, and a way to run the agent on both."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfpilot.skills.agent import AgentResult, run_agent
from perfpilot.skills.registry import discover
from perfpilot.tools.agent_tools import FunctionRef, ToolContext
from perfpilot.tools.config import load_settings
from perfpilot.tools.llm_config import LLMSettings
from perfpilot.tools.profile_session import ProfileSession
from tests.agent.fake_api import FakeMessagesAPI

ORDERS = "shop/orders.py"
ORDERS_TEXT = '''"""Orders and what we know about them."""

from __future__ import annotations


def count_known(items: list[str], known: list[str]) -> int:
    """Count the items that are in `known`."""
    total = 0
    for item in items:
        if item in known:
            total += 1
    return total


def describe(count: int) -> str:
    """Say how many items are known."""
    return f"{count} known items"
'''
MAIN_TEXT = """from shop.orders import count_known, describe

KNOWN = [f"k{i}" for i in range(300)]
ITEMS = [f"k{i % 600}" for i in range(20000)]
print(describe(count_known(ITEMS, KNOWN)))
"""
# A faster count_known: what a good model proposes.
FAST = '''def count_known(items: list[str], known: list[str]) -> int:
    """Count the items that are in `known`."""
    known_set = set(known)
    return sum(1 for item in items if item in known_set)
'''


@pytest.fixture(scope="session")
def shop_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop workspace, profiled once with cProfile (a real run of main.py)."""
    root = tmp_path_factory.mktemp("shop-template") / "shop-ws"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / ORDERS).write_text(ORDERS_TEXT)
    (root / "main.py").write_text(MAIN_TEXT)
    (root / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    profiles = root / ".perfpilot" / "profiles"
    profiles.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profiles / "run.prof"), "main.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def shop(shop_template: Path, tmp_path: Path) -> Path:
    """A private copy of the profiled shop workspace."""
    root = tmp_path / "shop-ws"
    shutil.copytree(shop_template, root)
    return root


@pytest.fixture
def api() -> Iterator[FakeMessagesAPI]:
    """The fake Messages API, serving on 127.0.0.1 for one test."""
    server = FakeMessagesAPI().start()
    yield server
    server.close()


@pytest.fixture
def llm(api: FakeMessagesAPI) -> LLMSettings:
    """Settings that point the real client at the fake API, with fast retries."""
    return LLMSettings(
        enabled=True,
        model="claude-test",
        base_url=api.base_url,
        api_key="sk-test-secret-key",
        timeout=5.0,
        retries=2,
        backoff=0.01,
    )


def context(root: Path, qualname: str = "count_known", path: str = ORDERS) -> ToolContext:
    """The tools' context on a workspace with its stored profile loaded, targeting a function."""
    session = ProfileSession(str(root), load_settings(root))
    session.reload()
    target = FunctionRef(str((root / path).resolve()), qualname)
    return ToolContext(root=root, loaded=session.loaded, skills=discover(root), target=target)


def optimize(root: Path, llm: LLMSettings, qualname: str = "count_known") -> AgentResult:
    """Run the agent on one function of the workspace."""
    return asyncio.run(run_agent(context(root, qualname), llm))
