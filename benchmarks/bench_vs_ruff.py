"""perfpilot's language server side by side with ruff's and with a bare pygls server.

Run: .venv/bin/python benchmarks/bench_vs_ruff.py [--rounds N] [--repeats M] [--rss-50k]

The workspace: a copy of the standard library's `_pydecimal.py` (`pydecimal.py`), and a real
cProfile profile (`perfpilot profile`) of a Decimal workload run on that copy; perfpilot's
threshold is 0.5 % own time. Three servers run on stdio, driven by pygls' LanguageClient with
VS Code's capabilities minus pull diagnostics (so ruff pushes, as perfpilot does):

- floor: `minimal_pygls_server.py`, a pygls server that only answers initialize;
- ruff: `ruff server` (ruff is a perfpilot dependency), PERF and UP rules selected;
- perfpilot: `python -m perfpilot.server serve`.

Each round starts a fresh session of each server, interleaved, so load on the machine hits all
alike; a table gives medians over rounds (per-session figures are medians of M repeats first).
A second, smaller part times fix-all on bench_code_action's 50 PP105 fixes (one session each).
`--rss-50k` adds the peak RSS with bench_lsp's 50,000-function profile loaded (`--rss-only`:
only that, `--rss-repeats N` sessions per server, interleaved). `--before
PYTHON` adds the perfpilot that PYTHON runs (another checkout's venv) as a fourth server in the
same interleaved rounds, for before/after tables measured under the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_lsp import memory_mb, within
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pytest_lsp import client_capabilities

HERE = Path(__file__).resolve().parent
THRESHOLD = 0.5
DEBOUNCE_MS = 150
TIMEOUT = 120.0
FLOOR, RUFF, PERFPILOT = "pygls floor", "ruff server", "perfpilot"
BEFORE = "perfpilot before"  # --before PYTHON: another checkout's perfpilot, same run
OTHER_PYTHON: list[str] = []
# As installed for a user, with bytecode caching on: this machine sets PYTHONDONTWRITEBYTECODE,
# which made every session compile perfpilot's (and pygls') modules from source.
SERVER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

WORKLOAD = """\
import pydecimal as D

def pi(digits):
    D.getcontext().prec = digits + 3
    three = D.Decimal(3)
    lasts, t, s, n, na, d, da = 0, three, 3, 1, 0, 0, 24
    while s != lasts:
        lasts = s
        n, na = n + na, na + 8
        d, da = d + da, da + 32
        t = (t * n) / d
        s += t
    return +s

def series():
    D.getcontext().prec = 60
    total = D.Decimal(0)
    for i in range(1, 400):
        x = D.Decimal(i) / 7
        total += x.sqrt() + x.ln() + x.exp().log10() + x.quantize(D.Decimal("0.0001"))
        total += D.Decimal(str(i * 1.5)).normalize() ** 2
    return total

for _ in range(3):
    pi(300)
    series()
    [format(D.Decimal(i) / 3, ".20f") for i in range(3000)]
"""


def command_of(server: str) -> list[str]:
    """The command line that starts `server` on stdio."""
    if server == FLOOR:
        return [sys.executable, str(HERE / "minimal_pygls_server.py")]
    if server == BEFORE:
        return [OTHER_PYTHON[0], "-m", "perfpilot.server", "serve"]
    if server == RUFF:
        ruff = Path(sys.executable).parent / "ruff"
        return [str(ruff if ruff.exists() else shutil.which("ruff") or "ruff"), "server"]
    return [sys.executable, "-m", "perfpilot.server", "serve"]


def build_decimal_workspace(root: Path) -> Path:
    """pydecimal.py, a ruff configuration, and a real cProfile profile of the workload."""
    source = Path(sysconfig.get_paths()["stdlib"]) / "_pydecimal.py"
    target = root / "pydecimal.py"
    shutil.copyfile(source, target)
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'bench'\n\n[tool.ruff.lint]\nextend-select = ['PERF', 'UP']\n"
    )
    (root / "drive.py").write_text(WORKLOAD)
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "profile", "--", sys.executable, "drive.py"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"profiling the workload failed:\n{done.stderr}")
    return target


def capabilities() -> types.ClientCapabilities:
    """VS Code's capabilities without pull diagnostics: every server pushes."""
    caps = client_capabilities("visual-studio-code")
    if caps.text_document is not None:
        caps.text_document.diagnostic = None
    return caps


