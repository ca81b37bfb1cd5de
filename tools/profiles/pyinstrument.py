"""Load pyinstrument's JSON renderer output (`pyinstrument -r json -o out.json prog.py`)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles._common import (
    MAX_LINE,
    MAX_STACK_ELEMENTS,
    SYNTHETIC_FRAMES,
    JSONTooDeep,
)
from perfpilot.tools.profiles._common import parse_json as parse_json_fast
from perfpilot.tools.profiles.stacks import StackBuilder

FORMAT = "pyinstrument"

_SNIFF_BYTES = 4096
# Times are printed with six decimals, so a parent may differ from the sum of its children by a
# rounding error per child.
_ROUNDING = 1e-6


def sniff(data: bytes) -> bool:
    """Accept a JSON object with pyinstrument's session keys (and no speedscope schema)."""
    head = data[:_SNIFF_BYTES].lstrip()
    if head[:1] != b"{" or b'"$schema"' in head:
        return False
    return b'"root_frame"' in head or (b'"sample_count"' in head and b'"start_time"' in head)


def load(data: bytes, source: str) -> Profile:
    """Load a pyinstrument frame tree; each node's self time becomes a root-first stack."""
    doc = parse_json(data, source)
    if not isinstance(doc, dict) or "root_frame" not in doc:
        raise ProfileError(source, "pyinstrument JSON has no 'root_frame'")
    root = doc["root_frame"]
    if root is None:
        raise ProfileError(source, "pyinstrument profile holds no samples (program too short?)")
    builder = StackBuilder()
    budget = MAX_STACK_ELEMENTS
    # A node's location is kept as (parent location, child index) and spelled out only for an
    # error: a path string per node would cost the tree's depth for every node.
    places: list[tuple[int, int]] = [(-1, -1)]
    # Iterative walk: pyinstrument trees are as deep as the profiled program's recursion.
    pending: list[tuple[Any, tuple[int, ...], int]] = [(root, (), 0)]
    while pending:
        node, parent, place = pending.pop()
        if not isinstance(node, dict):
            raise ProfileError(source, f"{_where(places, place)} is not a frame object")
        function, file, line, time = _fields(node, source, places, place)
        children = node.get("children", [])
        if not isinstance(children, list):
            raise ProfileError(source, f"{_where(places, place)}.children is not a list")
        if _is_synthetic(function, file):
            continue  # `[self]`, `[await]`: already in the parent's self time, see below
        class_name = node.get("class_name")
        if class_name is not None and not isinstance(class_name, str):
            raise ProfileError(source, f"{_where(places, place)}.class_name is not a string")
        qualname = f"{class_name}.{function}" if class_name else None
        stack = (*parent, builder.frame(file, function, 0, line, qualname))
        budget -= len(stack)
        if budget < 0:
            raise ProfileError(source, "pyinstrument call tree is too large to expand")
        # Self time is what the children do not explain: synthetic children, and the time of
        # frames pyinstrument's processors removed (absorbed into this node).
        self_time = time
        for i, child in enumerate(children):
            places.append((place, i))
            child_place = len(places) - 1
            if not isinstance(child, dict):
                raise ProfileError(source, f"{_where(places, child_place)} is not a frame object")
            child_function, child_file, _, child_time = _fields(child, source, places, child_place)
            if not _is_synthetic(child_function, child_file):
                self_time -= child_time
            pending.append((child, stack, child_place))
        if self_time < -_ROUNDING * (len(children) + 1) - 1e-9 * time:
            where = _where(places, place)
            raise ProfileError(source, f"{where}: children take longer than their parent")
        builder.add(stack, self_time)
    if not builder.stacks.stacks:
        raise ProfileError(source, "pyinstrument profile holds no samples (program too short?)")
    meta = {"profiler": "pyinstrument"}
    for key in ("sample_count", "cpu_time", "target_description", "program", "start_time"):
        if isinstance(doc.get(key), (str, int, float)) and not isinstance(doc[key], bool):
            meta[key] = str(doc[key])
    duration = doc.get("duration")
    if type(duration) not in (int, float) or not math.isfinite(duration) or duration < 0:
        duration = None
    return builder.build(FORMAT, "seconds", source, duration=duration, meta=meta)


