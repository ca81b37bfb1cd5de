"""The language server as an editor sees it: answer times, diagnostics after edits, memory.

Run: .venv/bin/python benchmarks/bench_lsp.py [--repeats N] [--starts N]

Everything is measured from the client side: `python -m perfpilot.server serve` runs as a
subprocess on stdio, driven by pygls' LanguageClient with VS Code's client capabilities (as
recorded by pytest-lsp), so every figure includes JSON-RPC, pipes and (de)serialization on both
sides. The workspace is generated: a 5,000-line module (`src/app/engine.py`: functions,
decorated functions, dataclasses and classes with methods, nested functions, comprehensions)
and ~2,000 small modules, so that a synthetic cProfile stats file holds 50,000 functions in all,
with Zipf-distributed time (the function of rank r gets 10/r s of self time). Functions of the big
module take every third rank, so at the threshold used here (0.05 % own time; the default 2 % is
meant for real programs, where a few functions dominate) ~60 of its functions are hot.

Set PERFPILOT_BENCH_SERVER_PROFILE=/tmp/srv.prof to run the measured server under cProfile
(its figures are then inflated by the profiler) and print its hottest functions at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import inspect
import json
import marshal
import math
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any, TypeVar

from bench_check import small_module  # the same small modules, run from benchmarks/
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pytest_lsp import client_capabilities

TOTAL_FUNCTIONS = 50_000
BIG_FILE_LINES = 5_000
SMALL_FUNCTIONS_PER_FILE = 25
THRESHOLD = 0.05  # percent of the profile's own time; see the module docstring
DEBOUNCE_MS = 150
ANSWER_GOAL_MS = 50.0
CHANGE_SLACK_MS = 30.0
RSS_GOAL_MB = 300.0
TIMEOUT = 60.0  # seconds for any one answer or notification
CLIENT = "visual-studio-code"
PROFILE_ENV = "PERFPILOT_BENCH_SERVER_PROFILE"
DEBOUNCED = "debounced"  # a Row note: the median includes the server's debounce

T = TypeVar("T")

# -- the generated workspace -----------------------------------------------------------------

HEADER = '''"""Synthetic application module for the perfpilot LSP benchmark (generated)."""

import asyncio
import collections
import dataclasses
import functools
import json
import re
import time

KEYWORDS = frozenset({"and", "or", "not", "if", "else", "for", "while", "return"})


def timed(func):
    """Accumulate the wall time spent in `func` on the wrapper."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            wrapper.elapsed += time.perf_counter() - started

    wrapper.elapsed = 0.0
    return wrapper
'''

# Blocks of realistic code; @I@ is the block's number, @N@ a small random constant.
FUNCTION_TEMPLATES = [
    '''
def parse_records_@I@(lines, sep=","):
    """Split delimited lines into dicts keyed by the header."""
    header = [name.strip() for name in lines[0].split(sep)]
    records = []
    for line in lines[1:]:
        fields = line.rstrip("\\n").split(sep)
        if len(fields) != len(header):
            continue
        records.append(dict(zip(header, fields)))
    return records
''',
    '''
def count_tokens_@I@(text, limit=@N@):
    """The most common identifiers of a text."""
    counts = collections.Counter()
    for match in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", text):
        word = match.group(0).lower()
        if word in KEYWORDS:
            continue
        counts[word] += 1
    return counts.most_common(limit)
''',
    """
def moving_average_@I@(values, window=@N@):
    if window <= 0:
        raise ValueError("window must be positive")
    result = []
    total = 0.0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        if index + 1 >= window:
            result.append(total / window)
    return result
""",
    """
def render_rows_@I@(rows, width=@N@):
    out = ""
    for row in rows:
        cells = [str(cell).ljust(width) for cell in row]
        out += " | ".join(cells) + "\\n"
    return out
""",
    """
def unique_items_@I@(items, blocked=()):
    seen = []
    for item in items:
        if item in blocked or item in seen:
            continue
        seen.append(item)
    return seen
""",
    '''
