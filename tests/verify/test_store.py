"""Captures are authenticated: a foreign, tampered or hostile file is refused, never unpickled."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

from perfpilot.tools.verify import store
from perfpilot.tools.verify.model import FunctionCapture, VerdictKind
from perfpilot.tools.verify.verify_fix import verify_change
from tests.verify.conftest import FUNCS, FUNCS_TEXT


class Hostile:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (os.system, (f"touch {self.marker}",))


def header(path: Path, qualname: str) -> FunctionCapture:
    return FunctionCapture(
        path=str(path),
        qualname=qualname,
        module="plant.funcs",
        sys_path=(str(path.parent),),
        python="python3",
        cwd=str(path.parent),
        source_hash="",
        calls_seen=1,
        recorded=1,
        skipped_unpicklable=0,
        skipped_too_large=0,
        created=0.0,
    )


def test_a_hostile_pickle_from_a_repository_is_refused_and_never_loaded(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    (root / "plant").mkdir(parents=True)
    (root / FUNCS).write_text(FUNCS_TEXT)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Hostile(marker))
    # A capture made with someone else's key (as a repository would ship it) ...
    forged = store.encode(header(root / FUNCS, "total"), [(payload, payload)], b"k" * 32)
    target = store.capture_path(root, str(root / FUNCS), "total")
    target.parent.mkdir(parents=True)
    target.write_bytes(forged)
    with pytest.raises(store.CaptureError, match="never unpickled"):
        store.load(root, str(root / FUNCS), "total")
    verdict = verify_change(root, str(root / FUNCS), "total", FUNCS_TEXT, FUNCS_TEXT + "\n")
    assert verdict.kind is VerdictKind.UNVERIFIED and "refused" in verdict.summary
    # ... and a bare pickle dropped where a capture goes.
    target.write_bytes(payload)
    with pytest.raises(store.CaptureError, match="not a perfpilot capture"):
        store.load(root, str(root / FUNCS), "total")
    assert not marker.exists()


def test_a_changed_byte_breaks_the_mac(plant: Path) -> None:
    target = store.capture_path(plant, str(plant / FUNCS), "total")
    data = bytearray(target.read_bytes())
    data[-5] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(store.CaptureError, match="changed"):
        store.load(plant, str(plant / FUNCS), "total")


def test_captures_live_outside_the_workspace_and_the_key_is_private(plant: Path) -> None:
    target = store.capture_path(plant, str(plant / FUNCS), "total")
    assert target.is_file() and plant not in target.parents
    assert str(target).startswith(os.environ["XDG_CACHE_HOME"])
    key = store.config_home() / "capture.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.stat().st_mode) & 0o077 == 0
    loaded = store.load(plant, str(plant / FUNCS), "total")
    assert loaded is not None and loaded[0].recorded == len(loaded[1]) > 0


def test_a_key_readable_by_others_is_refused(plant: Path) -> None:
    key = store.config_home() / "capture.key"
    key.chmod(0o644)
    with pytest.raises(store.CaptureError, match="chmod 600"):
        store.load(plant, str(plant / FUNCS), "total")


def test_clear_removes_the_workspace_captures(plant: Path) -> None:
    assert store.clear(plant) == 7
    assert store.load(plant, str(plant / FUNCS), "total") is None
    assert store.clear(plant) == 0
