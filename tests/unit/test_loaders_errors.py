"""Sniffing and validation of the stack-based loaders: bad input gives a located ProfileError.

Malformed inputs are derived from the real checked-in profiles wherever the defect can be
expressed as an edit of one; tiny hand-written documents cover the rest.
"""

from __future__ import annotations

import cProfile
import json
import marshal
from pathlib import Path

import pytest

from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles import austin, collapsed, detect_format, load_bytes, speedscope
from perfpilot.tools.profiles import pyinstrument as pyinstrument_loader
from perfpilot.tools.profiles import scalene as scalene_loader

DATA = Path(__file__).resolve().parent.parent / "data"
OURS = {
    "speedscope": speedscope,
    "pyinstrument": pyinstrument_loader,
    "scalene": scalene_loader,
    "austin": austin,
    "collapsed": collapsed,
}
FILES = {
    "pyspy.speedscope.json": "speedscope",
    "pyinstrument.speedscope.json": "speedscope",
    "pyinstrument.json": "pyinstrument",
    "scalene.json": "scalene",
    "scalene-no-stacks.json": "scalene",
    "austin-wall.austin.txt": "austin",
    "austin-full.austin.txt": "austin",
    "pyspy.collapsed.txt": "collapsed",
    "pyspy-full-filenames.collapsed.txt": "collapsed",
}


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def doc(name: str) -> dict:
    return json.loads(read(name))


