"""Verdicts kept between runs: `perfpilot verify` measures once, `check` and the editor reuse it.

A verdict can raise how a fix is offered (a skill held back by its corpus median is offered on
a function where its fix was verified faster), so a verdict file is authority, not data: it
lives in the user's cache folder, never in the workspace, and is read only when its HMAC
verifies with this user's capture key. A file that came from elsewhere or was edited is
ignored whole. Entries are keyed by hashes of the function's text and the fix, so a verdict
never outlives the code it measured.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from perfpilot.tools.user_dirs import verdicts_path as verdicts_path
from perfpilot.tools.verify.model import Difference, Speed, TestRun, Verdict, VerdictKind
from perfpilot.tools.verify.store import CaptureError, capture_key

MAGIC = "perfpilot-verdicts/1"
MAX_ENTRIES = 1024  # per workspace (two in-memory caches of 256 fit); the oldest go first
Entry = tuple[str, tuple[str, ...], Verdict]  # (which cache, key, verdict)


def save_verdicts(root: str | Path, entries: list[Entry]) -> Path:
    """Write the workspace's verdicts atomically (0600), MAC'd with the user's key."""
    target = verdicts_path(root)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps(
        {
            "magic": MAGIC,
            "entries": [
                [cache, list(key), _plain(verdict)]
                for cache, key, verdict in entries[-MAX_ENTRIES:]
            ],
        },
        sort_keys=True,
    )
    mac = hmac.new(capture_key(), body.encode(), hashlib.sha256).hexdigest()
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".verdicts-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(mac + "\n" + body)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def load_verdicts(root: str | Path) -> tuple[list[Entry], str]:
    """The workspace's saved verdicts, and why none were read ('' when fine or no file)."""
    path = verdicts_path(root)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, encoding="utf-8") as handle:
            mac, _, body = handle.read().partition("\n")
    except FileNotFoundError:
        return [], ""
    except (OSError, UnicodeDecodeError) as exc:
        return [], f"{path}: cannot read saved verdicts: {exc}"
    try:
        key = capture_key()
    except (CaptureError, OSError) as exc:
        return [], f"saved verdicts not read: {exc}"
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac.strip(), expected):
        return [], f"{path}: not written by perfpilot for this user, or changed; ignored"
    try:
        data = json.loads(body)
        if data.get("magic") != MAGIC:
            return [], f"{path}: saved by another perfpilot version; ignored"
        entries = []
        for cache, key_parts, verdict in data["entries"]:
            built = verdict_from_data(verdict)
            if built is not None:
                entries.append((str(cache), tuple(str(k) for k in key_parts), built))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return [], f"{path}: saved verdicts are damaged ({exc}); ignored"
    return entries, ""


def verdict_from_data(data: dict[str, Any]) -> Verdict | None:
    """A Verdict from its saved form; None when it does not fit this version's model."""
    try:
        fields = _known(Verdict, data)
        fields["kind"] = VerdictKind(data["kind"])
        for name, kind in (("speed", Speed), ("difference", Difference), ("tests", TestRun)):
            if data.get(name) is not None:
                fields[name] = kind(**_known(kind, data[name]))
        if "notes" in fields:
            fields["notes"] = tuple(fields["notes"])
        if fields.get("tests") is not None:
            tests = fields["tests"]
            fields["tests"] = dataclasses.replace(
                tests, covering=tuple(tests.covering), broken=tuple(tests.broken)
            )
        return Verdict(**fields)
    except (TypeError, ValueError, KeyError):
        return None


def _known(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(kind)}
    return {k: v for k, v in data.items() if k in names}


def _plain(value: object) -> Any:
    """JSON-ready form that keeps enum values (to_data would lower their names)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