@functools.lru_cache(maxsize=@N@)
def edit_distance_@I@(a, b):
    """Levenshtein distance, row by row."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
        previous = current
    return previous[-1]
''',
    """
@timed
def load_payload_@I@(blob):
    try:
        data = json.loads(blob)
    except json.JSONDecodeError as exc:
        return {"error": str(exc), "size": len(blob)}
    cleaned = {key: value for key, value in data.items() if value is not None}
    cleaned["checksum"] = sum(map(ord, blob)) % @N@
    return cleaned
""",
    """
def iter_chunks_@I@(items, size=@N@):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield tuple(chunk)
            chunk = []
    if chunk:
        yield tuple(chunk)
""",
    """
def rank_scores_@I@(scores, top=@N@):
    def weight(entry):
        name, value = entry
        return value * (1.0 + len(name) / 100.0)

    ranked = sorted(scores.items(), key=weight, reverse=True)
    return [(name, round(weight((name, value)), 3)) for name, value in ranked[:top]]
""",
    """
async def fetch_all_@I@(session, urls, limit=@N@):
    semaphore = asyncio.Semaphore(limit)
    results = {}

    async def fetch(url):
        async with semaphore:
            response = await session.get(url)
            results[url] = response.status

    await asyncio.gather(*(fetch(url) for url in urls))
    return results
""",
]

CLASS_TEMPLATES = [
    '''
@dataclasses.dataclass
class Record@I@:
    """A named series of measurements."""

    name: str
    values: list = dataclasses.field(default_factory=list)
    unit: str = "ms"

    def total(self):
        result = 0.0
        for value in self.values:
            result += value
        return result

    @property
    def mean(self):
        count = len(self.values)
        return self.total() / count if count else 0.0

    @staticmethod
    def parse(text):
        name, _, rest = text.partition(":")
        values = [float(part) for part in rest.split(",") if part.strip()]
        return Record@I@(name.strip(), values)

    @classmethod
    def from_dict(cls, data):
        values = list(data.get("values", ()))
        return cls(str(data["name"]), values, data.get("unit", "ms"))

    def percentile(self, q=@N@):
        ordered = sorted(self.values)
        if not ordered:
            return 0.0
        index = min(len(ordered) - 1, int(len(ordered) * q / 100))
        return ordered[index]

    def merge(self, other):
        if other.unit != self.unit:
            raise ValueError(f"cannot merge {other.unit} into {self.unit}")
        merged = Record@I@(self.name, [*self.values, *other.values], self.unit)
        return merged
''',
    """
class Cache@I@:
    def __init__(self, capacity=@N@):
        self.capacity = capacity
        self.entries = collections.OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key, default=None):
        if key in self.entries:
            self.hits += 1
            self.entries.move_to_end(key)
            return self.entries[key]
        self.misses += 1
        return default

    def put(self, key, value):
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    def __repr__(self):
        return f"Cache@I@(capacity={self.capacity}, size={len(self.entries)})"