@dataclass
class Client:
    """One server process and a client that timestamps publishDiagnostics."""

    server: str
    root: Path
    client: LanguageClient = field(init=False)
    process: Any = None
    published: list[tuple[float, types.PublishDiagnosticsParams]] = field(default_factory=list)
    waiters: list[tuple[Callable[[types.PublishDiagnosticsParams], bool], Any]] = field(
        default_factory=list
    )

    def __post_init__(self) -> None:
        self.client = LanguageClient("bench-vs-ruff", "1.0")
        # ruff 0.17 answers with server capabilities this lsprotocol cannot structure; the
        # benchmark never reads them, so keep them as the raw JSON object.
        self.client.protocol._converter.register_structure_hook(
            types.ServerCapabilities, lambda obj, _: obj
        )
        # Every skill runs (held-back ones too, as a user who opted in): the code action and
        # fix-all rows time the work, not what the corpus figures let through by default.
        settings = {
            "threshold": THRESHOLD,
            "debounce": DEBOUNCE_MS,
            "skills": {"includeUnproven": True},
        }

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            arrived = time.perf_counter()
            self.published.append((arrived, params))
            for waiter in list(self.waiters):
                accepts, future = waiter
                if not future.done() and accepts(params):
                    future.set_result((arrived, params))
                    self.waiters.remove(waiter)

        @self.client.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [settings if i.section == "perfpilot" else None for i in params.items]

        for method in (
            types.WINDOW_SHOW_MESSAGE,
            types.WINDOW_LOG_MESSAGE,
            types.CLIENT_REGISTER_CAPABILITY,
            types.CLIENT_UNREGISTER_CAPABILITY,
            types.WORKSPACE_CODE_LENS_REFRESH,
            types.WORKSPACE_INLAY_HINT_REFRESH,
            types.WORKSPACE_DIAGNOSTIC_REFRESH,
        ):
            self.client.feature(method)(lambda params: None)
        self.settings = settings

    async def start(self) -> float:
        """Spawn and initialize; return ms from spawning to the initialize result."""
        started = time.perf_counter()
        await self.client.start_io(*command_of(self.server), cwd=str(self.root), env=SERVER_ENV)
        self.process = self.client._server  # pygls keeps the Process; no public accessor
        root = self.root.as_uri()
        await within(
            self.client.initialize_async(
                types.InitializeParams(
                    process_id=os.getpid(),
                    capabilities=capabilities(),
                    root_uri=root,
                    workspace_folders=[types.WorkspaceFolder(uri=root, name="bench")],
                    initialization_options={"perfpilot": self.settings},
                )
            ),
            "initialize",
            TIMEOUT,
        )
        elapsed = (time.perf_counter() - started) * 1000
        self.client.initialized(types.InitializedParams())
        return elapsed

    def expect(self, accepts: Callable[[types.PublishDiagnosticsParams], bool]) -> Any:
        """A future for the next publishDiagnostics that `accepts` takes."""
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((accepts, future))
        return future

    def peak_rss_mib(self) -> float:
        """VmHWM of the server process, MiB."""
        return memory_mb(self.process.pid).get("VmHWM", 0.0)  # kB / 1024: MiB

    async def close(self) -> None:
        """shutdown + exit; kill if it does not go."""
        process = self.process
        try:
            if process is not None and process.returncode is None:
                await within(self.client.shutdown_async(None), "shutdown", 10)
                self.client.exit(None)
                await within(process.wait(), "exit", 10)
        except Exception:  # noqa: BLE001 - a stuck server must not stop the benchmark
            pass
        finally:
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
            try:
                await within(self.client.stop(), "client stop", 10)
            except Exception:  # noqa: BLE001
                pass


