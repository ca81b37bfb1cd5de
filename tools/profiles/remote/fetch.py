"""Fetch a source spec's merged pprof, check it holds samples, load it or save it."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tempfile
import zlib
from collections.abc import Mapping
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from perfpilot.tools.model import Profile
from perfpilot.tools.profiles.remote import parca, pyroscope
from perfpilot.tools.profiles.remote import protowire as wire
from perfpilot.tools.profiles.remote.credentials import resolve_credentials
from perfpilot.tools.profiles.remote.spec import (
    RemoteSpec,
    SpecError,
    format_time,
    parse_source_spec,
)
from perfpilot.tools.profiles.remote.transport import MAX_BODY_BYTES, RemoteError

_FETCHERS = {"pyroscope": pyroscope.fetch, "parca": parca.fetch}
_SLUG = re.compile(r"[^A-Za-z0-9]+")


def parse_remote(text: str, now: datetime | None = None) -> RemoteSpec:
    """Parse a source spec; a malformed one is a RemoteError naming what is wrong."""
    try:
        return parse_source_spec(text, now)
    except SpecError as error:
        raise RemoteError(_source(text), str(error)) from None


def fetch_profile(spec: RemoteSpec | str, environ: Mapping[str, str] | None = None) -> bytes:
    """Ask the spec's server for the merged profile; the serialized pprof, uncompressed."""
    if isinstance(spec, str):
        spec = parse_remote(spec)
    try:
        credentials = resolve_credentials(spec, environ)
    except SpecError as error:
        raise RemoteError(spec.text, str(error)) from None
    data = _FETCHERS[spec.backend](spec, credentials, _user_agent())
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, spec)
    try:
        has_samples = wire.has_field(data, 2)  # Profile.sample
    except wire.WireError as error:
        raise RemoteError(
            spec.text, f"the profile is not a valid pprof protobuf ({error})"
        ) from None
    if not has_samples:
        raise RemoteError(
            spec.text,
            f"no samples for {spec.query} between {format_time(spec.start)} and"
            f" {format_time(spec.end)} (check the query's labels and the window)",
        )
    return data


def load_remote(spec: RemoteSpec | str, environ: Mapping[str, str] | None = None) -> Profile:
    """Fetch the spec's profile and load it as any pprof file."""
    from perfpilot.tools.profiles import load_bytes

    if isinstance(spec, str):
        spec = parse_remote(spec)
    return load_bytes(fetch_profile(spec, environ), spec.text)


def fetched_name(spec: RemoteSpec) -> str:
    """`pyroscope-host_4040-process_cpu-service_name_api-20261204T100000Z-...-1a2b3c4d.pb.gz`."""
    query_slug = _SLUG.sub("_", spec.query.replace(":cpu:nanoseconds:cpu:nanoseconds", "")).strip(
        "_"
    )[:48]
    host = _SLUG.sub("_", spec.host).strip("_")
    window = "-".join(t.strftime("%Y%m%dT%H%M%SZ") for t in (spec.start, spec.end))
    digest = hashlib.sha256(f"{spec.base_url}\n{spec.query}".encode()).hexdigest()[:8]
    return f"{spec.backend}-{host}-{query_slug}-{window}-{digest}.pb.gz"


def save_fetched(
    spec: RemoteSpec | str,
    directory: str | os.PathLike[str],
    data: bytes | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """Fetch (unless `data` is given) and write the profile, gzip'd, atomically; its path."""
    if isinstance(spec, str):
        spec = parse_remote(spec)
    if data is None:
        data = fetch_profile(spec, environ)
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # In .perfpilot/profiles the temporary file is made one level up: the editor, which
        # watches that folder and loads its newest file, never sees a half-written one.
        scratch = folder.parent if folder.name == "profiles" else folder
        target = folder / fetched_name(spec)
        return write_atomic(target, gzip.compress(data, 6, mtime=0), scratch)
    except OSError as error:
        raise RemoteError(
            spec.text, f"cannot write to {folder} ({error.strerror or error})"
        ) from None


def write_atomic(path: Path, data: bytes, scratch: Path | None = None) -> Path:
    """Write `data` to a private temporary file in `scratch` (same file system), rename it."""
    fd, temporary = tempfile.mkstemp(prefix=".fetch-", suffix=".tmp", dir=scratch or path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def _gunzip(data: bytes, spec: RemoteSpec) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_BODY_BYTES + 1)
    except zlib.error as error:
        raise RemoteError(spec.text, f"the profile's gzip data is corrupt ({error})") from None
    if len(out) > MAX_BODY_BYTES:
        raise RemoteError(spec.text, f"the profile inflates to more than {MAX_BODY_BYTES} bytes")
    if not inflater.eof:
        raise RemoteError(spec.text, "the profile's gzip data was cut short")
    return out


def _source(text: str) -> str:
    """The spec as named in its parse errors: up to the query, any user:password@ blanked."""
    base = re.sub(r"//[^/@]*@", "//***@", text.strip().partition("?")[0], count=1)
    return base if len(base) <= 120 else base[:117] + "..."


def _user_agent() -> str:
    try:
        return f"perfpilot/{version('perfpilot')}"
    except PackageNotFoundError:  # a source tree without an install
        return "perfpilot"
