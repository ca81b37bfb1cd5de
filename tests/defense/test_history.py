"""The profile history: record, import, show; concurrent writers; corrupt and foreign files."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from perfpilot.tools.defense.history import SCHEMA_VERSION, open_history
from tests.defense.conftest import git, perfpilot


def test_record_runs_a_command_and_history_shows_the_series(repo: Path) -> None:
    done = perfpilot("record", "--workload", "app", "--repeat", "2", "--", "python3", "app.py",
                     cwd=repo)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "recorded 2 runs of 'app'" in done.stderr
    listing = perfpilot("history", "--output-format", "json", cwd=repo)
    runs = json.loads(listing.stdout)
    head = git(repo, "rev-parse", "HEAD").strip()
    assert [r["commit"] for r in runs] == [head, head]
    first = runs[0]
    assert first["workload"] == "app" and first["profiler"] == "cprofile"
    assert first["branch"] == "main" and first["dirty"] is False
    assert first["python"].startswith("3.") and first["machine"]
    assert first["command"] == "python3 app.py" and first["duration"] > 0
    assert first["top"]["qualname"] in ("app.py:render", "app.py:parse")
    series = perfpilot("history", "parse", "--output-format", "json", cwd=repo)
    data = json.loads(series.stdout)
    assert data["function"] == "app.py:parse"
    assert len(data["runs"]) == 2
    # Recorded runs are CPU-timed: the clock's own cost (~0.45 us a reading, against ~0.04 for
    # the wall clock) lands on call-dense `render`, so `parse` keeps about 3 % of the program.
    assert all(1 < row["share"] < 95 and row["calls"] == 12 for row in data["runs"])
    text = perfpilot("history", "parse", cwd=repo)
    assert "app.py:parse" in text.stdout and head[:10] in text.stdout


def test_record_imports_a_profile_at_a_given_commit(repo: Path, real_profile: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "b.txt").write_text("x")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "second")
    done = perfpilot("record", "--profile", str(real_profile), "--commit", "HEAD~1", cwd=repo)
    assert done.returncode == 0, done.stderr
    with open_history(repo / ".perfpilot/history.db", create=False) as history:
        (run,) = history.runs()
    assert run.commit == first and run.unit == "seconds"
    figures = run.functions["app.py:parse"]
    assert figures.def_line == 1 and figures.calls == 12 and figures.own > 0
    assert figures.total >= figures.self_time > 0
    bad = perfpilot("record", "--profile", str(real_profile), "--commit", "nope", cwd=repo)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "nope" in bad.stderr


_WRITER = """
import sys
from pathlib import Path
from perfpilot.tools.defense.history import open_history
from perfpilot.tools.defense.recording import import_profiles
runs = import_profiles([sys.argv[2]], Path(sys.argv[3]), workload=sys.argv[4], commit=None)
for _ in range(int(sys.argv[5])):
    with open_history(Path(sys.argv[1])) as history:
        history.add_run(runs[0])
"""


def test_two_processes_writing_at_once_lose_nothing(repo: Path, real_profile: Path) -> None:
    database = repo / ".perfpilot" / "history.db"
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER,
                str(database),
                str(real_profile),
                str(repo),
                name,
                "15",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for name in ("one", "two")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    with open_history(database, create=False) as history:
        assert dict(history.workloads()) == {"one": 15, "two": 15}
        runs = history.runs()
        assert len({r.id for r in runs}) == 30
        assert all(r.functions["app.py:parse"].calls == 12 for r in runs)
    check = sqlite3.connect(database)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    versions = check.execute("SELECT version FROM migrations").fetchall()
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_a_corrupt_history_is_a_one_line_error_and_stays_as_it_was(repo: Path) -> None:
    database = repo / ".perfpilot" / "history.db"
    database.parent.mkdir()
    database.write_bytes(b"this is not a database at all\n" * 100)
    before = database.read_bytes()
    for args in (["history"], ["record", "--", "python3", "app.py"]):
        done = perfpilot(*args, cwd=repo)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "history.db" in done.stderr and "not a SQLite database" in done.stderr
    assert database.read_bytes() == before


def test_a_damaged_sqlite_file_is_refused_in_one_line(repo: Path, real_profile: Path) -> None:
    assert perfpilot("record", "--profile", str(real_profile), cwd=repo).returncode == 0
    database = repo / ".perfpilot" / "history.db"
    data = bytearray(database.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # keep the header, wreck the first page
    database.write_bytes(bytes(data))
    done = perfpilot("history", cwd=repo)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "history.db" in done.stderr


def test_a_foreign_database_is_refused_and_its_rows_kept(repo: Path) -> None:
    database = repo / ".perfpilot" / "history.db"
    database.parent.mkdir()
    other = sqlite3.connect(database)
    other.execute("CREATE TABLE users (name TEXT)")
    other.execute("INSERT INTO users VALUES ('ada'), ('grace')")
    other.commit()
    other.close()
    for args in (["history"], ["record", "--", "python3", "app.py"]):
        done = perfpilot(*args, cwd=repo)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "not a perfpilot history database" in done.stderr
    check = sqlite3.connect(database)
    assert check.execute("SELECT name FROM users").fetchall() == [("ada",), ("grace",)]
    assert {r[0] for r in check.execute("SELECT name FROM sqlite_master")} == {"users"}


def test_a_newer_schema_is_refused(repo: Path, real_profile: Path) -> None:
    assert perfpilot("record", "--profile", str(real_profile), cwd=repo).returncode == 0
    database = repo / ".perfpilot" / "history.db"
    newer = sqlite3.connect(database)
    newer.execute("INSERT INTO migrations (version, description) VALUES (99, 'future')")
    newer.commit()
    newer.close()
    copy = database.with_suffix(".copy")
    shutil.copy(database, copy)
    done = perfpilot("record", "--profile", str(real_profile), cwd=repo)
    assert done.returncode == 2 and "newer perfpilot" in done.stderr
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def test_history_without_a_database_says_how_to_start(repo: Path) -> None:
    done = perfpilot("history", cwd=repo)
    assert done.returncode == 2 and "perfpilot record" in done.stderr
    assert not (repo / ".perfpilot").exists()


def test_a_failing_program_records_nothing(repo: Path) -> None:
    (repo / "fail.py").write_text("raise SystemExit(3)\n")
    done = perfpilot("record", "--repeat", "2", "--", "python3", "fail.py", cwd=repo)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "perfpilot: error: `python3 fail.py` exited with status 3 (run 1 of 2);"
        " nothing was recorded"
    )
    assert not (repo / ".perfpilot" / "history.db").exists()
