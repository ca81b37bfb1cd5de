"""Production profiles: fetch a merged pprof for a time window from Pyroscope or Parca.

`fetch_profile(spec)` returns the pprof bytes (uncompressed); `load_remote(spec)` loads them
with the pprof loader; `save_fetched(spec, directory)` writes them under a name that records the
source and the window. Every failure is a RemoteError (a ProfileError) in one line. The HTTP
client loads on first use: settings validation only needs `is_remote_spec`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perfpilot.tools.profiles.remote.spec import RemoteSpec, is_remote_spec

if TYPE_CHECKING:
    from perfpilot.tools.profiles.remote.fetch import (
        fetch_profile,
        fetched_name,
        load_remote,
        parse_remote,
        save_fetched,
    )
    from perfpilot.tools.profiles.remote.transport import RemoteError

__all__ = [
    "RemoteError",
    "RemoteSpec",
    "fetch_profile",
    "fetched_name",
    "is_remote_spec",
    "load_remote",
    "parse_remote",
    "save_fetched",
]

_LAZY = {
    "RemoteError": "transport",
    "fetch_profile": "fetch",
    "fetched_name": "fetch",
    "load_remote": "fetch",
    "parse_remote": "fetch",
    "save_fetched": "fetch",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
