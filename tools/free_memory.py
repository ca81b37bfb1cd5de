"""Give the memory a large load freed back to the system (glibc keeps it for reuse otherwise)."""

from __future__ import annotations

import sys

_trim: object = None  # libc's malloc_trim once looked up; False where there is none
_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def use_one_malloc_arena() -> bool:
    """Make every thread allocate from glibc's main arena; False where unsupported.

    Call it before starting threads. A thread's own arena keeps its freed top chunk resident
    (malloc_trim only shrinks the main arena's), and the server loads profiles and runs the
    skills on threads: 7 MiB of a 50,000-function load stayed resident for good. The GIL
    serialises allocation anyway, so one arena costs no parallelism.
    """
    mallopt = getattr(_libc(), "mallopt", None)  # absent from musl
    return bool(mallopt(_M_ARENA_MAX, 1)) if mallopt is not None else False


def _libc() -> object | None:
    """The C library's symbols (the process's own), on Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None)
    except OSError:
        return None


def release_free_memory() -> bool:
    """Return freed heap pages to the system (glibc's malloc_trim); False where unsupported.

    Loading a big profile allocates and frees tens of MiB of small blocks: without this the
    editor's server keeps that high-water mark as resident memory for its whole life.
    """
    global _trim
    if _trim is None:
        _trim = getattr(_libc(), "malloc_trim", False)  # absent from musl
    if _trim is False:
        return False
    _trim(0)  # type: ignore[operator]
    return True
