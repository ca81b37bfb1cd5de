"""Load folded ("collapsed") stacks: py-spy `-f raw` and Brendan Gregg style `a;b;c 12` lines."""

from __future__ import annotations

import math
import re

from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles._common import decode_text, parse_count, split_qualname
from perfpilot.tools.profiles.stacks import StackBuilder

FORMAT = "collapsed"

_SNIFF_BYTES = 16384
# py-spy `--threads` / `--subprocesses` put these pseudo frames at the root of each stack;
# they are not functions, so they are dropped.
_PSEUDO_ROOT = re.compile(r'thread \((?:0x[0-9A-Fa-f]+|\d+)\)(?:: .*)?|process \d+:".*"')
_COUNT = re.compile(rb"[0-9][0-9.eE+]*")
_LINE_NUMBER = re.compile(r"[0-9]{1,9}")


def sniff(data: bytes) -> bool:
    """Accept text whose complete lines in the prefix all look like `stack count`."""
    head = data[:_SNIFF_BYTES]
    if b"\0" in head or head.lstrip()[:1] in (b"{", b"["):
        return False
    try:
        text_check = head[: len(head) - 3] if len(data) > len(head) else head
        text_check.decode("utf-8")
    except UnicodeDecodeError:
        return False
    lines = head.split(b"\n")
    if len(data) > len(head):
        lines.pop()  # the last line may be cut off by the prefix
    seen = False
    for line in lines:
        if not line.strip() or line.startswith(b"#"):
            continue
        # py-spy writes samples that have no Python frame as " 4".
        _, _, count = line.rstrip().rpartition(b" ")
        if not _COUNT.fullmatch(count):
            return False
        seen = True
    return seen or (len(lines) == 0 and b";" in head)


def load(data: bytes, source: str) -> Profile:
    """Load folded stacks; each line is `frame;frame;... count`, root first."""
    text = decode_text(data, source, FORMAT)
    builder = StackBuilder()
    frame_ids: dict[str, int] = {}
    empty = 0
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        stack_text, _, count_text = line.rpartition(" ")
        count = parse_count(count_text, source, f"line {number}")
        stack = []
        for part in stack_text.split(";") if stack_text else ():
            index = frame_ids.get(part)
            if index is None:
                if not part.strip():
                    raise ProfileError(source, f"line {number}: empty frame in the stack")
                index = frame_ids[part] = _frame(builder, part)
            if index >= 0:
                stack.append(index)
        if not stack:
            empty += count
            continue
        builder.add(tuple(stack), count)
    if not builder.stacks.stacks:
        raise ProfileError(source, "collapsed stacks hold no samples")
    meta = {"empty_samples": str(int(empty))} if empty else {}
    profile = builder.build(FORMAT, "samples", source, meta=meta)
    if not math.isfinite(profile.total):
        raise ProfileError(source, "sample counts overflow")
    return profile


def _frame(builder: StackBuilder, text: str) -> int:
    """Return the builder index of one frame's text; -1 for py-spy's thread/process frames."""
    if _PSEUDO_ROOT.fullmatch(text):
        return -1
    # `name (file:line)` as py-spy writes it: names hold no " (", paths may; the line is
    # optional (native frames carry only a library name).
    opening = text.find(" (")
    if opening > 0 and text.endswith(")"):
        name, location = text[:opening], text[opening + 2 : -1]
        file, _, line = location.rpartition(":")
        if not file or not _LINE_NUMBER.fullmatch(line):
            file, line = location, "0"
        bare, qualname = split_qualname(name)
        return builder.frame(file, bare, int(line), 0, qualname)
    bare, qualname = split_qualname(text)
    return builder.frame("", bare, 0, 0, qualname)