""",
]


def big_module_source(rng: random.Random) -> str:
    """A 5,000-line module: mostly functions, a class every eighth block, a table at the end."""
    lines = HEADER.splitlines()
    number = 0
    while True:
        templates = CLASS_TEMPLATES if rng.random() < 0.125 else FUNCTION_TEMPLATES
        block = rng.choice(templates).replace("@I@", str(number))
        block = block.replace("@N@", str(rng.randint(2, 64)))
        block_lines = ["", *block.strip("\n").splitlines()]
        if len(lines) + len(block_lines) + 4 > BIG_FILE_LINES:
            break
        lines += block_lines
        number += 1
    # Pad to exactly BIG_FILE_LINES with a lookup table, as generated modules often end.
    lines += ["", "", "LOOKUP = {"]
    while len(lines) < BIG_FILE_LINES - 1:
        lines.append(f"    {len(lines)}: {rng.randint(0, 10**6)},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def code_objects(code: CodeType) -> Iterator[CodeType]:
    """Every code object nested in `code` (functions, lambdas, comprehensions, class bodies)."""
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield const
            yield from code_objects(const)


def profiled_keys(path: Path) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
    """The (file, co_firstlineno, co_name) keys cProfile records for a module's code.

    Returns the named functions and, apart, the comprehensions and lambdas (their own code
    objects on Python < 3.12). co_firstlineno is the first decorator's line, as in real profiles.
    """
    module = compile(path.read_text(), str(path), "exec")
    functions, anonymous = [], []
    for code in code_objects(module):
        if not code.co_flags & inspect.CO_OPTIMIZED:
            continue  # a class body: cProfile lists it, perfpilot treats it as module code
        key = (str(path), code.co_firstlineno, code.co_name)
        (anonymous if code.co_name.startswith("<") else functions).append(key)
    return functions, anonymous


@dataclass
class Workspace:
    """The generated inputs."""

    root: Path
    big_file: Path
    big_functions: int
    files: int
    functions: int
    profile: Path


def build_workspace(root: Path, seed: int = 1) -> Workspace:
    """Write the workspace and its 50,000-function profile at .perfpilot/profiles/x.prof."""
    rng = random.Random(seed)
    big = root / "src" / "app" / "engine.py"
    big.parent.mkdir(parents=True)
    (big.parent / "__init__.py").write_text("")
    big.write_text(big_module_source(rng))
    big_named, big_anonymous = profiled_keys(big)
    rng.shuffle(big_named)  # hot functions spread all over the file

    library = library_keys()
    small_needed = TOTAL_FUNCTIONS - len(big_named) - len(big_anonymous) - len(library)
    small: list[tuple[str, int, str]] = []
    number = 0
    while len(small) < small_needed:
        folder = root / "src" / f"pkg{number // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        count = min(SMALL_FUNCTIONS_PER_FILE, small_needed - len(small))
        small += small_module(folder / f"mod{number}.py", number, count)
        number += 1
    (root / "pyproject.toml").write_text("[project]\nname = 'bench'\n")

    # Ranks: the big module's named functions take ranks 3, 6, 9, ..., then its comprehensions
    # and lambdas; the small modules' functions fill the other ranks.
    slots: list[tuple[str, int, str] | None] = [None] * (
        len(small) + len(big_named + big_anonymous)
    )
    for position, key in enumerate([*big_named, *big_anonymous], 1):
        slots[position * 3 - 1] = key
    rest = iter(small)
    ordered = [key if key is not None else next(rest) for key in slots]
    profile = root / ".perfpilot" / "profiles" / "x.prof"
    profile.parent.mkdir(parents=True)
    write_pstats(ordered, library, profile, rng)
    return Workspace(
        root=root,
        big_file=big,
        big_functions=len(big_named) + len(big_anonymous),
        files=number + 1,
        functions=len(ordered) + len(library),
        profile=profile,
    )


def library_keys() -> list[tuple[str, int, str]]:
    """Built-ins and standard-library functions that hot code calls."""
    encoder = os.path.join(os.path.dirname(json.__file__), "encoder.py")
    return [
        ("~", 0, "<method 'append' of 'list' objects>"),
        ("~", 0, "<built-in method builtins.sorted>"),
        ("~", 0, "<method 'join' of 'str' objects>"),
        ("~", 0, "<method 'split' of 'str' objects>"),
        (encoder, 183, "encode"),
    ]


def write_pstats(
    ordered: list[tuple[str, int, str]],
    library: list[tuple[str, int, str]],
    output: Path,
    rng: random.Random,
) -> None:
    """A cProfile stats dict: Zipf self times, a caller chain, library callees of hot code."""
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, dict[Any, Any]]] = {}
    for rank, key in enumerate(ordered, 1):
        tt = 10.0 / rank
        calls = rng.randint(1, 20_000)
        callers = {}
        for offset in (1, 7, 31):
            if rank - offset >= 1:
                callers[ordered[rank - offset - 1]] = (3, 3, tt / 3, tt / 2)
        stats[key] = (calls, calls, tt, tt * 1.5, callers)
    # Each of the top 500 functions calls one of the library functions directly.
    for number, key in enumerate(library):
        edges = {}
        for rank in range(1 + number, 500, 5):
            edge_time = 10.0 / rank * 0.2
            edges[ordered[rank - 1]] = (50, 50, edge_time, edge_time)
        tt = sum(edge[2] for edge in edges.values())
        stats[key] = (50 * len(edges), 50 * len(edges), tt, tt, edges)
    with open(output, "wb") as handle:
        marshal.dump(stats, handle)


# -- the client ---------------------------------------------------------------------------------


def server_command(profile_output: str | None) -> list[str]:
    """The server on stdio, under cProfile if asked."""
    command = [sys.executable]
    if profile_output:
        command += ["-m", "cProfile", "-o", profile_output]
    return [*command, "-m", "perfpilot.server", "serve"]


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB (Linux /proc)."""
    found = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    found[name] = int(value.split()[0]) / 1024.0
    except OSError:
        pass
    return found


