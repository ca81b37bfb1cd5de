"""Load cProfile and profile stats files (a marshal'd dict) without trusting marshal with them.

The file is `{(file, firstlineno, name): (cc, nc, tt, ct, {caller: edge})}`, `edge` a 4-tuple
ending with the inclusive time (cProfile) or a call count (the `profile` module). The bytes are
decoded by pstats_decoder (the strict marshal-subset reader of `_safe_marshal` with fast paths
for cProfile's layouts); this module sniffs, streams a long file, and has code objects named
in a sandbox.
"""

from __future__ import annotations

import gc
from typing import BinaryIO

from perfpilot.tools.model import Profile, ProfileError
from perfpilot.tools.profiles._safe_marshal import (
    DICT,
    FLAG_REF,
    NULL,
    REF,
    SMALL_TUPLE,
    STRINGS,
    TUPLE,
    CodeObjectError,
    sandboxed_marshal,
)
from perfpilot.tools.profiles.pstats_decoder import FORMAT as FORMAT  # the loader registry reads it
from perfpilot.tools.profiles.pstats_decoder import StatsDecoder


def sniff(data: bytes) -> bool:
    """Accept a marshal'd dict whose first key is a small tuple starting with a string."""
    # JSON and text also start with '{', but never go on with a tuple header (')' or '(' and a
    # count) and a string type code. Any arity sniffs, for load() to say what is wrong with it.
    if len(data) < 2 or data[0] not in (DICT, DICT | FLAG_REF):
        return False
    if data[1] == NULL:
        return len(data) == 2
    if data[1] & 0x7F == SMALL_TUPLE:
        count, item = data[2:3], data[3:4]
    elif data[1] & 0x7F == TUPLE and data[3:6] == b"\x00\x00\x00":
        count, item = data[2:3], data[6:7]
    else:
        return False
    return bool(count and item) and 1 <= count[0] <= 8 and item[0] & 0x7F in (*STRINGS, REF)


def load(data: bytes, source: str) -> Profile:
    """Load a cProfile/profile stats file; times are in seconds."""
    # A 50k-function file makes ~500k small objects; the cyclic GC would scan them again and
    # again (a third of the time) although none of them can be part of a cycle.
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            return StatsDecoder(data, source).profile()
        except CodeObjectError as first:
            cleaned = sandboxed_marshal(data, source, _NAME_CODE_OBJECTS, _WHY_MARSHAL)
            try:
                return StatsDecoder(cleaned, source).profile()
            except CodeObjectError:
                raise first from None
            except ProfileError as exc:
                raise ProfileError(
                    source, f"{exc.message} (once code objects were named)"
                ) from None
    finally:
        if enabled:
            gc.enable()


def load_stream(head: bytes, handle: BinaryIO, source: str, limit: int) -> Profile:
    """`load` of a stats file read from `handle` (`head`: its first bytes, read already), at
    most `limit` bytes in all, holding a window of it at a time rather than all of it.

    The whole file's bytes (8 MiB for a 50,000-function profile) were the load's high-water
    mark in the language server. Errors are `load`'s, at the same byte offsets.
    """
    left = limit - len(head)

    def more(count: int) -> bytes:
        nonlocal left
        chunk = handle.read(max(0, min(count, left)))
        left -= len(chunk)
        return chunk

    enabled = gc.isenabled()
    gc.disable()  # see load
    try:
        return StatsDecoder(head, source, more).profile()
    except CodeObjectError:
        pass  # only marshal reads code objects, and it needs all the bytes: see load
    finally:
        if enabled:
            gc.enable()
    handle.seek(0)
    return load(handle.read(limit), source)


# `python -m profile` keys the run of the script by the script's code object (profile.py's
# simulate_call(cmd)), so a real file can hold code objects, nested ones included. Only marshal
# builds them, in a sandbox (see `sandboxed_marshal`); this names every code object in a key by a
# string and sends back the same dict, for the strict decoder to read as any other file.
_NAME_CODE_OBJECTS = """
Code = type(compile("", "", "exec"))
def name(item):
    if type(item) is not Code:
        return item
    return f'<code object {item.co_name}, file "{item.co_filename}", line {item.co_firstlineno}>'
def key(item):
    return tuple(map(name, item)) if type(item) is tuple else item
def transform(stats):
    out = {}
    for k, v in stats.items() if type(stats) is dict else ():
        if type(v) is tuple and len(v) == 5 and type(v[4]) is dict:
            v = v[:4] + ({key(c): e for c, e in v[4].items()},)
        out[key(k)] = v
    return out
"""
_WHY_MARSHAL = "it holds code objects (python -m profile writes one), which only marshal reads"
