"""Where captures live: the user's cache folder, authenticated with a per-user key.

A capture holds pickles, and unpickling runs code: a file is only ever unpickled after its
HMAC (over the raw bytes, with a key that exists only in this user's config folder) verifies.
A capture that came with a repository, or was edited, has no valid MAC and is refused before
any byte of it is interpreted. Captures never live in the workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import struct
import tempfile
from dataclasses import asdict
from pathlib import Path

from perfpilot.tools.user_dirs import cache_home as cache_home
from perfpilot.tools.user_dirs import config_home as config_home
from perfpilot.tools.verify.model import FunctionCapture

MAGIC = b"PPCAPTURE1\n"
KEY_BYTES = 32
_MAC_BYTES = hashlib.sha256().digest_size


class CaptureError(Exception):
    """A capture cannot be used; the message says which file and why."""


def captures_dir(root: str | Path) -> Path:
    """The folder of one workspace's captures: keyed by a hash of its real path."""
    digest = hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:20]
    return cache_home() / "captures" / digest


def capture_key() -> bytes:
    """This user's capture key, created (0600, never overwritten) on first use."""
    path = config_home() / "capture.key"
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read_key(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.hex().encode())
    return key


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if info.st_mode & 0o077:
            raise CaptureError(f"{path}: the capture key is readable by others; chmod 600 it")
        if info.st_uid != os.getuid():
            raise CaptureError(f"{path}: the capture key belongs to another user")
        text = handle.read(4 * KEY_BYTES).decode("ascii", "replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise CaptureError(f"{path}: not a capture key; delete it to make a new one") from None
    if len(key) != KEY_BYTES:
        raise CaptureError(f"{path}: not a capture key; delete it to make a new one")
    return key


def capture_path(root: str | Path, path: str, qualname: str) -> Path:
    """The file holding the capture of `qualname` in `path`."""
    identity = f"{os.path.realpath(path)}::{qualname}".encode()
    return captures_dir(root) / f"{hashlib.sha256(identity).hexdigest()[:24]}.capture"


def encode(header: FunctionCapture, records: list[tuple[bytes, bytes]], key: bytes) -> bytes:
    """A capture file: magic, MAC, then a JSON header and the records' pickled bytes."""
    meta = json.dumps({"header": asdict(header), "sizes": [[len(i), len(o)] for i, o in records]})
    meta_bytes = meta.encode()
    body = struct.pack(">I", len(meta_bytes)) + meta_bytes + b"".join(i + o for i, o in records)
    return MAGIC + hmac.new(key, MAGIC + body, hashlib.sha256).digest() + body


def decode(
    data: bytes, key: bytes, where: str
) -> tuple[FunctionCapture, list[tuple[bytes, bytes]]]:
    """The header and the records' raw bytes; CaptureError unless the MAC verifies.

    Nothing is unpickled here: the records stay bytes, for the replay subprocess.
    """
    if not data.startswith(MAGIC):
        raise CaptureError(f"{where}: not a perfpilot capture; refused (never unpickled)")
    mac = data[len(MAGIC) : len(MAGIC) + _MAC_BYTES]
    body = data[len(MAGIC) + _MAC_BYTES :]
    expected = hmac.new(key, MAGIC + body, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise CaptureError(
            f"{where}: the capture was not made on this machine by this user, or it was changed;"
            " refused (never unpickled). Run `perfpilot capture` to record new inputs"
        )
    (length,) = struct.unpack(">I", body[:4])
    meta = json.loads(body[4 : 4 + length])
    header = meta["header"]
    header["sys_path"] = tuple(header["sys_path"])
    offset = 4 + length
    records = []
    for inputs, outcome in meta["sizes"]:
        records.append(
            (body[offset : offset + inputs], body[offset + inputs : offset + inputs + outcome])
        )
        offset += inputs + outcome
    return FunctionCapture(**header), records


def save(root: str | Path, header: FunctionCapture, records: list[tuple[bytes, bytes]]) -> Path:
    """Write one function's capture atomically (0600) in the workspace's cache folder."""
    target = capture_path(root, header.path, header.qualname)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = encode(header, records, capture_key())
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".capture-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return target


def load(
    root: str | Path, path: str, qualname: str, file: Path | None = None
) -> tuple[FunctionCapture, list[tuple[bytes, bytes]]] | None:
    """The verified capture of a function (None when there is none); CaptureError if forged."""
    source = file or capture_path(root, path, qualname)
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CaptureError(f"{source}: cannot read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    header, records = decode(data, capture_key(), str(source))
    if file is None and (
        os.path.realpath(header.path) != os.path.realpath(path) or header.qualname != qualname
    ):
        raise CaptureError(f"{source}: holds `{header.qualname}`, not `{qualname}`; refused")
    return header, records


def clear(root: str | Path) -> int:
    """Delete the workspace's captures; returns how many files were removed."""
    directory = captures_dir(root)
    if not directory.is_dir():
        return 0
    count = sum(1 for _ in directory.glob("*.capture"))
    shutil.rmtree(directory)
    return count