def encode(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def refused(data: bytes, match: str) -> None:
    with pytest.raises(ProfileError, match=match) as info:
        load_bytes(data, "bad-profile")
    assert info.value.source == "bad-profile"


# --- sniffing -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILES))
def test_only_the_right_sniffer_accepts_a_real_file(name: str) -> None:
    data = read(name)
    accepted = [fmt for fmt, module in OURS.items() if module.sniff(data)]
    expected = FILES[name]
    # Austin files may also look like collapsed stacks; the registry asks Austin first.
    assert accepted[0] == expected
    assert accepted[1:] in ([], ["collapsed"] if expected == "austin" else [])
    fmt = detect_format(data)
    assert fmt is not None and fmt.name == expected


def test_sniffers_reject_binary_and_other_formats(tmp_path: Path) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(sum, range(1000))
    profiler.dump_stats(tmp_path / "out.pstats")
    others = [
        (tmp_path / "out.pstats").read_bytes(),
        marshal.dumps({"a": 1}),
        b"\x1f\x8b\x08\x00" + bytes(range(256)),  # gzip, as pprof files are
        b'{"a": 1}',
        b"[[1, 2], 3]",
        b"<html><body>not a profile</body></html>\n",
        b"plain prose, no counts\n",
    ]
    for data in others:
        assert not [fmt for fmt, module in OURS.items() if module.sniff(data)], data[:40]


def test_sniffers_look_at_a_prefix_only() -> None:
    # A huge first line must not make the collapsed sniffer scan (or backtrack over) all of it.
    line = b"a;" * 2_500_000 + b" 3\n"
    assert collapsed.sniff(line)
    assert not collapsed.sniff(b"{" + line)


# --- speedscope -----------------------------------------------------------------------------


def assert_same(first: Profile, second: Profile) -> None:
    """Two loads agree, up to the order in which float weights were summed."""
    assert first.total == pytest.approx(second.total)
    assert first.functions.keys() == second.functions.keys()
    for key, one in first.functions.items():
        other = second.functions[key]
        assert one.qualname == other.qualname
        assert (one.self_time, one.total_time) == pytest.approx((other.self_time, other.total_time))
        assert one.line_times == pytest.approx(other.line_times)
        assert one.callers == pytest.approx(other.callers)
        assert one.callees == pytest.approx(other.callees)


def test_speedscope_fast_path_matches_json_path() -> None:
    for name in ("pyspy.speedscope.json", "pyinstrument.speedscope.json"):
        data = read(name)
        fast = speedscope.load_speedscope(data, name)
        assert_same(fast, speedscope.load_speedscope(data, name, fast=False))


def test_speedscope_chunked_split_matches_json_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Unequal weights, empty samples, two profiles, split into chunks of a few bytes.
    original = doc("pyspy.speedscope.json")
    profile = original["profiles"][0]
    samples = profile["samples"] + [[]] + profile["samples"][:7] + [[]]
    weights = [0.01 * (1 + i % 3) for i in range(len(samples))]
    profile.update(samples=samples, weights=weights)
    original["profiles"].append(dict(profile, samples=[[]], weights=[0.5]))
    data = encode(original)
    monkeypatch.setattr(speedscope, "_CHUNK_BYTES", 7)
    fast = speedscope.load_speedscope(data, "x")
    assert_same(fast, speedscope.load_speedscope(data, "x", fast=False))
    # Empty samples (and the second profile holds only one) carry no frame.
    assert fast.total == pytest.approx(sum(w for s, w in zip(samples, weights) if s))


def test_speedscope_pretty_printed_takes_the_json_path() -> None:
    data = json.dumps(doc("pyspy.speedscope.json"), indent=2).encode()
    assert_same(load_bytes(data, "x"), load_bytes(read("pyspy.speedscope.json"), "y"))


def test_speedscope_units() -> None:
    base = doc("pyspy.speedscope.json")
    profile = base["profiles"][0]
    seconds = load_bytes(encode(base), "x").total
    for unit, factor in (("milliseconds", 1e3), ("microseconds", 1e6), ("nanoseconds", 1e9)):
        scaled = dict(profile, unit=unit, weights=[w * factor for w in profile["weights"]])
        loaded = load_bytes(encode(dict(base, profiles=[scaled])), "x")
        assert loaded.unit == "seconds" and loaded.total == pytest.approx(seconds)
    counted = dict(profile, unit="none", weights=[1] * len(profile["weights"]))
    loaded = load_bytes(encode(dict(base, profiles=[counted])), "x")
    assert loaded.unit == "samples" and loaded.duration is None
    assert loaded.total == len([sample for sample in profile["samples"] if sample])


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["profiles"][0].update(unit="bytes"), "memory profile"),
        (lambda d: d["profiles"][0].update(unit="furlongs"), "unknown unit"),
        (lambda d: d["profiles"].append(dict(d["profiles"][0], unit="none")), "mix"),
        (lambda d: d["profiles"][0]["weights"].__setitem__(3, -0.01), "negative weight"),
        (lambda d: d["profiles"][0]["weights"].__setitem__(3, "0.01"), "non-number"),
        (lambda d: d["profiles"][0]["weights"].pop(), "samples"),
        (lambda d: d["profiles"][0]["samples"][2].append(10_000), "out of range"),
        (lambda d: d["profiles"][0]["samples"][2].append(-1), "out of range"),
        (lambda d: d["profiles"][0]["samples"][2].append(1.5), "out of range"),
        (lambda d: d["profiles"][0]["samples"].__setitem__(2, {"a": 1}), "not a list"),
        (lambda d: d["profiles"][0].update(type="flamegraph"), "unknown type"),
        (lambda d: d["shared"]["frames"][0].update(line="12"), "line number"),
        (lambda d: d["shared"]["frames"][0].pop("name"), "name"),
        (lambda d: d.pop("shared"), "shared.frames"),
        (lambda d: d.update(profiles=[]), "profiles"),
        (lambda d: d["profiles"][0].update(samples=[], weights=[]), "no samples"),
    ],
)
def test_speedscope_sampled_defects(edit, match: str) -> None:
    original = doc("pyspy.speedscope.json")
    edit(original)
    refused(encode(original), match)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda e: e.pop(), "still open"),
        (lambda e: e.insert(5, {"type": "C", "at": e[4]["at"], "frame": 0}), "not open"),
        (lambda e: e.__setitem__(-1, dict(e[-1], at=-1.0)), "back in time"),
        (lambda e: e.__setitem__(3, dict(e[3], type="X")), "unknown type"),
        (lambda e: e.__setitem__(3, dict(e[3], frame=99999)), "out of range"),
        (lambda e: e.__setitem__(3, dict(e[3], at=None)), "finite number"),
    ],
)
def test_speedscope_evented_defects(edit, match: str) -> None:
    original = doc("pyinstrument.speedscope.json")
    edit(original["profiles"][0]["events"])
    refused(encode(original), match)


def test_speedscope_nan_infinity_and_huge_numbers() -> None:
    text = read("pyspy.speedscope.json").decode()
    refused(text.replace('"weights":[0.01,', '"weights":[NaN,', 1).encode(), "NaN")
    refused(text.replace('"weights":[0.01,', '"weights":[1e999,', 1).encode(), "infinite")
    refused(text.replace('"line":', '"line":1' + "0" * 5000 + ',"x":', 1).encode(), "JSON")


