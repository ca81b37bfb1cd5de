"""Load Austin 3.x collapsed-stack output (`austin -o FILE python prog.py`)."""

from __future__ import annotations

import re

from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles._common import decode_text, parse_count, split_qualname
from perfpilot.tools.profiles.stacks import StackBuilder

FORMAT = "austin"

_SNIFF_BYTES = 4096
_SAMPLE_START = re.compile(rb"P\d+;T[0-9A-Fa-fx:]+[; ]")
_META = re.compile(r"#\s*([\w-]+)\s*:\s*(.*)")
_PROCESS = re.compile(r"P\d+")
_THREAD = re.compile(r"T[0-9A-Fa-fx:]+")
_MICROSECONDS = 1e-6
# Frame index markers: a stack Austin could not read, and a state marker that is no function.
_INVALID = -2
_SKIPPED = -1
_TIME_MODES = ("wall", "cpu", "full")
# The file may hold colons (a Windows drive), the qualname does not: the greedy path takes them.
_FRAME = re.compile(r"(.*):([^:]+):([0-9]{0,9})")
_MARKER = re.compile(r":[A-Z][A-Z ]*:")
_FULL_METRIC = re.compile(r"([0-9]{1,18}),([01]),(-?[0-9]{1,18})")


def sniff(data: bytes) -> bool:
    """Accept Austin's `# austin:` header, a bare Austin sample line, or its binary MOJO output."""
    head = data[:_SNIFF_BYTES].lstrip()
    if head.startswith((b"# austin:", b"MOJ")):
        return True
    return bool(_SAMPLE_START.match(head))


def load(data: bytes, source: str) -> Profile:
    """Load Austin samples: `P<pid>;T<iid>:<tid>;file:qualname:line;... metric`, root first."""
    if data.lstrip().startswith(b"MOJ"):
        raise ProfileError(source, "Austin binary (MOJO) output is not supported: run without -b")
    text = decode_text(data, source, FORMAT)
    meta: dict[str, str] = {}
    builder = StackBuilder()
    frame_ids: dict[str, int] = {}
    mode = ""
    invalid = empty = 0
    threads: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            found = _META.fullmatch(line.strip())
            if found:
                key, value = found.group(1), found.group(2).strip()
                meta[key] = value
                if key == "mode":
                    mode = value
                    if mode == "memory":
                        raise ProfileError(
                            source, "memory profile, perfpilot needs a CPU/wall profile"
                        )
                    if mode not in _TIME_MODES:
                        raise ProfileError(source, f"line {number}: unknown Austin mode {mode!r}")
            continue
        stack_text, _, metric = line.rstrip().rpartition(" ")
        where = f"line {number}"
        weight = _time_metric(metric, mode, source, where)
        parts = stack_text.split(";")
        if len(parts) < 2 or not _PROCESS.fullmatch(parts[0]) or not _THREAD.fullmatch(parts[1]):
            raise ProfileError(source, f"{where}: not an Austin sample (P<pid>;T<tid>;...)")
        threads.add(parts[0] + parts[1])
        stack: list[int] = []
        for part in parts[2:]:
            index = frame_ids.get(part)
            if index is None:
                index = frame_ids[part] = _frame(builder, part)
            if index == _INVALID:
                break
            if index >= 0:
                stack.append(index)
        else:
            if stack:
                builder.add(tuple(stack), weight * _MICROSECONDS)
            else:
                empty += 1
            continue
        invalid += 1  # Austin could not read this stack; its time is not attributable.
    if not builder.stacks.stacks:
        why = f" ({invalid} unreadable)" if invalid else ""
        raise ProfileError(source, f"Austin profile holds no usable samples{why}")
    meta.update(mode=mode or "unknown", threads=str(len(threads)))
    if invalid:
        meta["invalid_samples"] = str(invalid)
    if empty:
        meta["empty_samples"] = str(empty)
    duration = None
    if meta.get("duration", "").isdigit():
        duration = int(meta["duration"]) * _MICROSECONDS
    return builder.build(FORMAT, "seconds", source, duration=duration, meta=meta)


def _frame(builder: StackBuilder, text: str) -> int:
    """Return the builder index of `file:qualname:line`; markers give _INVALID or _SKIPPED."""
    if text == ":INVALID:":
        return _INVALID
    if _MARKER.fullmatch(text):
        return _SKIPPED  # `:GC:` and other markers are states, not functions
    found = _FRAME.fullmatch(text)
    if not found:
        # Austin reads the process without stopping it, so now and then a frame is torn:
        # `struct.py::13`, `<frozen getpath>:platl:-1469`, a line of 1705444274. Austin's own
        # `:INVALID:` marks the same thing; the sample is dropped, not the profile.
        return _INVALID
    path, qualname, line = found.groups()
    bare, qualified = split_qualname(qualname)
    return builder.frame(path, bare, int(line or 0), 0, qualified)


def _time_metric(metric: str, mode: str, source: str, where: str) -> float:
    """Return the time in microseconds from a metric (full mode: `time,idle,memory`)."""
    if mode == "full" or "," in metric:
        found = _FULL_METRIC.fullmatch(metric)
        if not found:
            raise ProfileError(source, f"{where}: full-mode metric {metric[:40]!r} is malformed")
        metric = found.group(1)
    if not (metric.isascii() and metric.isdigit()):
        raise ProfileError(source, f"{where}: {metric[:40]!r} is not a time in microseconds")
    return parse_count(metric, source, where)
