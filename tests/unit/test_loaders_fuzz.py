"""Mutated real profiles either load into a sane Profile or fail with a ProfileError, quickly."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles import load_bytes

DATA = Path(__file__).resolve().parent.parent / "data"
FILES = {
    "speedscope": ["pyspy.speedscope.json", "pyinstrument.speedscope.json"],
    "pyinstrument": ["pyinstrument.json"],
    "scalene": ["scalene.json", "scalene-no-stacks.json"],
    "austin": ["austin-wall.austin.txt", "austin-full.austin.txt"],
    "collapsed": ["pyspy.collapsed.txt", "pyspy-full-filenames.collapsed.txt"],
}
CONTENT = {name: (DATA / name).read_bytes() for names in FILES.values() for name in names}
NUMBER = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# Where each file holds a number, found once: the "number" mutation replaces one of them.
NUMBERS = {name: [m.span() for m in NUMBER.finditer(data)] for name, data in CONTENT.items()}
ODD_NUMBERS = [
    b"-1",
    b"-0.5",
    b"0",
    b"1e999",
    b"-1e999",
    b"NaN",
    b"Infinity",
    b"1e308",
    b"4294967296",
    b"99999999999999999999999999",
    b"1" + b"0" * 5000,
    b"0.0000001",
    b"true",
    b"null",
    b'"7"',
    b"[]",
]
# Replacement tokens for the fields of a text profile's line.
ODD_TOKENS = ["", ":", "::", "a:b:c", "-1", "1e308", "nan", "0", "P1", "T", ":INVALID:", ":GC:"]
ODD_LINES = ["# mode: memory", "# mode: full", "# austin: 3.0", "P1;T0:1 5", " 7", "x 1,0,-3"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
ASCII_DAMAGE = b'{}[],:;" 0123456789-.eE\n\\xP#'


@st.composite
def mutated(draw: st.DrawFn, names: list[str]) -> bytes:
    """A real profile with one kind of damage."""
    name = draw(st.sampled_from(names))
    data = CONTENT[name]
    position = draw(st.integers(0, len(data)))
    kinds = ["truncate", "flip", "ascii", "insert", "delete", "number", "number", "nest"]
    kind = draw(st.sampled_from(kinds + ["edit"] * 4))
    if kind == "truncate":
        return data[:position]
    if kind in ("flip", "ascii"):
        damaged = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            if kind == "flip":
                damaged[at] ^= draw(st.integers(1, 255))
            else:
                damaged[at] = draw(st.sampled_from(ASCII_DAMAGE))
        return bytes(damaged)
    if kind == "edit":
        return edit_json(draw, data) if name.endswith(".json") else edit_text(draw, data)
    if kind == "insert":
        return data[:position] + draw(st.binary(min_size=1, max_size=32)) + data[position:]
    if kind == "delete":
        return data[:position] + data[position + draw(st.integers(1, 64)) :]
    if kind == "number":
        start, end = draw(st.sampled_from(NUMBERS[name]))
        return data[:start] + draw(st.sampled_from(ODD_NUMBERS)) + data[end:]
    depth = draw(st.sampled_from([2, 500, 5000, 100_000]))
    opening = draw(st.sampled_from([b"[", b'{"a":']))
    closing = b"]" if opening == b"[" else b"}"
    return data[:position] + opening * depth + b"1" + closing * depth + data[position:]


def edit_json(draw: st.DrawFn, data: bytes) -> bytes:
    """Replace (or delete) one value somewhere in the document: still JSON, maybe not a profile."""
    doc = json.loads(data)
    parent: Any = None
    key: Any = None
    node: Any = doc
    for _ in range(draw(st.integers(1, 14))):
        if isinstance(node, dict) and node:
            child = draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            child = draw(st.integers(0, len(node) - 1))
        else:
            break
        parent, key, node = node, child, node[child]
    if parent is None:
        return data
    if draw(st.booleans()):
        del parent[key]
    else:
        parent[key] = draw(JSON_VALUES)
    return json.dumps(doc).encode()


def edit_text(draw: st.DrawFn, data: bytes) -> bytes:
    """Replace one field of one line (or the whole line) of a text profile."""
    lines = data.decode().split("\n")
    at = draw(st.integers(0, len(lines) - 1))
    if draw(st.booleans()):
        lines[at] = draw(st.sampled_from(ODD_LINES))
    else:
        fields = re.split(r"([; ])", lines[at])
        field = draw(st.integers(0, len(fields) - 1))
        fields[field] = draw(st.sampled_from(ODD_TOKENS))
        lines[at] = "".join(fields)
    return "\n".join(lines).encode()


def check(data: bytes) -> None:
    """Loading gives a consistent Profile or a ProfileError; nothing else escapes."""
    try:
        profile = load_bytes(data, "fuzz")
    except ProfileError as exc:
        assert exc.source == "fuzz" and exc.message
        return
    assert isinstance(profile, Profile)
    assert math.isfinite(profile.total) and profile.total > 0
    self_sum = 0.0
    for stats in profile.functions.values():
        assert math.isfinite(stats.self_time) and stats.self_time >= 0
        assert stats.total_time <= profile.total * (1 + 1e-9) + 1e-12
        self_sum += stats.self_time
    assert self_sum == pytest.approx(profile.total)


FUZZ = settings(
    max_examples=200,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_mutated_profiles(fmt: str) -> None:
    @FUZZ
    @given(mutated(FILES[fmt]))
    def run(data: bytes) -> None:
        check(data)

    run()


@pytest.mark.parametrize("name", sorted(CONTENT))
def test_unmutated_profiles_pass_the_check(name: str) -> None:
    check(CONTENT[name])


@pytest.mark.parametrize("name", [n for n in sorted(CONTENT) if n.endswith(".json")])
def test_valid_json_with_a_deeply_nested_extra_key(name: str) -> None:
    # Still valid JSON, and still the same profile to a sniffer: only the loader sees the depth.
    data = CONTENT[name].rstrip()
    assert data.endswith(b"}")
    deep = b"[" * 100_000 + b"]" * 100_000
    check(data[:-1] + b',"deep":' + deep + b"}")
