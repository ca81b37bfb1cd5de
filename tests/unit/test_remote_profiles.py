"""Production profiles: source specs, and fetching real pprof from loopback Pyroscope and Parca."""

from __future__ import annotations

import base64
import gzip
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from perfpilot.tools.config import ConfigError, load_settings
from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles import load_bytes, load_profile
from perfpilot.tools.profiles.remote import (
    RemoteError,
    fetch_profile,
    is_remote_spec,
    load_remote,
    parse_remote,
    save_fetched,
)
from tests.remote_fakes import MESSAGES, FakeServer, Stored

DATA = Path(__file__).resolve().parent.parent / "data"
# Two real profiles of tests/data/sample_prog.py (see tests/data/README.md): "before" and
# "after" a deploy.
BEFORE = (DATA / "austin-wall.pprof").read_bytes()
AFTER = gzip.decompress((DATA / "austin-full.pprof.gz").read_bytes())
NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=timezone.utc)
DEPLOY = NOW - timedelta(hours=1)
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _stored() -> list[Stored]:
    return [
        Stored({"service_name": "api"}, _ms(DEPLOY - timedelta(minutes=30)), BEFORE),
        Stored({"service_name": "api"}, _ms(DEPLOY + timedelta(minutes=30)), AFTER),
    ]


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


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFPILOT_CONFIG", str(tmp_path / "no-user-config.toml"))


def pyro_spec(server: FakeServer, window: str = "from=now-2h&until=now-1h", extra: str = "") -> str:
    return f'pyroscope+{server.url}?query={CPU}{{service_name="api"}}&{window}{extra}'


# -- specs -------------------------------------------------------------------------------------


def test_a_spec_parses_into_its_parts() -> None:
    spec = parse_remote(
        "pyroscope+https://profiles.example.com:4443/prefix/?query="
        + CPU
        + '{service_name="api",env=~"prod-.+"}&from=now-1h30m&until=now-5m&tenant=team-a'
        "&token_env=PYRO_TOKEN&timeout=12.5&max_nodes=16384",
        now=NOW,
    )
    assert spec.backend == "pyroscope"
    assert spec.base_url == "https://profiles.example.com:4443/prefix"
    assert spec.profile_type == CPU
    assert spec.label_selector == '{service_name="api",env=~"prod-.+"}'  # `+` stays a plus
    assert spec.start == NOW - timedelta(minutes=90)
    assert spec.end == NOW - timedelta(minutes=5)
    assert (spec.tenant, spec.token_env, spec.timeout, spec.max_nodes) == (
        "team-a",
        "PYRO_TOKEN",
        12.5,
        16384,
    )
    assert spec.window() == "2026-12-04T10:30:00Z..2026-12-04T11:55:00Z"


def test_times_are_rfc3339_unix_seconds_or_relative_and_default_to_the_last_hour() -> None:
    spec = parse_remote(
        "parca+http://h:7070?query=parca_agent:samples:count:cpu:nanoseconds:delta{}"
        f"&from=2026-12-04T11:00:00%2B01:00&until={int(NOW.timestamp())}",
        now=NOW,
    )
    assert spec.start == datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)
    assert spec.end == NOW
    assert spec.label_selector == "{}"
    default = parse_remote(f"pyroscope+http://h?query={CPU}", now=NOW)
    assert (default.start, default.end) == (NOW - timedelta(hours=1), NOW)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (f"http://h:4040?query={CPU}", "say which profiler serves it: pyroscope+http://"),
        (f"jaeger+http://h?query={CPU}", "unknown profiler 'jaeger'"),
        (f"pyroscope+ftp://h?query={CPU}", "'ftp' is not http or https"),
        ("pyroscope+http://h:4040", "no query=PROFILE_TYPE{LABELS} parameter"),
        ('pyroscope+http://h?query={service_name="api"}', "does not start with a profile type"),
        (f'pyroscope+http://h?query={CPU}{{a="b"', "no closing }"),
        (f"pyroscope+http://h?query={CPU}&from=now&until=now-1h", "the window is empty"),
        (f"pyroscope+http://h?query={CPU}&from=2026-12-04T10:00:00", "add a UTC offset"),
        (f"pyroscope+http://h?query={CPU}&from=1733300000000", "looks like milliseconds"),
        (f"pyroscope+http://h?query={CPU}&from=yesterday", "expected now, now-DURATION"),
        (f"pyroscope+http://h?query={CPU}&token=s3cret", "a secret does not belong in the spec"),
        (f"pyroscope+http://u:pw@h?query={CPU}", "credentials do not belong in the URL"),
        (f"pyroscope+http://h?query={CPU}&service=api", "unknown parameter 'service'"),
        (f"pyroscope+http://h?query={CPU}&tenant=a&tenant=b", "'tenant' is given twice"),
        (f"pyroscope+http://h?query={CPU}&timeout=0", "timeout=0 is outside"),
        (f"pyroscope+http://h?query={CPU}&token_env=MY-VAR", "is not an environment variable"),
        (f"pyroscope+http://h?query={CPU}&user=me", "user= needs password_env=VAR"),
        (f"parca+http://h?query={CPU}&max_nodes=10", "max_nodes is a Pyroscope parameter"),
        (f"pyroscope+http://h:99999?query={CPU}", "not a valid URL"),
    ],
)
def test_a_bad_spec_is_one_line_naming_what_is_wrong(spec: str, expected: str) -> None:
    assert is_remote_spec(spec)
    with pytest.raises(RemoteError) as caught:
        parse_remote(spec, now=NOW)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert "s3cret" not in message and "pw@" not in message  # a secret is never echoed