def is_perfpilot_hot(params: types.PublishDiagnosticsParams) -> bool:
    """A publish that carries PP001 (a hot function)."""
    return any(d.code == "PP001" for d in params.diagnostics)


def has_pp1xx(params: types.PublishDiagnosticsParams) -> bool:
    """A publish that carries a skill finding (PP1xx)."""
    return any(str(d.code).startswith("PP1") for d in params.diagnostics)


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """ms taken by one request, and its answer."""
    started = time.perf_counter()
    answer = await within(call(), "answer", TIMEOUT)
    return (time.perf_counter() - started) * 1000, answer


async def fix_all(client: LanguageClient, uri: str, kind: str) -> tuple[int, Any]:
    """codeAction(only=source.fixAll) and, when the action must be resolved, resolve."""
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(
                diagnostics=[], only=[types.CodeActionKind.SourceFixAll]
            ),
        )
    )
    chosen = [
        a for a in actions or [] if isinstance(a, types.CodeAction) and kind in (a.kind or "")
    ]
    if not chosen:
        return 0, None
    action = chosen[0]
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    edits = 0
    if action.edit is not None:
        for change in action.edit.document_changes or []:
            edits += len(getattr(change, "edits", []))
        for changes in (action.edit.changes or {}).values():
            edits += len(changes)
    return edits, action


def hot_row(text: str, diagnostics: list[types.Diagnostic], server: str) -> types.Diagnostic:
    """The diagnostic the one-line requests aim at: a hot function near the middle."""
    middle = text.count("\n") // 2
    hot = [d for d in diagnostics if d.code == "PP001"] or diagnostics
    return min(hot, key=lambda d: abs(d.range.start.line - middle))


