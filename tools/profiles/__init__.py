"""Load any supported profile file into the normalized model; the format is sniffed from content."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module

from perfpilot.tools.model import Profile, ProfileError

# A profile larger than this is refused before it is read: a defence against a file that would
# exhaust memory, not a limit anybody should meet (a 1M-sample speedscope file is ~60 MB).
MAX_PROFILE_BYTES = 1 << 30
# A cProfile file longer than this is decoded as it is read, never whole in memory (see
# pstats_loader.load_stream); its first bytes are enough to tell the format.
STREAM_AFTER = 256 << 10


@dataclass(frozen=True, slots=True)
class ProfileFormat:
    """A loader: `sniff` looks at the content, `load` turns it into a Profile or raises."""

    name: str
    sniff: Callable[[bytes], bool]
    load: Callable[[bytes, str], Profile]


# Ordered: the first sniffer that accepts the content wins; cheap and specific ones first.
_LOADER_MODULES = (
    "pstats_loader",
    "pprof",
    "speedscope",
    "pyinstrument",
    "scalene",
    "austin",
    "collapsed",
)


def formats() -> Iterator[ProfileFormat]:
    """Yield every known profile format, in sniffing order, importing each loader on demand."""
    # Lazy: loading a cProfile file should not pay for importing protobuf.
    for module_name in _LOADER_MODULES:
        module = import_module(f"{__name__}.{module_name}")
        yield ProfileFormat(module.FORMAT, module.sniff, module.load)


def detect_format(data: bytes) -> ProfileFormat | None:
    """Return the format whose sniffer accepts `data`, or None."""
    return next((fmt for fmt in formats() if fmt.sniff(data)), None)


def load_bytes(data: bytes, source: str) -> Profile:
    """Load a profile from its bytes; `source` names it in errors and in the result."""
    if not data.strip():
        raise ProfileError(source, "the file is empty")
    fmt = detect_format(data)
    if fmt is None:
        raise ProfileError(source, "not a profile perfpilot can read (unrecognised content)")
    return _guarded(fmt.name, source, lambda: fmt.load(data, source))


def _guarded(name: str, source: str, load: Callable[[], Profile]) -> Profile:
    """Run a loader of format `name`: whatever bad input makes it raise is a ProfileError."""
    try:
        return load()
    except ProfileError:
        raise
    except RecursionError:
        raise ProfileError(source, f"{name} profile is nested too deeply") from None
    except MemoryError:
        raise ProfileError(source, f"{name} profile is too large to load") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        # Loaders validate as they go; anything that slips through is still a bad input,
        # never a crash.
        raise ProfileError(source, f"corrupt {name} profile ({exc})") from None


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read and load one profile file."""
    source = os.fspath(path)
    try:
        size = os.path.getsize(source)
        if size > MAX_PROFILE_BYTES:
            raise ProfileError(source, f"file is {size} bytes, over the {MAX_PROFILE_BYTES} limit")
        with open(source, "rb") as handle:
            # Sized to the file (plus one byte, to notice growth): a read of the limit itself
            # reserves that much address space for a moment.
            limit = min(size, MAX_PROFILE_BYTES) + 1
            data = handle.read(min(limit, STREAM_AFTER))
            if len(data) == STREAM_AFTER < limit:
                from perfpilot.tools.profiles import pstats_loader

                # The first sniffer: accepting the start of the file, it accepts all of it.
                if pstats_loader.sniff(data):
                    return _guarded(
                        pstats_loader.FORMAT,
                        source,
                        lambda: pstats_loader.load_stream(data, handle, source, limit),
                    )
            data += handle.read(limit - len(data))
    except FileNotFoundError:
        raise ProfileError(source, "no such file") from None
    except IsADirectoryError:
        raise ProfileError(source, "is a directory, not a profile") from None
    except OSError as exc:
        raise ProfileError(source, f"cannot read ({exc.strerror or exc})") from None
    return load_bytes(data, source)


def load_source(source: str | os.PathLike[str]) -> Profile:
    """Load a profile file, or fetch a remote source spec (`pyroscope+https://...`)."""
    from perfpilot.tools.profiles import remote  # the HTTP client loads only when asked

    text = os.fspath(source)
    if remote.is_remote_spec(text):
        return remote.load_remote(text)
    return load_profile(text)