def test_files_are_not_specs() -> None:
    assert not is_remote_spec("profiles/out.pprof")
    assert not is_remote_spec("C:\\profiles\\out.prof")


def test_a_repository_cannot_name_a_remote_source(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.perfpilot]\nprofiles = ["pyroscope+https://evil.example?query={CPU}"]\n'
    )
    with pytest.raises(ConfigError, match="remote source; those are given on the command line"):
        load_settings(tmp_path)


# -- Pyroscope ---------------------------------------------------------------------------------


def test_pyroscope_answers_the_merged_pprof_of_the_window(pyroscope: FakeServer) -> None:
    spec = parse_remote(pyro_spec(pyroscope, extra="&tenant=team-a&max_nodes=8192"), now=NOW)
    assert fetch_profile(spec) == BEFORE
    (request,) = pyroscope.requests
    assert request["path"] == "/querier.v1.QuerierService/SelectMergeStacktraces"
    headers = request["headers"]
    assert headers["Content-Type"] == "application/proto"
    assert headers["Connect-Protocol-Version"] == "1"
    assert headers["X-Scope-OrgID"] == "team-a"
    assert "Authorization" not in headers
    decoded = MESSAGES["SelectMergeStacktracesRequest"].FromString(request["body"])
    assert decoded.profile_typeID == CPU
    assert decoded.label_selector == '{service_name="api"}'
    assert (decoded.start, decoded.end) == (_ms(NOW - timedelta(hours=2)), _ms(DEPLOY))
    assert decoded.format == 4 and decoded.max_nodes == 8192


def test_before_and_after_a_deploy_are_two_windows(pyroscope: FakeServer) -> None:
    before = load_remote(parse_remote(pyro_spec(pyroscope), now=NOW))
    after = load_remote(parse_remote(pyro_spec(pyroscope, "from=now-1h&until=now"), now=NOW))
    assert before.meta["sample_types"] == load_bytes(BEFORE, "b").meta["sample_types"]
    assert "CPU time" in after.meta["sample_types"]  # Austin's full mode, the "after" profile
    assert before.meta["sample_types"] != after.meta["sample_types"]
    names = {key.name for key in after.functions}
    assert {"fib", "squares"} <= names


def test_an_older_pyroscope_falls_back_to_select_merge_profile(pyroscope: FakeServer) -> None:
    pyroscope.mode = "legacy"  # ignores PROFILE_FORMAT_PPROF and answers a flame graph
    assert fetch_profile(parse_remote(pyro_spec(pyroscope), now=NOW)) == BEFORE
    paths = [r["path"].rpartition("/")[2] for r in pyroscope.requests]
    assert paths == ["SelectMergeStacktraces", "SelectMergeProfile"]
    legacy = MESSAGES["SelectMergeProfileRequest"].FromString(pyroscope.requests[1]["body"])
    assert legacy.label_selector == '{service_name="api"}'


