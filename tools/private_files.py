"""Private scratch files (diffs shown to the user): unpredictable names in a 0700 folder.

A shared, predictable path such as `$TMPDIR/perfpilot-diffs/<name>.diff` lets another local
user plant a symlink there and have perfpilot overwrite the link's target, or read what was
written. Here the folder is made by mkdtemp (mode 0700, owned by us, random name) once per
process, and each file by mkstemp inside it (O_CREAT | O_EXCL | O_NOFOLLOW, random name).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import stat
import tempfile
import threading

_lock = threading.Lock()
_folder: str | None = None
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def private_folder() -> str:
    """This process's private scratch folder (created on first use, removed at exit)."""
    global _folder
    with _lock:
        if _folder is None or not _is_private(_folder):
            _folder = tempfile.mkdtemp(prefix="perfpilot-")
            atexit.register(shutil.rmtree, _folder, ignore_errors=True)
        return _folder


def write_private(stem: str, suffix: str, text: str) -> str:
    """Write `text` to a new private file named like `<stem>-XXXXXXXX<suffix>`; its path."""
    readable = re.sub(r"\.{2,}", ".", _UNSAFE.sub("_", stem)).strip("._")
    prefix = (readable or "perfpilot")[:60] + "-"
    handle, path = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=private_folder(), text=True)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    return path


def _is_private(folder: str) -> bool:
    """Still our folder: a real directory (not a link), ours, closed to everyone else."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    owner = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISDIR(info.st_mode) and owner and stat.S_IMODE(info.st_mode) & 0o077 == 0