async def one_session(server: str, root: Path, target: Path, repeats: int) -> dict[str, Any]:
    """A fresh session of `server`: every figure of the table, each the median of `repeats`."""
    figures: dict[str, Any] = {}
    session = Client(server, root)
    try:
        started = time.perf_counter()
        figures["initialize"] = await session.start()
        if server == FLOOR:
            figures["rss"] = session.peak_rss_mib()
            return figures
        uri = target.as_uri()
        text = target.read_text()
        version = 1
        first = session.expect(lambda p: p.uri == uri and (server == RUFF or is_perfpilot_hot(p)))
        skills = session.expect(lambda p: p.uri == uri and has_pp1xx(p)) if server != RUFF else None
        opened = time.perf_counter()
        session.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", version, text))
        )
        arrived, params = await within(first, "first diagnostics", TIMEOUT)
        figures["open"] = (arrived - opened) * 1000
        figures["spawn_to_diagnostics"] = (arrived - started) * 1000
        if skills is not None:
            arrived_skills, _ = await within(skills, "PP1xx diagnostics", TIMEOUT)
            figures["open_pp1xx"] = (arrived_skills - opened) * 1000
        diagnostics = list(session.published[-1][1].diagnostics)
        figures["diagnostics"] = len(diagnostics)
        target_diag = hot_row(text, diagnostics, server) if diagnostics else None
        row = target_diag.range.start.line if target_diag else len(text.split("\n")) // 2
        lines = text.split("\n")

        # didChange: a space typed at the end of a comment-free line in the target's body,
        # then removed; each timed to the first publish of its version.
        body = row + 1
        while body < len(lines) - 1 and not lines[body].strip():
            body += 1
        column = len(lines[body])
        changes = []
        for step in range(2 * repeats):
            version += 1
            typing = step % 2 == 0
            end = column if typing else column + 1
            content = types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(body, column), types.Position(body, end)),
                text=" " if typing else "",
            )
            wanted = version
            future = session.expect(
                lambda p, v=wanted: (
                    p.uri == uri and p.version == v and (server == RUFF or is_perfpilot_hot(p))
                )
            )
            sent = time.perf_counter()
            session.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(uri=uri, version=version), [content]
                )
            )
            arrived, _ = await within(future, "diagnostics after an edit", TIMEOUT)
            changes.append((arrived - sent) * 1000)
        figures["change"] = statistics.median(changes)
        # Let any background computation of the last version settle before the requests.
        await asyncio.sleep(0.5)
        diagnostics = list(session.published[-1][1].diagnostics)

        name_line = lines[row]
        name_column = max(0, name_line.find("def ") + 4)
        hover = types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(row, name_column)
        )
        figures["hover"] = statistics.median(
            [
                (await timed(lambda: session.client.text_document_hover_async(hover)))[0]
                for _ in range(repeats)
            ]
        )

        def action_params(selection: types.Range) -> types.CodeActionParams:
            inside = [
                d
                for d in diagnostics
                if d.range.start.line <= selection.end.line
                and d.range.end.line >= selection.start.line
            ]
            return types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri),
                range=selection,
                context=types.CodeActionContext(diagnostics=inside),
            )

        one_line = action_params(
            types.Range(types.Position(row, 0), types.Position(row, len(lines[row])))
        )
        whole = action_params(types.Range(types.Position(0, 0), types.Position(len(lines) - 1, 0)))
        figures["action_line"] = statistics.median(
            [
                (await timed(lambda: session.client.text_document_code_action_async(one_line)))[0]
                for _ in range(repeats)
            ]
        )
        whole_samples = []
        for _ in range(repeats):
            elapsed, answer = await timed(
                lambda: session.client.text_document_code_action_async(whole)
            )
            whole_samples.append(elapsed)
        figures["action_whole"] = statistics.median(whole_samples)
        figures["actions_whole"] = len(answer or [])
        kind = "ruff" if server == RUFF else "perfpilot"
        fix_samples, edits = [], 0
        for _ in range(max(1, repeats // 3)):
            started_fix = time.perf_counter()
            edits, _ = await within(fix_all(session.client, uri, kind), "fix-all", TIMEOUT)
            fix_samples.append((time.perf_counter() - started_fix) * 1000)
        figures["fix_all"] = statistics.median(fix_samples)
        figures["fix_all_edits"] = edits
        figures["rss"] = session.peak_rss_mib()
        return figures
    finally:
        await session.close()


async def fix_all_fifty(root: Path, target: Path, server: str, repeats: int) -> dict[str, Any]:
    """fix-all on bench_code_action's 50-function module, one session."""
    session = Client(server, root)
    session.settings["threshold"] = 0.1
    # PP105 is held back by its corpus figure since the measured-medians landed: this times
    # fix-all, not what is offered, so the bench opts in as a user can.
    session.settings["skills"] = {"includeUnproven": True}
    try:
        await session.start()
        uri = target.as_uri()
        text = target.read_text()
        ready = session.expect(
            lambda p: (
                p.uri == uri
                and (server == RUFF or sum(d.code == "PP105" for d in p.diagnostics) >= 25)
            )
        )
        session.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
        )
        await within(ready, "diagnostics", TIMEOUT)
        kind = "ruff" if server == RUFF else "perfpilot"
        samples, edits = [], 0
        for _ in range(repeats):
            started = time.perf_counter()
            edits, _ = await within(fix_all(session.client, uri, kind), "fix-all", TIMEOUT)
            samples.append((time.perf_counter() - started) * 1000)
        fixes = sum(d.code == "PP105" for d in session.published[-1][1].diagnostics)
        return {"fix_all": statistics.median(samples), "edits": edits, "fixes": fixes}
    finally:
        await session.close()


async def peak_rss_50k(root: Path, target: Path, server: str) -> tuple[float, float]:
    """Peak RSS (MiB) once the big file's first diagnostics arrived, and once PP1xx did too.

    perfpilot's first publish (PP001) comes after the profile loaded: the first figure is the
    load's peak. The skills' pass (PP1xx) follows in the background; the bench waits until the
    server is idle (a fixed pause missed it on a loaded machine, where it takes seconds).
    """
    session = Client(server, root)
    session.settings["threshold"] = 0.05
    try:
        await session.start()
        uri = target.as_uri()
        first = session.expect(lambda p: p.uri == uri and (server == RUFF or is_perfpilot_hot(p)))
        session.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, "python", 1, target.read_text())
            )
        )
        await within(first, "diagnostics", TIMEOUT)
        loaded = session.peak_rss_mib()
        # The skills' pass publishes only when it finds something: wait until the server has
        # used no CPU for a second (its background work is done), at most TIMEOUT.
        deadline = time.perf_counter() + TIMEOUT
        used = cpu_seconds(session.process.pid)
        while time.perf_counter() < deadline:
            await asyncio.sleep(1.0)
            now = cpu_seconds(session.process.pid)
            if now - used < 0.02:
                break
            used = now
        return loaded, session.peak_rss_mib()
    finally:
        await session.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