def test_a_gateway_503_is_tried_again(pyroscope: FakeServer) -> None:
    pyroscope.mode = "flaky"
    assert fetch_profile(parse_remote(pyro_spec(pyroscope), now=NOW)) == BEFORE
    assert len(pyroscope.requests) == 2


def test_a_token_comes_from_the_variable_the_user_named(
    pyroscope: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyroscope.token = "t0ken"
    spec = parse_remote(pyro_spec(pyroscope, extra="&token_env=PYRO_TOKEN"), now=NOW)
    with pytest.raises(RemoteError, match="the environment variable PYRO_TOKEN is not set"):
        fetch_profile(spec)
    monkeypatch.setenv("PYRO_TOKEN", "t0ken")
    assert fetch_profile(spec) == BEFORE
    assert pyroscope.requests[-1]["headers"]["Authorization"] == "Bearer t0ken"


def test_basic_auth_takes_the_password_from_the_named_variable(
    pyroscope: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_CLOUD_TOKEN", "glc_secret")
    spec = parse_remote(
        pyro_spec(pyroscope, extra="&user=123456&password_env=GRAFANA_CLOUD_TOKEN"), now=NOW
    )
    assert fetch_profile(spec) == BEFORE
    expected = "Basic " + base64.b64encode(b"123456:glc_secret").decode()
    assert pyroscope.requests[-1]["headers"]["Authorization"] == expected
    assert "glc_secret" not in repr(spec)


def test_the_user_config_supplies_tenant_and_token_per_server(
    pyroscope: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyroscope.tenant, pyroscope.token = "team-a", "t0ken"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[remotes]]\nurl = "http://127.0.0.1:{pyroscope.port}"\ntenant = "team-a"\n'
        'token_env = "TEAM_A_TOKEN"\n'
    )
    monkeypatch.setenv("PERFPILOT_CONFIG", str(config))
    monkeypatch.setenv("TEAM_A_TOKEN", "t0ken")
    assert fetch_profile(parse_remote(pyro_spec(pyroscope), now=NOW)) == BEFORE
    headers = pyroscope.requests[-1]["headers"]
    assert (headers["X-Scope-OrgID"], headers["Authorization"]) == ("team-a", "Bearer t0ken")
    # A token written in the file itself needs a private file.
    config.write_text(
        f'[[remotes]]\nurl = "http://127.0.0.1:{pyroscope.port}"\ntoken = "t0ken"\n'
        'tenant = "team-a"\n'
    )
    os.chmod(config, 0o644)
    with pytest.raises(RemoteError, match="readable by others; chmod 600"):
        fetch_profile(parse_remote(pyro_spec(pyroscope), now=NOW))
    os.chmod(config, 0o600)
    assert fetch_profile(parse_remote(pyro_spec(pyroscope), now=NOW)) == BEFORE


def test_no_token_over_plain_http_to_another_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYRO_TOKEN", "t0ken")
    spec = parse_remote(
        f"pyroscope+http://pyroscope.internal:4040?query={CPU}&token_env=PYRO_TOKEN", now=NOW
    )
    with pytest.raises(RemoteError, match="refusing to send a token or password over plain http"):
        fetch_profile(spec)


# -- Parca -------------------------------------------------------------------------------------


def test_parca_answers_the_merged_pprof_over_grpc_web(parca: FakeServer) -> None:
    query = 'parca_agent:samples:count:cpu:nanoseconds:delta{service_name="api"}'
    spec = parse_remote(f"parca+{parca.url}?query={query}&from=now-1h&until=now", now=NOW)
    profile = load_remote(spec)
    assert fetch_profile(spec) == AFTER
    assert {"fib", "squares"} <= {key.name for key in profile.functions}
    request = parca.requests[-1]
    assert request["path"] == "/parca.query.v1alpha1.QueryService/Query"
    assert request["headers"]["Content-Type"] == "application/grpc-web+proto"
    decoded = MESSAGES["QueryRequest"].FromString(request["body"][5:])
    assert (decoded.mode, decoded.report_type) == (2, 1)
    assert decoded.merge.query == query
    assert decoded.merge.start.seconds == int(DEPLOY.timestamp())
    assert decoded.merge.end.seconds == int(NOW.timestamp())


# -- saving ------------------------------------------------------------------------------------


def test_a_fetched_profile_is_saved_under_a_name_recording_source_and_window(
    pyroscope: FakeServer, tmp_path: Path
) -> None:
    spec = parse_remote(pyro_spec(pyroscope), now=NOW)
    path = save_fetched(spec, tmp_path / ".perfpilot" / "profiles")
    assert path.name.startswith(
        f"pyroscope-127_0_0_1_{pyroscope.port}-process_cpu_service_name_api-"
    )
    assert "-20261204T100000Z-20261204T110000Z-" in path.name and path.name.endswith(".pb.gz")
    assert gzip.decompress(path.read_bytes()) == BEFORE
    loaded = load_profile(path)
    assert loaded.total == pytest.approx(load_bytes(BEFORE, "b").total)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind
    assert [p.name for p in path.parent.parent.iterdir()] == ["profiles"]


def test_a_remote_error_is_a_profile_error() -> None:
    assert issubclass(RemoteError, ProfileError)


def test_a_token_with_a_line_break_is_refused_without_echoing_it(
    pyroscope: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYRO_TOKEN", "t0ken\r\nX-Evil: 1")
    spec = parse_remote(pyro_spec(pyroscope, extra="&token_env=PYRO_TOKEN"), now=NOW)
    with pytest.raises(RemoteError, match="holds a character HTTP forbids") as caught:
        fetch_profile(spec)
    assert "t0ken" not in str(caught.value) and not pyroscope.requests


def _pyroscope_python_profile() -> bytes:
    """The real py-spy run of tests/data as Pyroscope answers it for its Python SDK's data.

    pyroscope-rs sends folded stacks naming each frame `file:line - name`; Pyroscope keeps that
    string as the function name (no file name, no line in the location), as pprof.FromTree does.
    """
    from perfpilot.tools.profiles import pprof_pb2

    profile, strings, locations = pprof_pb2.Profile(), {"": 0}, {}
    profile.string_table.append("")

    def string(text: str) -> int:
        if text not in strings:
            strings[text] = len(strings)
            profile.string_table.append(text)
        return strings[text]

    profile.sample_type.add(type=string("cpu"), unit=string("nanoseconds"))
    for line in (DATA / "pyspy.collapsed.txt").read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        ids = []
        for frame in filter(None, stack.split(";")):
            name, _, where = frame.rpartition(" (")
            folded = f"{where.rstrip(')')} - {name}"
            if folded not in locations:
                locations[folded] = len(locations) + 1
                profile.function.add(id=locations[folded], name=string(folded))
                profile.location.add(id=locations[folded]).line.add(function_id=locations[folded])
            ids.append(locations[folded])
        profile.sample.add(location_id=list(reversed(ids)), value=[int(count) * 10_000_000])
    return profile.SerializeToString()


def test_python_frames_folded_by_pyroscope_find_their_file_and_line(pyroscope: FakeServer) -> None:
    pyroscope.profiles = [Stored({"service_name": "api"}, _ms(DEPLOY - timedelta(minutes=30)),
                                 _pyroscope_python_profile())]  # fmt: skip
    remote = load_remote(parse_remote(pyro_spec(pyroscope), now=NOW))
    local = load_profile(DATA / "pyspy.collapsed.txt")  # the same run, as py-spy wrote it

    def shares(profile: Profile) -> dict[tuple[str, str], float]:
        return {
            (key.file, key.name): round(profile.share(stats.self_time), 6)
            for key, stats in profile.functions.items()
            if stats.self_time
        }

    assert shares(remote) == shares(local)
    fib = next(key for key in remote.functions if key.name == "fib")
    assert fib.file == "sample_prog.py"
    # The executing lines survive the folding (seconds there, samples here: compare shares).
    lines = {n: round(remote.share(t), 6) for n, t in remote.functions[fib].line_times.items()}
    assert lines == {
        n: round(local.share(t), 6) for n, t in local.functions[fib].line_times.items()
    }
    assert set(lines) == {9, 10, 12}
