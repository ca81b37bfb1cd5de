"""The profile history: runs and their per-function figures in `.perfpilot/history.db` (SQLite).

Several processes may record at once (parallel CI jobs, an editor and a terminal): the
database runs in WAL mode with a busy timeout, and every write is one `BEGIN IMMEDIATE`
transaction, so writers queue instead of failing. The schema is versioned by a migrations
table; a database written by a newer perfpilot, or one that is not perfpilot's, is refused
with a one-line reason and never modified.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a history is opened: the editor starts without SQLite
    import sqlite3

HISTORY_FILE = Path(".perfpilot") / "history.db"
APPLICATION = "perfpilot-history"
BUSY_TIMEOUT_MS = 60_000

# Each migration is applied once, in order, inside one transaction with its record.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "runs and per-function figures",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            workload TEXT NOT NULL,
            command TEXT NOT NULL,
            commit_sha TEXT,
            dirty INTEGER NOT NULL DEFAULT 0,
            branch TEXT,
            recorded_at TEXT NOT NULL,
            python TEXT NOT NULL,
            machine TEXT NOT NULL,
            profiler TEXT NOT NULL,
            unit TEXT NOT NULL,
            total REAL NOT NULL,
            seconds_per_unit REAL,
            duration REAL,
            samples INTEGER,
            source TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX runs_by_commit ON runs (workload, commit_sha);
        CREATE TABLE functions (
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            qualname TEXT NOT NULL,
            def_line INTEGER NOT NULL,
            self REAL NOT NULL,
            own REAL NOT NULL,
            total REAL NOT NULL,
            calls INTEGER,
            samples INTEGER,
            hot_lines TEXT NOT NULL DEFAULT '{}',
            callees TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (run_id, path, qualname)
        );
        """,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(Exception):
    """The history database cannot be used; the message is one line naming the file."""


@dataclass(slots=True)
class FunctionFigures:
    """One function's cost in one run, in the run's unit (seconds or samples)."""

    path: str  # relative to the workspace root, '/'-separated
    qualname: str
    def_line: int
    self_time: float
    own: float  # self plus library code it called directly
    total: float
    calls: int | None = None
    samples: int | None = None
    hot_lines: dict[int, float] = field(default_factory=dict)
    callees: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """`path:qualname`, the identity a function keeps across runs and commits."""
        return f"{self.path}:{self.qualname}"


@dataclass(slots=True)
class Run:
    """One recorded run of a workload and what each workspace function cost in it."""

    workload: str
    command: str
    commit: str | None
    dirty: bool
    branch: str | None
    recorded_at: str  # ISO 8601, UTC
    python: str
    machine: str
    profiler: str
    unit: str  # "seconds" or "samples"
    total: float
    seconds_per_unit: float | None
    duration: float | None
    samples: int | None
    source: str = ""
    functions: dict[str, FunctionFigures] = field(default_factory=dict)
    id: int | None = None

    def share(self, key: str) -> float:
        """The own share of the program (percent) of function `key`; 0 when it did not run."""
        figures = self.functions.get(key)
        return 100.0 * figures.own / self.total if figures and self.total > 0 else 0.0

    def seconds(self, key: str) -> float | None:
        """The own time of function `key` in seconds, when the run's unit converts to time."""
        if self.seconds_per_unit is None:
            return None
        figures = self.functions.get(key)
        return (figures.own if figures else 0.0) * self.seconds_per_unit


class History:
    """An open history database; use `open_history` and close it (or use it as a context)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front: two writers queue on the busy timeout
        # instead of one failing with "database is locked" halfway through.
        with _errors(self.path):
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def add_run(self, run: Run) -> int:
        """Store `run` and its functions in one transaction; return its id."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO runs (workload, command, commit_sha, dirty, branch, recorded_at,"
                " python, machine, profiler, unit, total, seconds_per_unit, duration, samples,"
                " source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.workload, run.command, run.commit, int(run.dirty), run.branch,
                    run.recorded_at, run.python, run.machine, run.profiler, run.unit, run.total,
                    run.seconds_per_unit, run.duration, run.samples, run.source,
                ),
            )  # fmt: skip
            run_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT OR REPLACE INTO functions (run_id, path, qualname, def_line, self, own,"
                " total, calls, samples, hot_lines, callees) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?)",
                [
                    (
                        run_id, f.path, f.qualname, f.def_line, f.self_time, f.own, f.total,
                        f.calls, f.samples, json.dumps(f.hot_lines), json.dumps(f.callees),
                    )
                    for f in run.functions.values()
                ],
            )  # fmt: skip
        run.id = run_id
        return run_id

    def runs(
        self,
        workload: str | None = None,
        commits: Sequence[str] | None = None,
        with_functions: bool = True,
    ) -> list[Run]:
        """Runs (oldest first), of `workload` and at `commits` (full SHAs) when given."""
        where, params = [], []
        if workload is not None:
            where.append("workload = ?")
            params.append(workload)
        if commits is not None:
            if not commits:
                return []
            where.append(f"commit_sha IN ({', '.join('?' * len(commits))})")
            params.extend(commits)
        sql = "SELECT * FROM runs" + (f" WHERE {' AND '.join(where)}" if where else "")
        with _errors(self.path):
            rows = self.connection.execute(sql + " ORDER BY id", params).fetchall()
            runs = [_run_of(row) for row in rows]
            if with_functions and runs:
                by_id = {run.id: run for run in runs}
                for row in self._function_rows(list(by_id)):
                    by_id[row["run_id"]].functions[f"{row['path']}:{row['qualname']}"] = (
                        _figures_of(row)
                    )
        return runs

    def _function_rows(self, ids: list[int | None]) -> Iterator[sqlite3.Row]:
        # SQLite limits bound parameters; chunk the id list.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            yield from self.connection.execute(
                f"SELECT * FROM functions WHERE run_id IN ({', '.join('?' * len(chunk))})", chunk
            )

    def workloads(self) -> list[tuple[str, int]]:
        """Every workload name with its number of runs."""
        with _errors(self.path):
            rows = self.connection.execute(
                "SELECT workload, COUNT(*) FROM runs GROUP BY workload ORDER BY workload"
            ).fetchall()
        return [(row[0], row[1]) for row in rows]