def _where(places: list[tuple[int, int]], place: int) -> str:
    """Spell out a node's location: `root_frame.children[0].children[2]`."""
    indexes = []
    while place > 0:
        place, index = places[place]
        indexes.append(index)
    path = "".join(f".children[{i}]" for i in reversed(indexes[-8:]))
    return "root_frame" + (f"...(depth {len(indexes)})" if len(indexes) > 8 else "") + path


def _fields(
    node: dict[str, Any], source: str, places: list[tuple[int, int]], place: int
) -> tuple[str, str, int, float]:
    """Validate a frame node's identity and time."""
    function = node.get("function")
    file = node.get("file_path") or ""
    line = node.get("line_no", 0)
    time = node.get("time")
    problem = ""
    if not isinstance(function, str) or not isinstance(file, str):
        problem = " lacks a function name or file path"
    elif type(line) is not int or not 0 <= line < MAX_LINE:
        problem = ".line_no is not a line number"
    elif type(time) not in (int, float) or not math.isfinite(time) or time < 0:
        problem = ".time is not a non-negative number"
    if problem:
        raise ProfileError(source, _where(places, place) + problem)
    return function, file, line, float(time)


def _is_synthetic(function: str, file: str) -> bool:
    """pyinstrument's placeholders (`[self]`, `[await]`, ...) are not functions."""
    return function in SYNTHETIC_FRAMES or (
        not file and function.startswith("[") and function.endswith("]")
    )


def parse_json(data: bytes, source: str) -> Any:
    """Parse JSON; a tree deeper than json's recursion limit falls back to an iterative parser."""
    try:
        return parse_json_fast(data, source, FORMAT)
    except JSONTooDeep:
        pass
    # Legitimate: pyinstrument nests two JSON levels per call, so 500-deep recursion is enough.
    try:
        return _parse_iteratively(data.decode("utf-8-sig"))
    except ValueError as exc:
        raise ProfileError(source, f"invalid {FORMAT} JSON: {exc}") from None


_TOKEN = re.compile(
    r'[ \t\n\r]*(?:([{}\[\],:])|("(?:[^"\\\x00-\x1f]|\\.)*")'
    r"|(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)|(true|false|null))"
)
_LITERALS = {"true": True, "false": False, "null": None}


def _parse_iteratively(text: str) -> Any:
    """A small JSON parser with an explicit stack, so depth costs memory, not C stack."""
    containers: list[Any] = []
    keys: list[str | None] = []
    result: Any = None
    pos = 0
    expect = "value"  # value | key | colon | next (a ',' or the container's end)
    while True:
        match = _TOKEN.match(text, pos)
        if match is None:
            if expect == "done" and not text[pos:].strip():
                return result
            raise ValueError(f"unexpected character at offset {pos}")
        pos = match.end()
        punct, string, number, literal = match.groups()
        if expect == "done":
            raise ValueError(f"extra data at offset {match.start()}")
        if expect == "colon":
            if punct != ":":
                raise ValueError(f"expected ':' at offset {match.start()}")
            expect = "value"
            continue
        if expect == "key":
            if string is not None:
                keys[-1] = json.loads(string)
                expect = "colon"
                continue
            if punct == "}" and not containers[-1]:
                value: Any = containers.pop()
                keys.pop()
            else:
                raise ValueError(f"expected a key at offset {match.start()}")
        elif expect == "next":
            if punct == ",":
                expect = "key" if isinstance(containers[-1], dict) else "value"
                continue
            if punct not in ("]", "}") or (punct == "]") != isinstance(containers[-1], list):
                raise ValueError(f"expected ',' or the end of a container at {match.start()}")
            value = containers.pop()
            keys.pop()
        elif punct == "{" or punct == "[":
            containers.append({} if punct == "{" else [])
            keys.append(None)
            expect = "key" if punct == "{" else "value"
            continue
        elif punct == "]" and containers and isinstance(containers[-1], list):
            if containers[-1]:
                raise ValueError(f"unexpected ']' after ',' at offset {match.start()}")
            value = containers.pop()
            keys.pop()
        elif string is not None:
            value = json.loads(string)
        elif number is not None:
            value = float(number) if any(c in number for c in ".eE") else int(number)
        elif literal is not None:
            value = _LITERALS[literal]
        else:
            raise ValueError(f"unexpected {punct!r} at offset {match.start()}")
        if not containers:
            result = value
            expect = "done"
        elif isinstance(containers[-1], dict):
            containers[-1][keys[-1]] = value
            expect = "next"
        else:
            containers[-1].append(value)
            expect = "next"