class Session:
    """One server process and a client that timestamps what the server sends."""

    def __init__(self, workspace: Workspace, command: list[str]) -> None:
        self.workspace = workspace
        self.command = command
        self.client = LanguageClient("perfpilot-bench", "1.0")
        self.process: asyncio.subprocess.Process | None = None
        self.settings = {"threshold": THRESHOLD, "debounce": DEBOUNCE_MS}
        self.waiters: list[tuple[str, int | None, asyncio.Future[Any]]] = []
        self.messages: list[types.ShowMessageParams] = []
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self.document: Document | None = None  # the big file, once opened
        self.first: types.PublishDiagnosticsParams | None = None  # its first diagnostics
        self._stderr_task: asyncio.Task[None] | None = None
        self._register_handlers()

    def _register_handlers(self) -> None:
        client = self.client

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            arrived = time.perf_counter()
            for waiter in list(self.waiters):
                uri, version, future = waiter
                if uri == params.uri and version == params.version and not future.done():
                    future.set_result((arrived, params))
                    self.waiters.remove(waiter)

        @client.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [self.settings if i.section == "perfpilot" else None for i in params.items]

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def show_message(params: types.ShowMessageParams) -> None:
            self.messages.append(params)

        @client.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(params: types.LogMessageParams) -> None:
            pass

        # Server-to-client requests VS Code answers; an unanswered one would be an error.
        for method in (
            types.CLIENT_REGISTER_CAPABILITY,
            types.CLIENT_UNREGISTER_CAPABILITY,
            types.WORKSPACE_CODE_LENS_REFRESH,
            types.WORKSPACE_INLAY_HINT_REFRESH,
        ):
            client.feature(method)(lambda params: None)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> tuple[float, float]:
        """Spawn, initialize, initialized; return (ms to the initialize result, spawn time)."""
        started = time.perf_counter()
        await self.client.start_io(*self.command, cwd=str(self.workspace.root))
        # pygls keeps the asyncio Process it spawned here; it has no public accessor.
        self.process = self.client._server
        assert self.process is not None and self.process.stderr is not None
        self._stderr_task = asyncio.ensure_future(self._drain(self.process.stderr))
        root = self.workspace.root.as_uri()
        await within(
            self.client.initialize_async(
                types.InitializeParams(
                    process_id=os.getpid(),
                    capabilities=client_capabilities(CLIENT),
                    root_uri=root,
                    workspace_folders=[types.WorkspaceFolder(uri=root, name="bench")],
                    initialization_options={"perfpilot": self.settings},
                )
            ),
            "initialize",
        )
        answered = time.perf_counter()
        self.client.initialized(types.InitializedParams())
        return (answered - started) * 1000, started

    async def _drain(self, stream: asyncio.StreamReader) -> None:
        """Read the server's stderr so it never blocks on a full pipe; keep the tail."""
        while line := await stream.readline():
            self.stderr_tail.append(line.decode(errors="replace").rstrip())
        # End of file: the server is gone; whoever waits for it must not wait for the timeout.
        for _, _, future in self.waiters:
            if not future.done():
                future.set_exception(RuntimeError("the server exited"))

    def expect(self, uri: str, version: int | None) -> asyncio.Future[Any]:
        """A future for the next publishDiagnostics of `uri` at `version`."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiters.append((uri, version, future))
        return future

    async def until_published(
        self, uri: str, version: int, send: Callable[[], None]
    ) -> tuple[float, types.PublishDiagnosticsParams]:
        """Run `send`; return ms until diagnostics for `version` arrive, and them."""
        future = self.expect(uri, version)
        started = time.perf_counter()
        send()
        arrived, params = await within(future, f"diagnostics for version {version}")
        return (arrived - started) * 1000, params

    async def close(self) -> None:
        """shutdown + exit; kill the process if it does not go."""
        process = self.process
        try:
            if process is not None and process.returncode is None:
                await within(self.client.shutdown_async(None), "shutdown", 10)
                self.client.exit(None)
                await within(process.wait(), "exit", 10)
        except Exception as exc:  # noqa: BLE001 - a stuck server must not keep the benchmark
            print(f"warning: server did not shut down cleanly ({exc}); killing it")
        finally:
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
            try:
                await within(self.client.stop(), "client stop", 10)
            except Exception as exc:  # noqa: BLE001
                print(f"warning: client did not stop cleanly: {exc}")
            if self._stderr_task is not None:
                self._stderr_task.cancel()


async def within(awaitable: Awaitable[T], what: str, timeout: float = TIMEOUT) -> T:
    """Await with a timeout that names what was awaited."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise TimeoutError(f"no {what} from the server within {timeout:.0f} s") from None


