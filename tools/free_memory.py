"""Give the memory a large load freed back to the system (glibc keeps it for reuse otherwise)."""

from __future__ import annotations

import sys

_trim: object = None  # libc's malloc_trim once looked up; False where there is none


def release_free_memory() -> bool:
    """Return freed heap pages to the system (glibc's malloc_trim); False where unsupported.

    Loading a big profile allocates and frees tens of MiB of small blocks: without this the
    editor's server keeps that high-water mark as resident memory for its whole life.
    """
    global _trim
    if _trim is None:
        _trim = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                _trim = ctypes.CDLL(None).malloc_trim  # absent from musl: AttributeError
            except (OSError, AttributeError):
                _trim = False
    if _trim is False:
        return False
    _trim(0)  # type: ignore[operator]
    return True