@pytest.mark.parametrize("name", ["pyspy.speedscope.json", "pyinstrument.json", "scalene.json"])
def test_json_truncated_not_utf8_and_deep(name: str) -> None:
    data = read(name)
    refused(data[: len(data) // 2], "invalid .* JSON at line")
    refused(data[:-10] + b"\xff\xfe" + data[-10:], "not UTF-8")
    deep = b"[" * 100_000 + b"]" * 100_000
    at = data.index(b":") + 1
    with pytest.raises(ProfileError):
        load_bytes(data[:at] + deep + b"," + data[at:], "bad-profile")


def test_speedscope_samples_key_in_a_string_is_not_cut() -> None:
    original = doc("pyspy.speedscope.json")
    original["name"] = '"samples":[[1]]'
    original["shared"]["frames"][0]["name"] = 'x","samples":[[0]]'
    profile = load_bytes(encode(original), "x")
    assert profile.total == pytest.approx(0.6)


# --- pyinstrument ---------------------------------------------------------------------------


def test_pyinstrument_synthetic_frames_are_parent_self_time() -> None:
    original = doc("pyinstrument.json")
    before = load_bytes(encode(original), "x")
    names = {key.name for key in before.functions}
    assert not {"[self]", "[await]", "[out-of-context]"} & names
    # Turn main's first child into an `[await]` leaf: its time becomes main's self time.
    [main] = [c for c in original["root_frame"]["children"] if c["function"] == "main"]
    child = main["children"][0]
    synthetic = {"function": "[await]", "file_path": "", "line_no": 0, "children": []}
    main["children"][0] = dict(synthetic, time=child["time"])
    after = load_bytes(encode(original), "x")
    main_before = next(s for k, s in before.functions.items() if k.name == "main")
    main_after = next(s for k, s in after.functions.items() if k.name == "main")
    assert main_after.self_time == pytest.approx(main_before.self_time + child["time"])
    assert after.total == pytest.approx(before.total)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda r: r.update(time=-1.0), "non-negative"),
        (lambda r: r.update(time=0.001), "children take longer"),
        (lambda r: r.update(line_no="1"), "line number"),
        (lambda r: r.update(children={}), "not a list"),
        (lambda r: r["children"].append(7), "not a frame"),
        (lambda r: r.update(class_name=3), "class_name"),
        (lambda r: r.pop("function"), "function name"),
    ],
)
def test_pyinstrument_defects(edit, match: str) -> None:
    original = doc("pyinstrument.json")
    edit(original["root_frame"])
    refused(encode(original), match)


def test_pyinstrument_empty_and_iterative_parser() -> None:
    original = doc("pyinstrument.json")
    refused(encode(dict(original, root_frame=None)), "no samples")
    text = encode(original).decode()
    assert pyinstrument_loader._parse_iteratively(text) == json.loads(text)
    for bad in ('{"a":1,}', "[1,]", '{"a" 1}', "[1 2]", '{"a":1}}', "[", '"\\x"', "01"):
        with pytest.raises(ValueError):
            pyinstrument_loader._parse_iteratively(bad)
    deep = "[" * 200_000 + "]" * 200_000
    assert pyinstrument_loader._parse_iteratively(deep) is not None


# --- Scalene --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.update(elapsed_time_sec=-1), "elapsed_time_sec"),
        (lambda d: d.pop("files"), "files"),
        (lambda d: d["stacks"][0].append(1), "pair"),
        (lambda d: d["stacks"][0][1].update(cpu_samples=-0.5), "CPU share"),
        (lambda d: d["stacks"][0][0].__setitem__(0, "no-line-number"), "malformed stack frame"),
        (
            lambda d: next(iter(d["files"].values()))["lines"][8].update(n_cpu_percent_c=-3.0),
            "percentage",
        ),
        (
            lambda d: next(iter(d["files"].values()))["functions"][0].update(lineno="9"),
            "line number",
        ),
    ],
)
def test_scalene_defects(edit, match: str) -> None:
    original = doc("scalene.json")
    edit(original)
    refused(encode(original), match)


def test_scalene_empty_output() -> None:
    refused(b"{}\n", "ran too briefly")


# --- Austin ---------------------------------------------------------------------------------


def test_austin_defects() -> None:
    text = read("austin-wall.austin.txt").decode()
    sample = next(line for line in text.splitlines() if line.startswith("P") and ".py:" in line)
    refused(text.replace("# mode: wall", "# mode: memory").encode(), "memory profile")
    refused(text.replace(sample, sample.rsplit(" ", 1)[0] + " -5").encode(), "microseconds")
    refused(text.replace(sample, sample.rsplit(" ", 1)[0] + " 1e9").encode(), "microseconds")
    refused(text.replace(sample, "P1;X;" + sample).encode(), "not an Austin sample")
    full = read("austin-full.austin.txt").decode()
    sample = next(line for line in full.splitlines() if line.startswith("P"))
    refused(full.replace(sample, sample.rsplit(",", 1)[0] + ",x").encode(), "full-mode")
    refused(b"MOJ\x03" + bytes(range(200)), "MOJO")