class Document:
    """The client's copy of the open big file, edited as the server is told."""

    def __init__(self, session: Session, path: Path) -> None:
        self.session = session
        self.uri = path.as_uri()
        self.text = path.read_text()
        self.version = 0

    def identifier(self) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri=self.uri)

    def lines(self) -> list[str]:
        return self.text.split("\n")

    def opening(self) -> Callable[[], None]:
        """didOpen of the current text as a new version, ready to send."""
        self.version += 1
        params = types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri=self.uri, language_id="python", version=self.version, text=self.text
            )
        )
        return lambda: self.session.client.text_document_did_open(params)

    def close(self) -> None:
        self.session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(self.identifier())
        )

    def changing(
        self, start: tuple[int, int], end: tuple[int, int], new_text: str
    ) -> Callable[[], None]:
        """Apply an edit to the client's copy; return the didChange that tells the server.

        The client's own bookkeeping happens here, before any timer starts.
        """
        offsets = [0]
        for line in self.lines():
            offsets.append(offsets[-1] + len(line) + 1)  # ASCII: characters are UTF-16 units
        first, last = offsets[start[0]] + start[1], offsets[end[0]] + end[1]
        self.text = self.text[:first] + new_text + self.text[last:]
        self.version += 1
        params = types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(*start), types.Position(*end)), text=new_text
                )
            ],
        )
        return lambda: self.session.client.text_document_did_change(params)


# -- measurements -------------------------------------------------------------------------------