def open_history(path: Path, create: bool = True) -> History:
    """Open (and create or migrate, when `create`) the history database at `path`."""
    if not path.exists() and not create:
        raise HistoryError(f"{path}: no history yet (record runs with `perfpilot record`)")
    if path.exists() and path.is_file():
        _check_header(path)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
        _ignore_in_git(path)
    import sqlite3

    try:
        connection = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot open the history database ({exc})") from None
    connection.row_factory = sqlite3.Row
    try:
        with _errors(path):
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA foreign_keys = ON")
            _check_identity(connection, path)
            if create:
                _use_wal(connection, path)
                _migrate(connection, path)
    except BaseException:
        connection.close()
        raise
    return History(connection, path)


def _use_wal(connection: sqlite3.Connection, path: Path) -> None:
    """Put the database in WAL mode (once; it persists in the file).

    Switching needs the database to itself, and SQLite answers "locked" at once instead of
    waiting when another process is creating or opening the file at that moment, so the switch
    is retried until the busy timeout; a database already in WAL mode is left alone.
    """
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    if str(mode).lower() != "wal":
        raise HistoryError(f"{path}: cannot switch the database to WAL mode ({mode})")


def _ignore_in_git(path: Path) -> None:
    """Keep the database (and this ignore file) out of `git status`, unless the user chose."""
    ignore = path.parent / ".gitignore"
    if ignore.exists() or ignore.is_symlink():
        return
    lines = ["# perfpilot's local state", path.name, f"{path.name}-*", "mitigations/"]
    try:
        with open(ignore, "x", encoding="utf-8") as handle:
            handle.write("\n".join([*lines, ".gitignore", ""]))
    except OSError:
        pass  # a read-only folder or a race with another writer: only cosmetic


def _check_header(path: Path) -> None:
    with open(path, "rb") as handle:
        header = handle.read(16)
    if header and header != b"SQLite format 3\x00":
        raise HistoryError(f"{path}: not a SQLite database (perfpilot's history file is damaged)")


def _check_identity(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse a SQLite file that is not perfpilot's, or written by a newer version."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if not tables:
        return
    if "meta" not in tables or "migrations" not in tables:
        raise HistoryError(
            f"{path}: not a perfpilot history database (tables: {', '.join(sorted(tables))});"
            " nothing was changed"
        )
    row = connection.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
    if row is None or row[0] != APPLICATION:
        raise HistoryError(f"{path}: not a perfpilot history database; nothing was changed")
    version = connection.execute("SELECT MAX(version) FROM migrations").fetchone()[0] or 0
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"{path}: written by a newer perfpilot (schema {version}, this one knows"
            f" {SCHEMA_VERSION}); upgrade perfpilot"
        )


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        # Checked again under the write lock: another process may have migrated meanwhile.
        _check_identity(connection, path)
        connection.execute(
            "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY,"
            " description TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        done = connection.execute("SELECT COALESCE(MAX(version), 0) FROM migrations").fetchone()[0]
        for version, (description, script) in enumerate(MIGRATIONS, start=1):
            if version <= done:
                continue
            for statement in filter(str.strip, script.split(";")):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO migrations (version, description) VALUES (?, ?)",
                (version, description),
            )
        connection.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('application', ?)", (APPLICATION,)
        )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


@contextmanager
def _errors(path: Path) -> Iterator[None]:
    """Turn SQLite failures into one-line HistoryErrors naming the file."""
    import sqlite3

    try:
        yield
    except sqlite3.DatabaseError as exc:
        reason = str(exc)
        if "not a database" in reason or "malformed" in reason:
            reason = "the database file is corrupt"
        raise HistoryError(f"{path}: {reason}") from None


def _run_of(row: sqlite3.Row) -> Run:
    return Run(
        workload=row["workload"],
        command=row["command"],
        commit=row["commit_sha"],
        dirty=bool(row["dirty"]),
        branch=row["branch"],
        recorded_at=row["recorded_at"],
        python=row["python"],
        machine=row["machine"],
        profiler=row["profiler"],
        unit=row["unit"],
        total=row["total"],
        seconds_per_unit=row["seconds_per_unit"],
        duration=row["duration"],
        samples=row["samples"],
        source=row["source"],
        id=row["id"],
    )


def _figures_of(row: sqlite3.Row) -> FunctionFigures:
    return FunctionFigures(
        path=row["path"],
        qualname=row["qualname"],
        def_line=row["def_line"],
        self_time=row["self"],
        own=row["own"],
        total=row["total"],
        calls=row["calls"],
        samples=row["samples"],
        hot_lines={int(k): v for k, v in json.loads(row["hot_lines"] or "{}").items()},
        callees=json.loads(row["callees"] or "{}"),
    )
