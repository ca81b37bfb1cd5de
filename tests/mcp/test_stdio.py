"""`perfpilot mcp` over stdio, driven by the official SDK's client on the profiled example."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import anyio

from perfpilot.server.mcp.workspace_tools import WORKSPACE_TOOLS
from perfpilot.tools.agent_tools import TOOLS
from tests.mcp.conftest import (
    error_text,
    isolated_env,
    perfpilot,
    snapshot,
    stdio_client,
    structured,
)

ENRICH = "loganalyzer/enrich.py"
PARSING = "loganalyzer/parsing.py"


def test_lists_every_registry_tool_with_its_flags_and_the_skills(
    example: Path, config_home: Path
) -> None:
    async def scenario() -> None:
        async with stdio_client(example, config_home) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            resources = {str(r.uri): r for r in (await client.list_resources()).resources}
            prompts = {p.name: p for p in (await client.list_prompts()).prompts}
            prompt = await client.get_prompt(
                "memoize-pure-function", {"function": f"{ENRICH}::edit_distance"}
            )
        # Every tool of both registries, from its one definition.
        declared = [*TOOLS, *WORKSPACE_TOOLS]
        assert sorted(tools) == sorted(t.name for t in declared)
        for tool in declared:
            listed = tools[tool.name]
            assert listed.input_schema == tool.input_schema
            assert listed.description.startswith(tool.description)
            assert listed.annotations.read_only_hint is tool.read_only
            if not tool.read_only:
                assert listed.annotations.destructive_hint is not None
        assert tools["apply_fix"].annotations.destructive_hint is True
        assert tools["propose_edit"].annotations.destructive_hint is False
        run = tools["profile_command"]
        assert run.annotations.open_world_hint is True and run.meta == {
            "dev.perfpilot/runsUserCode": True
        }
        assert "RUNS THE GIVEN COMMAND" in run.description and "--allow-run" in run.description
        assert all(
            t.annotations.open_world_hint is False for n, t in tools.items() if n != run.name
        )

        skills = perfpilot("skills", cwd=example).stdout.split()
        for name in ("optimize-hot-function", "memoize-pure-function", "precompile-regex"):
            assert name in skills
            assert f"perfpilot://skills/{name}" in resources
            assert prompts[name].arguments[0].name == "function"
            assert prompts[name].arguments[0].required
        assert {"perfpilot://profiles", "perfpilot://hot-functions"} <= set(resources)
        text = prompt.messages[0].content.text
        assert "`edit_distance` in `loganalyzer/enrich.py`" in text
        assert "# Memoize a pure function" in text  # the skill's own words
        for tool_name in ("function_profile", "fix_opportunities", "apply_fix"):
            assert f"`{tool_name}`" in text

    anyio.run(scenario)


def test_every_tool_on_the_example_agrees_with_the_cli_and_read_only_tools_write_nothing(
    example: Path, config_home: Path
) -> None:
    cli = perfpilot("check", "--profile", "example.prof", "--output-format", "json", cwd=example)
    assert cli.returncode == 1, cli.stderr
    expected = json.loads(cli.stdout)
    before = snapshot(example)
    seen: set[str] = set()

    async def call(client, name: str, arguments: dict) -> object:  # noqa: ANN001
        seen.add(name)
        return structured(await client.call_tool(name, arguments))

    async def scenario() -> None:
        async with stdio_client(example, config_home) as client:
            loaded = await call(client, "load_profile", {"paths": ["example.prof"]})
            assert loaded["profiles"] == ["example.prof"] and loaded["formats"] == ["cprofile"]
            assert loaded["notes"] == []

            # check: the same document as `perfpilot check --output-format json`.
            assert await call(client, "check", {"profiles": ["example.prof"]}) == expected
            assert await call(client, "check", {}) == expected  # the loaded profile

            hot = await call(client, "hot_functions", {"limit": 50})
            pp001 = [f["data"]["qualname"] for f in expected["findings"] if f["code"] == "PP001"]
            assert [h["qualname"] for h in hot] == pp001
            assert loaded["hot_function_count"] == len(pp001) and loaded["top"] == hot[:10]
            top = hot[0]
            assert (top["path"], top["qualname"]) == (ENRICH, "edit_distance")

            where = {"path": ENRICH, "qualname": "edit_distance"}
            profile = await call(client, "function_profile", where)
            assert profile["own_percent"] == top["own_percent"] and profile["rank"] == 1
            assert profile["calls"] == top["calls"] and not profile["changed_since_profile"]
            source = await call(client, "function_source", where)
            lines = (example / ENRICH).read_text().splitlines(keepends=True)
            assert source["source"] == "".join(lines[source["first_line"] - 1 : source["end_line"]])
            assert source["source"].startswith("def edit_distance(")
            refs = await call(client, "references", where)
            assert any(
                r["path"] == ENRICH and "edit_distance(token, bot" in r["code"] for r in refs
            )
            history = await call(client, "git_history", where)
            assert history["commits"] and history["commits"][0]["summary"] == "example"
            # The defense tools: nothing changed the function in HEAD..HEAD, and no runs are
            # recorded yet: the same reason `perfpilot regress` gives, and nothing is created.
            assert await call(client, "root_cause", {**where, "base": "HEAD"}) == []
            no_runs = await client.call_tool("regressions", {"base": "HEAD"})
            seen.add("regressions")
            cli = perfpilot("regress", "--base", "HEAD", cwd=example)
            assert cli.returncode == 2 and "no history yet" in error_text(no_runs)
            assert error_text(no_runs) in cli.stderr

            listed = await call(client, "list_skills", {})
            names = [s["name"] for s in listed]
            assert "memoize-pure-function" in names
            skill = await call(client, "skill_text", {"name": "memoize-pure-function"})
            skill_md = (
                Path(perfpilot_skill_dir()) / "memoize-pure-function" / "SKILL.md"
            ).read_text()
            assert skill["body"].strip() in skill_md

            memoized = "@functools.cache\n" + source["source"]
            checked = await call(client, "validate_edit", {**where, "new_source": memoized})
            assert checked["ok"] is False and "F821" in checked["reason"]
            assert "functools" in checked["reason"]
            faster = source["source"].replace(
                "    if abs(len(a) - len(b)) > limit:",
                "    if a == b:\n        return 0\n    if abs(len(a) - len(b)) > limit:",
                1,
            )
            valid = await call(client, "validate_edit", {**where, "new_source": faster})
            assert valid["ok"] is True, valid["reason"]
            assert "+    if a == b:" in valid["diff"]
            proposed = await call(client, "propose_edit", {**where, "new_source": faster})
            assert proposed["ok"] is True and proposed["diff"] == valid["diff"]
            # verify_fix runs the project's code: off unless the user turned verification on.
            seen.add("verify_fix")
            off = await client.call_tool("verify_fix", {**where, "new_source": faster})
            assert off.is_error and "is off" in off.content[0].text

            # Fix opportunities: the same PP1xx findings the CLI reports, each with its diff.
            fixes = await call(client, "fix_opportunities", {})
            pp1 = sorted(
                (f["code"], f["filename"], f["location"]["row"])
                for f in expected["findings"]
                if f["code"].startswith("PP1")
            )
            assert sorted((o["code"], o["path"], o["line"]) for o in fixes) == pp1
            for fix in fixes:
                assert fix["applicable"] == bool(fix["diff"]) or fix["refusal"]
                assert fix["sha256"]

            # Every function, not only the hot ones (without evidence, local-alias only shows).
            everywhere = await call(client, "fix_opportunities", {"all_functions": True})
            shown = next(o for o in everywhere if o["applicability"] == "display-only")

            hot_resource = await client.read_resource("perfpilot://hot-functions")
            assert json.loads(hot_resource.contents[0].text)["hot_functions"] == hot
            profiles_resource = await client.read_resource("perfpilot://profiles")
            assert json.loads(profiles_resource.contents[0].text) == loaded
            skill_resource = await client.read_resource("perfpilot://skills/memoize-pure-function")
            assert skill_resource.contents[0].text == skill_md
            assert snapshot(example) == before, "a read-only tool wrote to the workspace"

            # apply_fix writes exactly the diff it showed, and only when asked.
            regex = next(
                o for o in fixes if o["skill"] == "precompile-regex" and o["path"] == PARSING
            )
            assert regex["applicability"] == "safe" and regex["applicable"]
            stale = {k: regex[k] for k in ("path", "qualname", "skill", "key")}
            refused = await client.call_tool("apply_fix", {**stale, "sha256": "0" * 64})
            assert "changed since" in error_text(refused)
            assert snapshot(example) == before
            applied = await call(client, "apply_fix", {**stale, "sha256": regex["sha256"]})
            assert applied["diff"] == regex["diff"]
            again = await client.call_tool("apply_fix", {**stale, "sha256": regex["sha256"]})
            assert "changed since" in error_text(again)
            seen.add("apply_fix")
            unsafe = next(o for o in fixes if o["applicability"] == "unsafe" and o["applicable"])
            refused_unsafe = await client.call_tool(
                "apply_fix",
                {**{k: unsafe[k] for k in ("path", "qualname", "skill", "key", "sha256")}},
            )
            assert "unsafe=true" in error_text(refused_unsafe)
            refused_shown = await client.call_tool(
                "apply_fix",
                {**{k: shown[k] for k in ("path", "qualname", "skill", "key", "sha256")}}
                | {"unsafe": True},
            )
            assert "display-only fixes are never applied" in error_text(refused_shown)

        assert seen | {"profile_command"} == {t.name for t in [*TOOLS, *WORKSPACE_TOOLS]}

    anyio.run(scenario)
    # The CLI sees the fix: the regex finding is gone, the file parses, nothing else moved.
    after = json.loads(
        perfpilot(
            "check", "--profile", "example.prof", "--output-format", "json", cwd=example
        ).stdout
    )
    left = [
        f
        for f in after["findings"]
        if f["data"].get("skill") == "precompile-regex" and f["filename"] == PARSING
    ]
    assert len(left) < len(
        [
            f
            for f in expected["findings"]
            if f["data"].get("skill") == "precompile-regex" and f["filename"] == PARSING
        ]
    )
    changed = {k for k in snapshot(example) if snapshot(example)[k] != before.get(k)}
    assert changed == {PARSING}
    subprocess.run(["python3", "-m", "py_compile", PARSING], cwd=example, check=True)


def test_bad_arguments_missing_profiles_and_failures_are_tool_errors(
    tmp_path: Path, config_home: Path
) -> None:
    root = tmp_path / "bare"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'bare'\n")
    (root / "pkg" / "mod.py").write_text("def f(x):\n    return x + 1\n")
    (root / "corrupt.prof").write_bytes(b"\x00not a profile at all\xff" * 10)

    async def scenario() -> None:
        async with stdio_client(root, config_home) as client:
            assert "no profile is loaded" in error_text(await client.call_tool("hot_functions", {}))
            assert "no profile" in error_text(await client.call_tool("check", {}))
            assert "no profile" in error_text(await client.call_tool("fix_opportunities", {}))
            assert "no such profile" in error_text(
                await client.call_tool("load_profile", {"paths": ["missing.prof"]})
            )
            corrupt = error_text(
                await client.call_tool("load_profile", {"paths": ["corrupt.prof"]})
            )
            assert "corrupt.prof" in corrupt
            assert "must be integer" in error_text(
                await client.call_tool("hot_functions", {"limit": "many"})
            )
            assert "unknown argument 'colour'" in error_text(
                await client.call_tool("hot_functions", {"colour": "red"})
            )
            assert "missing argument 'qualname'" in error_text(
                await client.call_tool("function_source", {"path": "pkg/mod.py"})
            )
            assert "outside the workspace" in error_text(
                await client.call_tool(
                    "function_source", {"path": "../../../etc/passwd", "qualname": "f"}
                )
            )
            assert "no function `g`" in error_text(
                await client.call_tool("function_source", {"path": "pkg/mod.py", "qualname": "g"})
            )
            assert "unknown tool 'no_such_tool'" in error_text(
                await client.call_tool("no_such_tool", {})
            )
            assert "no skill named" in error_text(
                await client.call_tool("skill_text", {"name": "x"})
            )
            # Still serving after all of that.
            source = structured(
                await client.call_tool("function_source", {"path": "pkg/mod.py", "qualname": "f"})
            )
            assert source["source"] == "def f(x):\n    return x + 1\n"
            opportunities = structured(
                await client.call_tool("fix_opportunities", {"all_functions": True})
            )
            assert opportunities == []

    anyio.run(scenario)


def perfpilot_skill_dir() -> str:
    """The built-in skills' folder (where SKILL.md files ship)."""
    from perfpilot.skills.registry import BUILTIN_DIR

    return str(BUILTIN_DIR)


def test_perfpilot_mcp_refuses_bad_options_in_one_line(tmp_path: Path, config_home: Path) -> None:
    env = isolated_env(config_home)
    for args, message in (
        (["--http", "nonsense"], "expected HOST:PORT"),
        (["--http", "10.1.2.3:8765", "--allow-run"], "refusing to let the network run commands"),
        (["--http", "0.0.0.0:8765"], "name the address to listen on"),
        (["--root", str(tmp_path / "missing")], "not a directory"),
    ):
        done = perfpilot("mcp", *args, cwd=tmp_path, env=env)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    # A broken user configuration is named, in one line.
    (config_home / "perfpilot").mkdir(exist_ok=True)
    (config_home / "perfpilot" / "config.toml").write_text("[mcp]\nallow_run = 'yes'\n")
    done = perfpilot("mcp", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "allow_run: expected true or false" in done.stderr
    assert str(config_home / "perfpilot" / "config.toml") in done.stderr
