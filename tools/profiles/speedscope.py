"""Load speedscope JSON: py-spy's sampled profiles and pyinstrument's evented ones."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles._common import (
    MAX_LINE,
    MAX_STACK_ELEMENTS,
    SYNTHETIC_FRAMES,
    parse_json,
    split_qualname,
)
from perfpilot.tools.profiles.stacks import StackBuilder

FORMAT = "speedscope"

_SCHEMA_URL = b"https://www.speedscope.app/file-format-schema.json"
_SNIFF_BYTES = 4096
_TIME_UNITS = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6, "nanoseconds": 1e-9}

# The sampled fast path: a compact `"samples":[[1,2],[3]]` array is cut out of the JSON, split
# as bytes a chunk at a time and deduped before any Python list is built (json.loads of 1M
# samples needs ~1 GB and ~6 s). Anything unusual (whitespace, bad bytes) takes the json path.
_SAMPLES_KEY = re.compile(rb'"samples"\s*:\s*\[')
_SAMPLE_TEXT = re.compile(rb"(?:[0-9]{1,9}(?:,[0-9]{1,9})*)?")
_PLACEHOLDER_KEY = "\x00perfpilot-samples"
_CHUNK_BYTES = 1 << 22


class _Unusual(Exception):
    """The fast path met something it does not handle; the json path decides."""


def sniff(data: bytes) -> bool:
    """Accept JSON that names the speedscope schema or has its top-level keys."""
    head = data[:_SNIFF_BYTES]
    if head.lstrip()[:1] != b"{":
        return False
    return _SCHEMA_URL in head or (b'"shared"' in head and b'"profiles"' in head)


def load(data: bytes, source: str) -> Profile:
    """Load a speedscope file; all its profiles (threads) are summed."""
    return load_speedscope(data, source)


def load_speedscope(data: bytes, source: str, fast: bool = True) -> Profile:
    """Load speedscope JSON; `fast=False` skips the byte-level samples path (for tests)."""
    cut = _cut_samples(data) if fast else None
    if cut is None:
        doc, spans = parse_json(data, source, FORMAT), []
    else:
        doc, spans = parse_json(cut[0], source, FORMAT), cut[1]
        try:
            return _load_doc(doc, data, spans, source)
        except _Unusual:
            doc, spans = parse_json(data, source, FORMAT), []
    return _load_doc(doc, data, spans, source)


def _load_doc(doc: Any, data: bytes, spans: list[tuple[int, int]], source: str) -> Profile:
    """Turn the parsed document into a Profile; `spans` locate cut-out samples in `data`."""
    if not isinstance(doc, dict):
        raise ProfileError(source, "speedscope file is not a JSON object")
    profiles = doc.get("profiles")
    if not isinstance(profiles, list) or not profiles:
        raise ProfileError(source, "speedscope file has no 'profiles' list")
    exporter = doc.get("exporter")
    exporter = exporter if isinstance(exporter, str) else ""
    flavour = exporter.partition("@")[0] if exporter.startswith(("py-spy", "pyinstrument")) else ""
    raw_frames = _shared_frames(doc, source)
    builder = StackBuilder()
    kinds: set[str] = set()
    duration = 0.0
    sample_count: int | None = 0
    sampled_weight = 0.0
    frame_maps: dict[bool, list[int]] = {}
    for number, profile in enumerate(profiles):
        where = f"profiles[{number}]"
        if not isinstance(profile, dict):
            raise ProfileError(source, f"{where} is not an object")
        kind = profile.get("type")
        unit = profile.get("unit")
        if unit == "bytes":
            raise ProfileError(source, "memory profile, perfpilot needs a CPU/wall profile")
        if unit not in _TIME_UNITS and unit != "none":
            raise ProfileError(source, f"{where} has unknown unit {unit!r}")
        kinds.add("samples" if unit == "none" else "seconds")
        if len(kinds) > 1:
            raise ProfileError(source, "profiles mix time units with sample counts")
        factor = _TIME_UNITS.get(unit, 1.0)
        if kind not in ("sampled", "evented"):
            raise ProfileError(source, f"{where} has unknown type {kind!r}")
        # py-spy writes the executing line, pyinstrument (and evented profiles generally, which
        # open and close whole calls) the def line.
        def_lines = flavour == "pyinstrument" or (kind == "evented" and flavour != "py-spy")
        index_map = frame_maps.get(def_lines)
        if index_map is None:
            split = flavour != "pyinstrument"
            index_map = frame_maps[def_lines] = _frame_map(raw_frames, builder, def_lines, split)
        if kind == "sampled":
            weighted = _sampled(profile, data, spans, len(raw_frames), source, where)
            if sample_count is not None:
                sample_count += len(profile["weights"])  # one weight per sample
                sampled_weight += sum(profile["weights"]) * factor
        else:
            weighted = _evented(profile, len(raw_frames), source, where)
            sample_count = None  # an evented profile records calls, not samples
        for stack, weight in weighted.items():
            mapped = tuple(i for i in map(index_map.__getitem__, stack) if i >= 0)
            builder.add(mapped, weight * factor)
        span = _number(profile.get("endValue", 0), source, f"{where}.endValue") - _number(
            profile.get("startValue", 0), source, f"{where}.startValue"
        )
        duration = max(duration, span * factor)
    if not builder.stacks.stacks:
        raise ProfileError(source, "speedscope file holds no samples")
    unit = kinds.pop()
    meta = {"exporter": exporter, "flavour": flavour or "other", "profiles": str(len(profiles))}
    if isinstance(doc.get("name"), str):
        meta["name"] = doc["name"]
    result = builder.build(
        FORMAT, unit, source, duration=duration if unit == "seconds" else None, meta=meta
    )
    if not math.isfinite(result.total):
        raise ProfileError(source, "sample weights overflow")
    if sample_count is not None and sampled_weight > 0:
        # Samples with no Python frame (py-spy's idle or native-only stacks) are not in the
        # total that shares are taken of; count only the others.
        result.samples = round(sample_count * min(1.0, result.total / sampled_weight))
    return result


def _shared_frames(doc: dict[str, Any], source: str) -> list[tuple[str, str, int]]:
    """Validate `shared.frames` into (name, file, line) triples."""
    shared = doc.get("shared")
    frames = shared.get("frames") if isinstance(shared, dict) else None
    if not isinstance(frames, list):
        raise ProfileError(source, "speedscope file has no 'shared.frames' list")
    result = []
    for i, frame in enumerate(frames):
        if not isinstance(frame, dict) or not isinstance(frame.get("name"), str):
            raise ProfileError(source, f"shared.frames[{i}] is not a frame with a name")
        file = frame.get("file")
        line = frame.get("line")
        if file is not None and not isinstance(file, str):
            raise ProfileError(source, f"shared.frames[{i}].file is not a string")
        if line is None:
            line = 0
        elif type(line) is not int or not 0 <= line < MAX_LINE:
            raise ProfileError(source, f"shared.frames[{i}].line is not a line number")
        result.append((frame["name"], file or "", line))
    return result


def _frame_map(
    raw_frames: list[tuple[str, str, int]], builder: StackBuilder, def_lines: bool, split: bool
) -> list[int]:
    """Map speedscope frame indexes to builder frame indexes; -1 drops a synthetic frame."""
    result = []
    for name, file, line in raw_frames:
        if name in SYNTHETIC_FRAMES and not file:
            result.append(-1)
            continue
        bare, qualname = split_qualname(name) if split else (name, None)
        if def_lines:
            result.append(builder.frame(file, bare, 0, line, qualname))
        else:
            result.append(builder.frame(file, bare, line, 0, qualname))
    return result


def _sampled(
    profile: dict[str, Any],
    data: bytes,
    spans: list[tuple[int, int]],
    n_frames: int,
    source: str,
    where: str,
) -> dict[tuple[int, ...], float]:
    """Return the weight of each unique stack of a sampled profile."""
    samples = profile.get("samples")
    weights = profile.get("weights")
    if not isinstance(weights, list):
        raise ProfileError(source, f"{where}.weights is not a list")
    _check_weights(weights, source, f"{where}.weights")
    if isinstance(samples, dict) and set(samples) == {_PLACEHOLDER_KEY}:
        table = samples[_PLACEHOLDER_KEY]
        if type(table) is not int or not 0 <= table < len(spans):
            raise ProfileError(source, f"{where}.samples is not a list")
        by_text = _weigh(data, *spans[table], weights, source, where)
        result: dict[tuple[int, ...], float] = {}
        for text, weight in by_text.items():
            if not _SAMPLE_TEXT.fullmatch(text):
                raise _Unusual
            stack = tuple(map(int, text.split(b","))) if text else ()
            result[stack] = result.get(stack, 0.0) + weight
    else:
        if not isinstance(samples, list):
            raise ProfileError(source, f"{where}.samples is not a list")
        if len(samples) != len(weights):
            raise ProfileError(
                source, f"{where} has {len(samples)} samples, {len(weights)} weights"
            )
        result = {}
        for i, sample in enumerate(samples):
            if type(sample) is not list:
                raise ProfileError(source, f"{where}.samples[{i}] is not a list")
            try:
                key = tuple(sample)
                result[key] = result.get(key, 0.0) + weights[i]
            except TypeError:
                raise ProfileError(source, f"{where}.samples[{i}] holds a non-index") from None
    for stack in result:
        for index in stack:
            if type(index) is not int or not 0 <= index < n_frames:
                raise ProfileError(source, f"{where}.samples: frame index {index!r} out of range")
    return result


def _weigh(
    data: bytes, start: int, end: int, weights: list[Any], source: str, where: str
) -> dict[bytes, float]:
    """Sum weights per distinct sample text of `data[start:end]` (`[[..],..,[..]]`)."""
    result: dict[bytes, float] = {}
    if end - start == 2:  # "[]"
        count = 0
    else:
        equal = bool(weights) and min(weights) == max(weights)
        counts: Counter[bytes] = Counter()
        get = result.get
        count = 0
        for texts in _chunks(data, start + 2, end - 2):
            if equal:
                counts.update(texts)  # C speed: the common case, py-spy's weights are all equal
            else:
                for text, weight in zip(texts, weights[count : count + len(texts)]):
                    result[text] = get(text, 0.0) + weight
            count += len(texts)
        if equal:
            result = {text: n * float(weights[0]) for text, n in counts.items()}
    if count != len(weights):
        raise ProfileError(source, f"{where} has {count} samples but {len(weights)} weights")
    return result


def _chunks(data: bytes, start: int, end: int) -> Iterator[list[bytes]]:
    """Split `data[start:end]` at `],[` a few MB at a time, to bound the memory of the parts."""
    pos = start
    while pos <= end:
        stop = end
        if end - pos > _CHUNK_BYTES:
            found = data.find(b"],[", pos + _CHUNK_BYTES, end)
            stop = end if found < 0 else found
        yield data[pos:stop].split(b"],[")
        pos = stop + 3


def _evented(
    profile: dict[str, Any], n_frames: int, source: str, where: str
) -> dict[tuple[int, ...], float]:
    """Replay open/close events; time between events goes to the open stack."""
    events = profile.get("events")
    if not isinstance(events, list):
        raise ProfileError(source, f"{where}.events is not a list")
    # A trie of open stacks keeps each event O(1): node -> (parent, frame, depth).
    parents, frames, depths = [-1], [-1], [0]
    children: dict[tuple[int, int], int] = {}
    weights = [0.0]
    node = 0
    last = None
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise ProfileError(source, f"{where}.events[{i}] is not an object")
        at = _number(event.get("at"), source, f"{where}.events[{i}].at")
        frame = event.get("frame")
        if type(frame) is not int or not 0 <= frame < n_frames:
            raise ProfileError(source, f"{where}.events[{i}].frame {frame!r} out of range")
        if last is not None:
            if at < last:
                raise ProfileError(source, f"{where}.events[{i}] goes back in time")
            if node:
                weights[node] += at - last
        last = at
        kind = event.get("type")
        if kind == "O":
            child = children.get((node, frame))
            if child is None:
                child = children[(node, frame)] = len(parents)
                parents.append(node)
                frames.append(frame)
                depths.append(depths[node] + 1)
                weights.append(0.0)
            node = child
        elif kind == "C":
            if node == 0 or frames[node] != frame:
                raise ProfileError(source, f"{where}.events[{i}] closes a frame that is not open")
            node = parents[node]
        else:
            raise ProfileError(source, f"{where}.events[{i}] has unknown type {kind!r}")
    if node:
        raise ProfileError(source, f"{where}: {depths[node]} frames still open at the end")
    if sum(depths[n] for n, w in enumerate(weights) if w > 0) > MAX_STACK_ELEMENTS:
        raise ProfileError(source, f"{where}: call tree too deep to expand")
    result: dict[tuple[int, ...], float] = {}
    for n, weight in enumerate(weights):
        if weight > 0:
            path = []
            while n:
                path.append(frames[n])
                n = parents[n]
            result[tuple(reversed(path))] = weight
    return result


def _cut_samples(data: bytes) -> tuple[bytes, list[tuple[int, int]]] | None:
    """Replace each compact samples array by a placeholder; None when anything looks unusual."""
    pieces: list[bytes] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _SAMPLES_KEY.finditer(data):
        start = match.end() - 1
        if start < pos:
            return None
        # The array holds only digits, commas and brackets, so it ends before the next quote
        # or brace; bytes that do not belong in it fail the per-stack check later.
        end = data.find(b'"', start)
        if end < 0:
            return None
        brace = data.find(b"}", start, end)  # bounded by the quote: linear over all matches
        end = brace if brace >= 0 else end
        while end > start and data[end - 1] in b" \t\r\n,":
            end -= 1
        if data[start:end] != b"[]" and not (
            data.startswith(b"[[", start) and data[end - 2 : end] == b"]]" and end - start > 3
        ):
            return None
        pieces.append(data[pos:start])
        pieces.append(b'{"\\u0000perfpilot-samples":%d}' % len(spans))
        spans.append((start, end))
        pos = end
    if not spans:
        return None
    pieces.append(data[pos:])
    return b"".join(pieces), spans


def _check_weights(weights: list[Any], source: str, where: str) -> None:
    """Weights must be finite non-negative numbers; checked at C speed for big profiles."""
    if not weights:
        return
    if not set(map(type, weights)) <= {int, float}:
        raise ProfileError(source, f"{where} holds a non-number")
    if min(weights) < 0:
        raise ProfileError(source, f"{where} holds a negative weight")
    if not math.isfinite(math.fsum(weights)):
        raise ProfileError(source, f"{where} holds an infinite or overflowing weight")


def _number(value: Any, source: str, where: str) -> float:
    """Return a finite JSON number or raise."""
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ProfileError(source, f"{where} is not a finite number")
    return float(value)