def test_austin_torn_frames_drop_their_sample() -> None:
    # Frames as Austin 3.7 really tore them (seen in about one profile in ten).
    text = read("austin-wall.austin.txt").decode()
    before = load_bytes(text.encode(), "x")
    samples = [line for line in text.splitlines() if line.startswith("P") and ".py:" in line]
    torn = [
        "<frozen getpath>:platl:-1469",
        "/root/.pyenv/versions/3.11.7/lib/python3.11/struct.py::13",
        "TIMEOUT_MAX:Lock:1705444274",
    ]
    for sample, frame in zip(samples, torn):
        stack, _, metric = sample.rpartition(" ")
        text = text.replace(sample, f"{stack};{frame} {metric}", 1)
    after = load_bytes(text.encode(), "x")
    assert int(after.meta["invalid_samples"]) == int(before.meta["invalid_samples"]) + 3
    assert after.total < before.total
    only_torn = "# austin: 3.7.0\n# mode: wall\nP1;T0:1;struct.py::13 100\n"
    refused(only_torn.encode(), "no usable samples")


def test_austin_gc_marker_and_windows_paths() -> None:
    data = (
        b"# austin: 3.7.0\n# interval: 100\n# mode: cpu\n\n"
        b"P1;T0:1;C:\\work\\app.py:<module>:3;C:\\work\\app.py:Worker.run:12;:GC: 250\n"
        b"P1;T0:1;C:\\work\\app.py:<module>:3;:INVALID: 100\n"
    )
    profile = load_bytes(data, "x")
    [run] = [s for k, s in profile.functions.items() if k.name == "Worker.run"]
    assert run.key.file == "C:\\work\\app.py" and run.qualname == "Worker.run"
    assert run.self_time == pytest.approx(250e-6) and run.line_times == {12: 250e-6}
    assert profile.meta["invalid_samples"] == "1"


# --- collapsed ------------------------------------------------------------------------------


def test_collapsed_frames_of_every_shape() -> None:
    data = (
        b'process 6802:"python thr.py";thread (6802): MainThread;<module> (thr.py:6);'
        b"spin (thr.py:4) 13\n"
        b"main;parse;Lexer.next 7\n"
        b"f (/tmp/a (copy)/x.py:3);PyEval_EvalFrame (libpython3.11.so) 2\n"
        b" 4\n"
    )
    profile = load_bytes(data, "x")
    # Without def lines, keys carry the qualname; compare bare names.
    by_name = {
        key.name.rsplit(".", 1)[-1]: (key, stats) for key, stats in profile.functions.items()
    }
    assert set(by_name) == {"<module>", "spin", "main", "parse", "next", "f", "PyEval_EvalFrame"}
    assert by_name["spin"][1].line_times == {4: 13}
    assert by_name["next"][1].qualname == "Lexer.next" and by_name["next"][0].file == ""
    assert by_name["f"][0].file == "/tmp/a (copy)/x.py"
    assert by_name["PyEval_EvalFrame"][0].file == "libpython3.11.so"
    assert profile.total == 22 and profile.meta["empty_samples"] == "4"


def test_collapsed_defects() -> None:
    text = read("pyspy.collapsed.txt").decode()
    stack = text.splitlines()[0].rsplit(" ", 1)[0]
    # Counts a sniffer would not take for collapsed stacks: the loader still refuses them.
    for count, match in (("-3", "sample count"), ("nan", "out of range"), ("x", "sample count")):
        with pytest.raises(ProfileError, match=match):
            collapsed.load(f"{stack} {count}\n{text}".encode(), "bad-profile")
    refused(f"{stack} 1e308\n{stack} 1e308\n".encode(), "overflow")
    refused(text.replace(";", ";;", 1).encode(), "empty frame")
    data = text.encode()
    for bad, match in ((b"\xff", "not UTF-8"), (b"\x00", "binary")):
        with pytest.raises(ProfileError, match=match):
            collapsed.load(data[:100] + bad + data[100:], "bad-profile")
        with pytest.raises(ProfileError):
            load_bytes(data[:100] + bad + data[100:], "bad-profile")
