"""Freed heap pages go back to the system after a load (glibc keeps them otherwise)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perfpilot.tools.free_memory import release_free_memory

# In a fresh interpreter: malloc'd blocks (bytes over pymalloc's 512-byte limit) freed, with
# one small survivor at the top of the heap so that the heap cannot simply shrink.
SCRIPT = """
import sys
from perfpilot.tools.free_memory import release_free_memory
def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) // 1024
blocks = [bytes(700) + i.to_bytes(4, "little") for i in range(60_000)]
survivor = bytes(700)
del blocks
freed = rss()
assert release_free_memory()
print(freed, rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_pages_are_returned() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    freed, trimmed = map(int, done.stdout.split())
    assert freed - trimmed >= 20, (freed, trimmed)  # of the ~42 MiB the blocks took


def test_it_can_be_called_again() -> None:
    assert release_free_memory() == release_free_memory()


# A thread frees 14 MiB that stays its arena's top chunk (glibc raised its trim threshold when
# the 8 MiB block went back), as the server's load thread left 7 MiB of a big profile resident.
THREAD_SCRIPT = """
import sys, threading
from perfpilot.tools.free_memory import release_free_memory, use_one_malloc_arena
def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) // 1024
if sys.argv[1] == "one":
    assert use_one_malloc_arena()
def work():
    data = bytes(8 << 20)
    del data
    blocks = [bytearray(20_000) for _ in range(700)]
    del blocks
thread = threading.Thread(target=work)
thread.start()
thread.join()
freed = rss()
assert release_free_memory()
print(freed, rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_threads_freed_memory_is_returned_with_one_arena() -> None:
    def kept(mode: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", THREAD_SCRIPT, mode], capture_output=True, text=True, check=True
        )
        return int(done.stdout.split()[1])  # MiB resident after the trim

    many, one = kept("many"), kept("one")
    assert many - one >= 8, (many, one)  # the thread's arena kept the 14 MiB it had freed
