"""Load Scalene JSON (`python -m scalene run --cpu-only -o out.json prog.py`, or 1.5 `--json`)."""

from __future__ import annotations

import bisect
import math
import re
from typing import Any

from perfpilot.tools.model import FunctionKey, FunctionStats, Profile, ProfileError
from perfpilot.tools.profiles._common import MAX_LINE, parse_json, split_qualname
from perfpilot.tools.profiles.stacks import StackBuilder

FORMAT = "scalene"

_SNIFF_BYTES = 4096
# Scalene 2 sorts its keys, so its files open with "alloc_samples"; older ones with
# "elapsed_time_sec".
_FIRST_KEY = re.compile(rb'\{\s*"(?:alloc_samples|elapsed_time_sec)"\s*:')
_EMPTY = re.compile(rb"\s*\{\s*\}\s*")
# A stack frame as Scalene 2 prints it: "<file> <qualname>:<line>;".
_STACK_FRAME = re.compile(r"(.+) (\S+):([0-9]{1,9});?")
# Scalene splits a line's time into Python, native and "system" (time the process was off the
# CPU while the line ran); the three together are the line's share of the samples.
_PERCENT_KEYS = ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent")


def sniff(data: bytes) -> bool:
    """Accept Scalene's JSON object (and the bare `{}` it writes for too-short runs)."""
    head = data[:_SNIFF_BYTES].lstrip()
    if _FIRST_KEY.match(head):
        return True
    if head[:1] != b"{" or b'"$schema"' in head:
        return False
    if len(data) < 64 and _EMPTY.fullmatch(data):
        return True
    return b'"elapsed_time_sec"' in head and b'"files"' in head


def load(data: bytes, source: str) -> Profile:
    """Load a Scalene profile: its call stacks when present, else its per-function table."""
    doc = parse_json(data, source, FORMAT)
    if doc == {}:
        raise ProfileError(
            source,
            "empty Scalene profile ({}): Scalene writes this when the program ran too "
            "briefly to be sampled",
        )
    if not isinstance(doc, dict):
        raise ProfileError(source, "Scalene file is not a JSON object")
    elapsed = doc.get("elapsed_time_sec")
    if type(elapsed) not in (int, float) or not math.isfinite(elapsed) or elapsed < 0:
        raise ProfileError(source, "Scalene elapsed_time_sec is not a non-negative number")
    files = doc.get("files")
    if not isinstance(files, dict):
        raise ProfileError(source, "Scalene profile has no 'files' object")
    def_lines, tables = _read_files(files, elapsed, source)
    meta = {"profiler": "scalene", "elapsed_time_sec": str(elapsed)}
    if isinstance(doc.get("program"), str):
        meta["program"] = doc["program"]
    stacks = doc.get("stacks")
    if isinstance(stacks, list) and stacks:
        builder = _from_stacks(stacks, def_lines, elapsed, source)
        if builder.stacks.stacks:
            meta["source"] = "stacks"
            return builder.build(FORMAT, "seconds", source, duration=float(elapsed), meta=meta)
    functions = _from_tables(tables)
    if not functions:
        raise ProfileError(source, "Scalene profile holds no CPU samples")
    meta["source"] = "functions"
    total = sum(stats.self_time for stats in functions.values())
    return Profile(FORMAT, "seconds", source, total, float(elapsed), functions, None, meta)


# Per file: (def line, qualname, seconds) per function, and (line, enclosing def, seconds).
_Tables = dict[str, tuple[list[tuple[int, str, float]], list[tuple[int, int, float]]]]


def _read_files(
    files: dict[str, Any], elapsed: float, source: str
) -> tuple[dict[tuple[str, str], int], _Tables]:
    """Validate `files` and convert percentages to seconds."""
    def_lines: dict[tuple[str, str], int] = {}
    tables: _Tables = {}
    for file, entry in files.items():
        where = f"files[{file!r}]"
        if not isinstance(entry, dict):
            raise ProfileError(source, f"{where} is not an object")
        functions, lines = entry.get("functions", []), entry.get("lines", [])
        if not isinstance(functions, list) or not isinstance(lines, list):
            raise ProfileError(source, f"{where}: 'functions' and 'lines' must be lists")
        rows = []
        for i, function in enumerate(functions):
            item = f"{where}.functions[{i}]"
            if not isinstance(function, dict):
                raise ProfileError(source, f"{item} is not an object")
            # Scalene 1.5+ puts the qualname in "line"; older versions in "fn_name".
            name = function.get("line", function.get("fn_name"))
            if not isinstance(name, str) or not name:
                raise ProfileError(source, f"{item} has no function name")
            def_line = _line(function.get("lineno", 0), source, f"{item}.lineno")
            # "lineno" is co_firstlineno: a decorated function's first decorator line.
            def_lines[(file, name)] = def_line
            rows.append((def_line, name, _seconds(function, elapsed, source, item)))
        line_rows = []
        for i, line in enumerate(lines):
            item = f"{where}.lines[{i}]"
            if not isinstance(line, dict):
                raise ProfileError(source, f"{item} is not an object")
            number = _line(line.get("lineno"), source, f"{item}.lineno")
            # start_function_line is the AST def line (after any decorators), 0 at module level;
            # -1 marks a Scalene version that does not say.
            start = line.get("start_function_line", -1)
            if start != -1:
                start = _line(start, source, f"{item}.start_function_line")
            seconds = _seconds(line, elapsed, source, item)
            if seconds > 0:
                line_rows.append((number, start, seconds))
        tables[file] = (rows, line_rows)
    return def_lines, tables