@dataclass
class Row:
    """One measured figure."""

    name: str
    samples: list[float] = field(default_factory=list)
    goal: float | None = None  # ms, compared with the median
    note: str = ""


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def measure_start(workspace: Workspace, command: list[str]) -> tuple[Session, float, float]:
    """Spawn, initialize, initialized, didOpen of the big file → its first diagnostics.

    Returns the session and the ms from spawning to the initialize result and to the diagnostics.
    """
    session = Session(workspace, command)
    try:
        initialize_ms, started = await session.start()
        document = Document(session, workspace.big_file)
        future = session.expect(document.uri, 1)
        document.opening()()
        arrived, params = await within(future, "first diagnostics")
    except BaseException:
        await session.close()
        if session.stderr_tail:
            print("server stderr (tail):\n  " + "\n  ".join(session.stderr_tail))
        raise
    session.document, session.first = document, params
    return session, initialize_ms, (arrived - started) * 1000


async def sample(repeats: int, warmup: int, step: Callable[[], Awaitable[float]]) -> list[float]:
    """Run `step` warmup + repeats times; keep the last `repeats` results (ms)."""
    samples = []
    for _ in range(warmup + repeats):
        samples.append(await step())
    return samples[warmup:]


def hot_target(document: Document, diagnostics: list[types.Diagnostic]) -> types.Diagnostic:
    """The hot function nearest the middle of the file."""
    middle = document.text.count("\n") // 2
    hot = [d for d in diagnostics if d.code == "PP001"]
    if not hot:
        raise RuntimeError(f"no hot function in {document.uri}: is THRESHOLD too high?")
    return min(hot, key=lambda d: abs(d.range.start.line - middle))


def body_assignment(document: Document, def_row: int) -> tuple[int, int]:
    """(row, column) of the first `name = ...` line in the body of the function at `def_row`."""
    lines = document.lines()
    for row in range(def_row + 1, def_row + 20):
        match = re.match(r"(\s+)[a-z_]+ = ", lines[row])
        if match:
            return row, len(match.group(1))
    raise RuntimeError(f"no assignment in the function at line {def_row + 1}")


