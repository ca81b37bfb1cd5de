"""The MCP tools hold back a skill measured below 1.05x unless asked (`include_unproven`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from tests.cli.test_unproven import MAIN, SHOP
from tests.mcp.conftest import error_text, perfpilot, stdio_client, structured
from tests.skills.unproven_package import CODE, make_skill_package


def test_tools_hold_back_the_unproven_skill_unless_asked(
    tmp_path: Path, config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (config_home / "perfpilot" / "config.toml").unlink()  # a new user's: no opt-in
    site = make_skill_package(tmp_path / "site")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    root = tmp_path / "shop"
    root.mkdir()
    (root / "shop.py").write_text(SHOP)
    (root / "main.py").write_text(MAIN)
    (root / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    done = perfpilot("profile", "--", sys.executable, "main.py", cwd=root)
    assert done.returncode == 0, done.stderr

    async def scenario() -> None:
        async with stdio_client(root, config_home) as client:
            offered = await client.call_tool("fix_opportunities", {})
            assert CODE not in [o["code"] for o in structured(offered)]
            checked = structured(await client.call_tool("check", {}))
            assert CODE not in [f["code"] for f in checked["findings"]]
            asked = structured(
                await client.call_tool("fix_opportunities", {"include_unproven": True})
            )
            (mine,) = [o for o in asked if o["code"] == CODE]
            assert mine["estimate"] == "skill median on the corpus (6 fixes)"
            checked = structured(await client.call_tool("check", {"include_unproven": True}))
            assert CODE in [f["code"] for f in checked["findings"]]
            target = {k: mine[k] for k in ("path", "qualname", "skill", "key", "sha256")}
            refused = await client.call_tool("apply_fix", {**target, "unsafe": True})
            assert "not offered" in error_text(refused)
            assert "include_unproven=true" in error_text(refused)
            applied = await client.call_tool(
                "apply_fix", {**target, "unsafe": True, "include_unproven": True}
            )
            assert structured(applied)["path"] == "shop.py"

    anyio.run(scenario)
    assert "item in {" in (root / "shop.py").read_text()