ROWS = [
    ("spawn -> initialize result", "initialize", "ms"),
    ("didOpen -> diagnostics (PP001)", "open", "ms"),
    ("didOpen -> PP1xx diagnostics", "open_pp1xx", "ms"),
    ("didChange -> diagnostics", "change", "ms"),
    ("hover", "hover", "ms"),
    ("codeAction, one line", "action_line", "ms"),
    ("codeAction, whole file", "action_whole", "ms"),
    ("fix-all (source.fixAll)", "fix_all", "ms"),
    ("peak RSS", "rss", "MiB"),
]


def median_of(rounds: list[dict[str, Any]], key: str) -> float | None:
    """Median of one figure over the sessions that have it."""
    values = [figures[key] for figures in rounds if key in figures]
    return statistics.median(values) if values else None


def print_table(results: dict[str, list[dict[str, Any]]], rounds: int) -> None:
    """The issue's table: perfpilot (and its before), ruff, the floor, and the ratios."""
    ours = [s for s in (PERFPILOT, BEFORE) if s in results]
    servers = [*ours, RUFF, FLOOR]
    print(f"\nmedian of {rounds} fresh sessions per server, interleaved\n")
    ratios = [f"{s} / {other}" for s in ours for other in ("ruff", "floor")]
    print("| | " + " | ".join(servers + ratios) + " |")
    print("|---" * (1 + len(servers) + len(ratios)) + "|")
    for label, key, unit in ROWS:
        values = {s: median_of(results[s], key) for s in servers}
        cells = ["—" if values[s] is None else f"{values[s]:,.1f} {unit}" for s in servers]
        for server in ours:
            for other in (RUFF, FLOOR):
                value, base = values[server], values[other]
                cells.append(f"{value / base:.2f}x" if value is not None and base else "—")
        print(f"| {label} | " + " | ".join(cells) + " |")
    counts = {s: median_of(results[s], "diagnostics") for s in (PERFPILOT, RUFF)}
    edits = {s: median_of(results[s], "fix_all_edits") for s in (PERFPILOT, RUFF)}
    actions = {s: median_of(results[s], "actions_whole") for s in (PERFPILOT, RUFF)}
    print(
        f"\ndiagnostics on the file: perfpilot {counts[PERFPILOT]}, ruff {counts[RUFF]};"
        f" whole-file code actions: perfpilot {actions[PERFPILOT]}, ruff {actions[RUFF]};"
        f" fix-all edits: perfpilot {edits[PERFPILOT]}, ruff {edits[RUFF]}"
        f" (didChange includes perfpilot's {DEBOUNCE_MS} ms debounce; ruff has none)"
    )


