"""`perfpilot check --profile SPEC` and `perfpilot fetch` against loopback Pyroscope and Parca.

The servers answer real pprof profiles of tests/data/sample_prog.py; every bad answer must end
in one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import gzip
import re
import shutil
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from perfpilot.server.cli import main
from tests.remote_fakes import FakeServer, Stored

DATA = Path(__file__).resolve().parent.parent / "data"
BEFORE = (DATA / "austin-wall.pprof").read_bytes()
AFTER = gzip.decompress((DATA / "austin-full.pprof.gz").read_bytes())
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
PARCA_CPU = "parca_agent:samples:count:cpu:nanoseconds:delta"
# The profiles were recorded in this folder (tests/data/README.md).
MAPPING = "/tmp/perfpilot-sample-pprof=."
WINDOW = "&from=now-2h&until=now-1h"


def _stored() -> list[Stored]:
    now = datetime.now(timezone.utc)
    return [
        Stored(
            {"service_name": "api"}, int((now - timedelta(minutes=90)).timestamp() * 1000), BEFORE
        ),
        Stored(
            {"service_name": "api"}, int((now - timedelta(minutes=30)).timestamp() * 1000), AFTER
        ),
    ]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(DATA / "sample_prog.py", tmp_path / "sample_prog.py")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'sample'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFPILOT_CONFIG", str(tmp_path / "no-user-config.toml"))
    return tmp_path


@pytest.fixture
def pyroscope() -> FakeServer:
    server = FakeServer("pyroscope", _stored()).start()
    yield server
    server.stop()


@pytest.fixture
def parca() -> FakeServer:
    server = FakeServer("parca", _stored()).start()
    yield server
    server.stop()


def pyro(server: FakeServer, window: str = "&from=now-2h&until=now-1h") -> str:
    return f'pyroscope+{server.url}?query={CPU}{{service_name="api"}}{window}'


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_check_on_a_pyroscope_window_reports_what_the_same_file_reports(
    workspace: Path, pyroscope: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = pyro(pyroscope)
    status, remote_out, err = run(capsys, "check", "--profile", spec, "--path-mapping", MAPPING)
    assert status == 1, err
    (workspace / "before.pprof").write_bytes(BEFORE)
    _, local_out, _ = run(capsys, "check", "--profile", "before.pprof", "--path-mapping", MAPPING)
    assert remote_out.splitlines()[:-1] == local_out.splitlines()[:-1]
    assert remote_out.startswith("sample_prog.py:9:5: PP001 Hot function `fib` (#1)")
    assert "in 1 profile (pprof)" in remote_out.splitlines()[-1]


def test_check_merges_two_windows_and_parca_works_the_same(
    workspace: Path, pyroscope: FakeServer, parca: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    after = f'parca+{parca.url}?query={PARCA_CPU}{{service_name="api"}}&from=now-1h'
    status, out, err = run(
        capsys, "check", "--profile", pyro(pyroscope), "--profile", after,
        "--path-mapping", MAPPING, "--output-format", "json",
    )  # fmt: skip
    assert status == 1, err
    assert '"code": "PP001"' in out and "fib" in out
    # The summary names each source with the absolute window its relative times stood for.
    assert re.search(r"&from=now-1h \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.\.", out), out
    assert [r["path"].rpartition("/")[2] for r in parca.requests] == ["Query"]


def test_fetch_saves_the_profile_where_check_and_the_editor_find_it(
    workspace: Path, pyroscope: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "fetch", pyro(pyroscope))
    assert status == 0, err
    (saved,) = (workspace / ".perfpilot" / "profiles").iterdir()
    assert saved.name.endswith(".pb.gz") and gzip.decompress(saved.read_bytes()) == BEFORE
    assert f"perfpilot: wrote .perfpilot/profiles/{saved.name} (pyroscope 127.0.0.1:" in err
    # `check` with no --profile takes the newest stored profile: the fetched one.
    status, out, _ = run(capsys, "check", "--path-mapping", MAPPING)
    assert status == 1 and out.startswith("sample_prog.py:9:5: PP001 Hot function `fib`")


def _refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("mode", "extra", "expected"),
    [
        ("error", WINDOW, "HTTP 500, internal: querier: store-gateway unavailable"),
        ("bad-selector", WINDOW, 'HTTP 400, invalid_argument: parse error: unexpected "}"'),
        (
            "html",
            WINDOW,
            "expected a Connect answer (application/proto), got text/html (a web page",
        ),
        ("json", WINDOW, "expected a Connect answer (application/proto), got application/json"),
        ("truncated", WINDOW, "the answer was cut short"),
        ("garbage", WINDOW, "the answer is not a valid protobuf message"),
        ("timeout", "&from=now-2h&until=now-1h&timeout=0.5", "no answer within 0.5 s"),
        ("redirect", WINDOW, "redirects (HTTP 302) to https://sso.example.com/login"),
        ("modern", "&from=now-10h&until=now-9h", "no samples for process_cpu"),
        ("tenant", WINDOW, "HTTP 401, unauthenticated: no org id (set tenant=ID"),
    ],
)
def test_a_bad_pyroscope_answer_is_one_line_and_exit_2(
    workspace: Path,
    pyroscope: FakeServer,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    extra: str,
    expected: str,
) -> None:
    if mode == "tenant":
        pyroscope.tenant = "team-a"
    else:
        pyroscope.mode = mode
    status, out, err = run(capsys, "check", "--profile", pyro(pyroscope, extra))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("perfpilot: error: pyroscope+http://"), err
    assert expected in err, err


@pytest.mark.parametrize(
    ("mode", "spec_tail", "expected"),
    [
        ("truncated", WINDOW, "the answer was cut short"),
        ("no-trailer", "", "the answer has no gRPC status"),
        ("modern", "&from=now-10h&until=now-9h", "NOT_FOUND: no profiles found"),
        ("token", "", "UNAUTHENTICATED: invalid token: not authenticated (set token_env=VAR"),
        ("modern", "/wrong-prefix", "UNIMPLEMENTED: unknown service"),
    ],
)
def test_a_bad_parca_answer_is_one_line_and_exit_2(
    workspace: Path,
    parca: FakeServer,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    spec_tail: str,
    expected: str,
) -> None:
    if mode == "token":
        parca.token = "t0ken"
    else:
        parca.mode = mode
    path, window = (spec_tail, "") if spec_tail.startswith("/") else ("", spec_tail)
    spec = f'parca+{parca.url}{path}?query={PARCA_CPU}{{service_name="api"}}{window}'
    status, out, err = run(capsys, "check", "--profile", spec)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("perfpilot: error: parca+http://"), err
    assert expected in err, err


def test_connection_refused_through_the_console_script(workspace: Path) -> None:
    spec = f"pyroscope+http://127.0.0.1:{_refused_port()}?query={CPU}"
    done = subprocess.run(
        [sys.executable, "-m", "perfpilot.server", "check", "--profile", spec],
        capture_output=True, text=True, timeout=120, cwd=workspace,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "connection refused (is the server running, and is that its port?)" in done.stderr
