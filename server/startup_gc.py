"""Fewer garbage collections while a command starts and runs briefly.

CPython collects its youngest generation every 700 net allocations and, now and then, scans
everything alive. Starting up allocates hundreds of thousands of long-lived objects (libcst's
and lsprotocol's classes, a profile's tables, parsed functions) and frees few in cycles.
Measured with gc.callbacks on this machine: `perfpilot check` on the bundled example spent
27 ms of CPU in 150 collections (one full one, 14 ms) that freed nearly nothing; the language
server spent 60 ms in collections before answering `initialize` (a full one, 29 ms, with
lsprotocol loaded), which the bare pygls server, allocating less, never reaches.

- A command (`check`, `profile`...) collects its youngest generation every 100,000 allocations
  instead: cyclic garbage stays bounded by what that many allocations leave, peak memory did
  not move (38 MiB on the example either way), and a short run collects not at all.
- A command that is done freezes what is left (`gc.freeze`) before the interpreter exits: its
  finalization otherwise runs full collections over everything, ~60-100 ms of CPU after a
  `check` (median of 9 runs on the example: 460 ms of CPU in all, 361 frozen). Nothing is
  lost: files are written and closed by then, stdout and stderr are flushed by the exit.
- The language server (`serve`, and `mcp`) keeps the interpreter's collection. A full
  collection (29-40 ms with lsprotocol loaded) fires during its start-up imports, before it
  answers `initialize`; every policy measured that avoided it raised peak memory with a
  50,000-function profile by 7-8 MiB (import-time garbage freed later leaves fragmented
  arenas): no collection from before the pygls import (even with one full collection before
  the load), a 100,000-allocation threshold there, collection off until `initialized`, or
  freezing start-up's objects; pausing only while the feature table is built gained nothing
  measurable. Deferring the imports that answering `initialize` does not need is the fix.
"""

from __future__ import annotations

import gc

COMMAND_THRESHOLD = (100_000, 10, 10)


def collect_less() -> None:
    """Raise the collection thresholds for a command's run."""
    gc.set_threshold(*COMMAND_THRESHOLD)


def exiting() -> None:
    """The command is done: leave what it made to the exit, not to collections at exit."""
    gc.freeze()