async def run(args: argparse.Namespace, scratch: Path) -> None:
    """The session table and fix-all (unless --rss-only), then the 50,000-function RSS."""
    ours = [PERFPILOT, BEFORE] if OTHER_PYTHON else [PERFPILOT]
    if not args.rss_only:
        await sessions_and_fix_all(args, scratch, ours)
    if args.rss_50k or args.rss_only:
        from bench_lsp import build_workspace as build_50k

        workspace = build_50k(scratch / "fiftyk")
        print(f"\npeak RSS with a {workspace.functions:,}-function profile loaded:")
        values: dict[str, list[tuple[float, float]]] = {server: [] for server in [*ours, RUFF]}
        for number in range(args.rss_repeats):  # interleaved; RSS barely moves with load
            order = [*ours, RUFF] if number % 2 == 0 else [*ours, RUFF][::-1]
            for server in order:
                values[server].append(
                    await peak_rss_50k(workspace.root, workspace.big_file, server)
                )
        print("| | peak RSS at PP001 (load) | × ruff | peak RSS after PP1xx | × ruff |")
        print("|---|---|---|---|---|")
        ruff = statistics.median(after for _, after in values[RUFF])
        for server, samples in values.items():
            load = statistics.median(at for at, _ in samples)
            after = statistics.median(a for _, a in samples)
            print(
                f"| {server} | {load:.1f} MiB | {load / ruff:.2f}x | {after:.1f} MiB"
                f" | {after / ruff:.2f}x |"
            )
        print(f"(median of {args.rss_repeats} sessions each)")


async def sessions_and_fix_all(args: argparse.Namespace, scratch: Path, ours: list[str]) -> None:
    """The issue's table over fresh sessions, then fix-all on 50 fixes."""
    root = scratch / "decimal"
    root.mkdir()
    target = build_decimal_workspace(root)
    print(f"workspace: {target.name}, {target.read_text().count(chr(10)):,} lines", file=sys.stderr)
    servers = [FLOOR, RUFF, PERFPILOT] + ([BEFORE] if OTHER_PYTHON else [])
    results: dict[str, list[dict[str, Any]]] = {server: [] for server in servers}
    for number in range(args.rounds):
        order = servers if number % 2 == 0 else servers[::-1]
        for server in order:
            results[server].append(await one_session(server, root, target, args.repeats))
        print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)
    print_table(results, args.rounds)

    from bench_code_action import build_workspace as build_fifty

    fifty_root = scratch / "fifty"
    fifty_root.mkdir()
    big = build_fifty(fifty_root)
    print(f"\nfix-all on {big.name} ({big.read_text().count(chr(10)):,} lines), one session each:")
    for server in [*ours, RUFF]:
        figures = await fix_all_fifty(fifty_root, big, server, 3)
        print(
            f"  {server:<16} {figures['fix_all']:>9.1f} ms (median of 3), {figures['edits']} edits"
            + (f", {figures['fixes']} PP105 fixes offered" if server in ours else "")
        )


def main() -> None:
    """Build the workspaces, measure, print the tables, remove everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="fresh sessions per server")
    parser.add_argument("--repeats", type=int, default=9, help="repeats per figure in a session")
    parser.add_argument("--rss-50k", action="store_true", help="peak RSS, 50,000 functions")
    parser.add_argument("--rss-only", action="store_true", help="only the 50,000-function RSS")
    parser.add_argument("--rss-repeats", type=int, default=1, help="sessions per server for RSS")
    parser.add_argument(
        "--before",
        metavar="PYTHON",
        help="also run the perfpilot of this Python (a checkout of main, say), interleaved",
    )
    args = parser.parse_args()
    if args.before:
        OTHER_PYTHON.append(args.before)
    if args.rounds < 1 or args.repeats < 1:
        parser.error("--rounds and --repeats must be at least 1")
    scratch = Path(tempfile.mkdtemp(prefix="perfpilot-bench-ruff-"))
    try:
        asyncio.run(run(args, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