def _from_stacks(
    stacks: list[Any], def_lines: dict[tuple[str, str], int], elapsed: float, source: str
) -> StackBuilder:
    """Build weighted stacks from Scalene's `stacks`: frames root first, CPU share per stack."""
    weighted: list[tuple[tuple[int, ...], float]] = []
    builder = StackBuilder()
    frame_ids: dict[str, int] = {}
    for i, entry in enumerate(stacks):
        where = f"stacks[{i}]"
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], list):
            raise ProfileError(source, f"{where} is not a [frames, statistics] pair")
        frames, stats = entry
        # Scalene 2 gives a statistics object (cpu_samples: share of all CPU samples), 1.x a count.
        share = stats.get("cpu_samples") if isinstance(stats, dict) else stats
        if type(share) not in (int, float) or not math.isfinite(share) or share < 0:
            raise ProfileError(source, f"{where}: CPU share is not a non-negative number")
        stack = []
        for text in frames:
            index = frame_ids.get(text) if isinstance(text, str) else None
            if index is None:
                index = frame_ids[text] = _stack_frame(builder, text, def_lines, source, where)
            stack.append(index)
        weighted.append((tuple(stack), float(share)))
    total = math.fsum(share for _, share in weighted)
    if not math.isfinite(total):
        raise ProfileError(source, "Scalene stack shares overflow")
    if total > 0:
        for stack, share in weighted:
            builder.add(stack, elapsed * share / total)
    return builder


def _stack_frame(
    builder: StackBuilder, text: Any, def_lines: dict[tuple[str, str], int], source: str, where: str
) -> int:
    """Parse `<file> <qualname>:<line>;` into a builder frame."""
    found = _STACK_FRAME.fullmatch(text) if isinstance(text, str) else None
    if not found:
        raise ProfileError(source, f"{where}: malformed stack frame {str(text)[:80]!r}")
    file, qualname, line = found.groups()
    bare, qualified = split_qualname(qualname)
    def_line = def_lines.get((file, qualname), 0)
    return builder.frame(file, bare, int(line), def_line, qualified)


def _from_tables(tables: _Tables) -> dict[FunctionKey, FunctionStats]:
    """Per-function stats from the function and line tables (no call graph in them).

    Without stacks there is no inclusive time, so total_time is the self time.
    """
    result: dict[FunctionKey, FunctionStats] = {}
    for file, (rows, line_rows) in tables.items():
        owned: dict[int, dict[int, float]] = {}
        starts = sorted({def_line for def_line, _, _ in rows if def_line > 0})
        for number, start, seconds in line_rows:
            if start < 0:
                continue  # this Scalene version does not say which function a line is in
            # The owning function is the nearest co_firstlineno at or before the AST def line
            # (they differ by the decorators); 0 is module level.
            position = bisect.bisect_right(starts, start) if start > 0 else 0
            owner = starts[position - 1] if position else 0
            owned.setdefault(owner, {})[number] = seconds
        for def_line, name, seconds in rows:
            bare, qualified = split_qualname(name)
            key = FunctionKey(file, def_line, bare)
            line_times = owned.pop(def_line, {})
            # A function's own figure can disagree with the sum of its lines (seen with Scalene
            # 2.4 on a decorated loop); the lines agree with the stacks, so they win.
            self_time = math.fsum(line_times.values()) if line_times else seconds
            result[key] = FunctionStats(
                key, qualified, self_time, self_time, None, line_times, {}, {}
            )
        module_lines = owned.pop(0, None)
        if module_lines:
            key = FunctionKey(file, 0, "<module>")
            seconds = math.fsum(module_lines.values())
            result[key] = FunctionStats(key, None, seconds, seconds, None, module_lines, {}, {})
    return {key: stats for key, stats in result.items() if stats.self_time > 0}


def _seconds(entry: dict[str, Any], elapsed: float, source: str, where: str) -> float:
    """Sum a row's CPU percentages and convert them to seconds of the elapsed time."""
    percent = 0.0
    for key in _PERCENT_KEYS:
        value = entry.get(key, 0)
        if type(value) not in (int, float) or not math.isfinite(value) or not 0 <= value <= 1e4:
            raise ProfileError(source, f"{where}.{key} is not a percentage")
        percent += value
    return percent / 100.0 * elapsed


def _line(value: Any, source: str, where: str) -> int:
    """Validate a line number."""
    if type(value) is not int or not 0 <= value < MAX_LINE:
        raise ProfileError(source, f"{where} is not a line number")
    return value