async def measure_session(
    session: Session, repeats: int, warmup: int
) -> tuple[list[Row], dict[str, Any]]:
    """Every per-request figure, on the already open big file."""
    document, first = session.document, session.first
    assert document is not None and first is not None
    client = session.client
    facts: dict[str, Any] = {"diagnostics": len(first.diagnostics)}
    facts["rss_after_load"] = memory_mb(session.pid).get("VmRSS", 0.0)
    rows = []

    async def published(send: Callable[[], None]) -> float:
        """ms from sending a prepared open/change to the diagnostics of its version."""
        elapsed, _ = await session.until_published(document.uri, document.version, send)
        return elapsed

    # didClose, then didOpen of the same text as a new version (a full parse and index).
    sends: list[float] = []

    def timed_send(send: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            started = time.perf_counter()
            send()
            sends.append((time.perf_counter() - started) * 1000)

        return run

    async def reopen() -> float:
        document.close()
        return await published(timed_send(document.opening()))

    samples = await sample(repeats, warmup, reopen)
    # The client's share: serializing the 200 kB text and writing it to the pipe.
    sent = f"of which client send {statistics.median(sends):.1f} ms"
    rows.append(Row("didOpen (reopen) → publishDiagnostics", samples, ANSWER_GOAL_MS, sent))

    # Answers on an unchanged document (annotations cached for its version).
    async def request_row(name: str, make: Callable[[], Awaitable[Any]], fact: str) -> Row:
        async def step() -> float:
            started = time.perf_counter()
            result = await within(make(), name)
            elapsed = (time.perf_counter() - started) * 1000
            facts[fact] = result
            return elapsed

        return Row(name, await sample(repeats, warmup, step), ANSWER_GOAL_MS)

    target = hot_target(document, list(first.diagnostics))
    facts["hover_function"] = target.message.split("`")[1] if "`" in target.message else "?"
    name_at = types.Position(target.range.start.line, target.range.start.character + 2)
    whole = types.Range(types.Position(0, 0), types.Position(document.text.count("\n") + 1, 0))
    lens_params = types.CodeLensParams(text_document=document.identifier())
    hover_params = types.HoverParams(text_document=document.identifier(), position=name_at)
    hint_params = types.InlayHintParams(text_document=document.identifier(), range=whole)
    command = types.ExecuteCommandParams(command="perfpilot.hotFunctions")
    rows += [
        await request_row(
            "codeLens (whole file)",
            lambda: client.text_document_code_lens_async(lens_params),
            "lenses",
        ),
        await request_row(
            "hover on a hot function's name",
            lambda: client.text_document_hover_async(hover_params),
            "hover",
        ),
        await request_row(
            "inlayHint (whole file)",
            lambda: client.text_document_inlay_hint_async(hint_params),
            "hints",
        ),
        await request_row(
            "executeCommand perfpilot.hotFunctions",
            lambda: client.workspace_execute_command_async(command),
            "hot",
        ),
    ]

    # A one-character edit in a hot function's body, undone by the next one (both timed).
    row, column = body_assignment(document, target.range.start.line)
    typed = [False]

    def keystroke() -> Callable[[], None]:
        typed[0] = not typed[0]
        if typed[0]:
            return document.changing((row, column), (row, column), "x")
        return document.changing((row, column), (row, column + 1), "")

    change_goal = DEBOUNCE_MS + CHANGE_SLACK_MS
    debounced = DEBOUNCED
    rows.append(
        Row(
            "didChange 1 char in a body → publishDiagnostics",
            await sample(repeats, warmup, lambda: published(keystroke())),
            change_goal,
            debounced,
        )
    )

    # The same edit with a codeLens request right behind it, as VS Code sends one: this answer
    # computes the annotations of the new version (the answers above hit the per-version cache).
    async def lens_after_edit() -> float:
        send = keystroke()
        future = session.expect(document.uri, document.version)
        send()
        started = time.perf_counter()
        await within(client.text_document_code_lens_async(lens_params), "lens")
        elapsed = (time.perf_counter() - started) * 1000
        await within(future, "diagnostics")
        return elapsed

    rows.append(
        Row(
            "codeLens right after a 1-char edit",
            await sample(repeats, warmup, lens_after_edit),
            ANSWER_GOAL_MS,
            "recomputes the annotations",
        )
    )
    if typed[0]:
        await published(keystroke())  # leave the text as it was

    # 20 lines pasted at the top (everything below moves), then removed again.
    paste = "".join(f"SETTING_{n} = {n} * 2  # pasted\n" for n in range(20))
    pasted = [False]

    async def paste_or_remove() -> float:
        pasted[0] = not pasted[0]
        if pasted[0]:
            return await published(document.changing((0, 0), (0, 0), paste))
        return await published(document.changing((0, 0), (20, 0), ""))

    both = await sample(2 * repeats, 2 * warmup, paste_or_remove)
    rows.append(
        Row("didChange +20 lines at top → publishDiagnostics", both[::2], change_goal, debounced)
    )
    rows.append(
        Row("didChange −20 lines at top → publishDiagnostics", both[1::2], change_goal, debounced)
    )
    facts["memory_end"] = memory_mb(session.pid)
    return rows, facts


def print_table(rows: list[Row]) -> None:
    print(f"\n{'measurement':<50}{'n':>4}{'median ms':>11}{'p90 ms':>9}{'goal':>10}  ok")
    for row in rows:
        median = statistics.median(row.samples)
        p90 = percentile(row.samples, 0.9)
        goal = f"< {row.goal:.0f}" if row.goal is not None else "—"
        verdict = "" if row.goal is None else ("yes" if median < row.goal else "NO")
        note = row.note
        if note == DEBOUNCED:
            note = f"= {DEBOUNCE_MS} ms debounce + {median - DEBOUNCE_MS:.1f} ms"
        note = f"  ({note})" if note else ""
        figures = f"{len(row.samples):>4}{median:>11.1f}{p90:>9.1f}{goal:>10}"
        print(f"{row.name:<50}{figures}  {verdict}{note}")


def print_server_profile(path: str) -> None:
    import pstats

    if not os.path.exists(path):
        print(f"\n(no server profile at {path})")
        return
    print(f"\nserver profile {path} (figures above are inflated by cProfile):")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


async def run(workspace: Workspace, args: argparse.Namespace) -> None:
    profile_output = os.environ.get(PROFILE_ENV)
    initialize_row = Row("server start: spawn → initialize result", note="imports")
    load_row = Row("  initialize result → first diagnostics", note="profile load + didOpen")
    start_row = Row("  spawn → first diagnostics (total)")
    session: Session | None = None
    try:
        for start in range(args.starts):
            last = start == args.starts - 1
            command = server_command(profile_output if last else None)
            session, initialize_ms, total_ms = await measure_start(workspace, command)
            initialize_row.samples.append(initialize_ms)
            load_row.samples.append(total_ms - initialize_ms)
            start_row.samples.append(total_ms)
            if not last:
                await session.close()
                session = None
        assert session is not None
        rows, facts = await measure_session(session, args.repeats, args.warmup)
        errors = [m.message for m in session.messages if m.type == types.MessageType.Error]
    finally:
        if session is not None:
            tail = list(session.stderr_tail)
            await session.close()
            if tail:
                print("server stderr (tail):\n  " + "\n  ".join(tail))

    lines = workspace.big_file.read_text().count("\n")
    print(
        f"\nsetup: {workspace.files} files, {workspace.functions:,} functions in the profile"
        f" ({workspace.profile.stat().st_size / 1e6:.1f} MB pstats);"
        f" {workspace.big_file.relative_to(workspace.root)}: {lines} lines,"
        f" {workspace.big_functions} code objects"
    )
    print(
        f"settings: threshold {THRESHOLD} % own time, debounce {DEBOUNCE_MS} ms;"
        f" client capabilities {CLIENT}; {len(facts['hot'] or [])} hot functions in all,"
        f" {facts['diagnostics']} in the big file (PP001 diagnostics);"
        f" {len(facts['lenses'] or [])} lenses, {len(facts['hints'] or [])} inlay hints"
        " (cProfile has no line data), hover on"
        f" `{facts['hover_function']}` answered: {facts['hover'] is not None}"
    )
    if errors:
        print("server errors shown to the user:", *errors, sep="\n  ")
    if profile_output:
        print(f"NOTE: the measured server ran under cProfile ({PROFILE_ENV}); figures are inflated")
    print_table([initialize_row, load_row, start_row, *rows])
    end = facts["memory_end"]
    print(f"\n{'server memory':<50}{'MB':>8}{'goal':>10}  ok")
    for name, value, goal in (
        ("RSS after startup + profile load", facts["rss_after_load"], None),
        ("RSS after all measurements", end.get("VmRSS", 0.0), None),
        ("peak RSS (VmHWM)", end.get("VmHWM", 0.0), RSS_GOAL_MB),
    ):
        verdict = "" if goal is None else ("yes" if value < goal else "NO")
        goal_text = "—" if goal is None else f"< {goal:.0f}"
        print(f"{name:<50}{value:>8.1f}{goal_text:>10}  {verdict}")
    if profile_output:
        print_server_profile(profile_output)


def main() -> None:
    """Build the workspace, measure, print the tables, remove everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40, help="timed repeats per figure")
    parser.add_argument("--warmup", type=int, default=3, help="untimed repeats before them")
    parser.add_argument("--starts", type=int, default=5, help="server starts to time")
    args = parser.parse_args()
    if min(args.repeats, args.starts) < 1 or args.warmup < 0:
        parser.error("--repeats and --starts must be at least 1, --warmup at least 0")
    scratch = Path(tempfile.mkdtemp(prefix="perfpilot-bench-lsp-"))
    try:
        started = time.perf_counter()
        workspace = build_workspace(scratch / "ws")
        print(f"workspace generated in {time.perf_counter() - started:.1f} s")
        asyncio.run(run(workspace, args))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
