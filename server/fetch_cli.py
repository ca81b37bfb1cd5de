"""`perfpilot fetch SPEC... [-o FILE]`: save production profiles where the editor finds them.

Each spec's merged profile is fetched, checked by the pprof loader, and written gzip'd to
`.perfpilot/profiles/` under a name that records the source and the window (or to FILE), so
`perfpilot check`, the language server and `record` read it like any profile file.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from datetime import datetime, timezone
from pathlib import Path

from perfpilot.tools.config import find_workspace_root, workspace_profiles_dir
from perfpilot.tools.profiles import load_bytes
from perfpilot.tools.profiles.remote import fetch_profile, parse_remote, save_fetched
from perfpilot.tools.profiles.remote.fetch import write_atomic

EXIT_OK, EXIT_ERROR = 0, 2


def register_fetch(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `fetch` subcommand to perfpilot's parser."""
    fetch = commands.add_parser(
        "fetch", help="fetch production profiles from Pyroscope or Parca into .perfpilot/profiles"
    )
    fetch.add_argument(
        "specs",
        nargs="+",
        metavar="SPEC",
        help="pyroscope+https://HOST?query=TYPE{LABELS}&from=now-1h&until=now (or parca+...)",
    )
    fetch.add_argument("-o", "--output", metavar="FILE", help="write here (one SPEC only)")


def run_fetch(args: argparse.Namespace) -> int:
    """Fetch every spec (parsed first, with one `now`); a ProfileError propagates to main."""
    if args.output and len(args.specs) > 1:
        print("perfpilot: error: -o FILE takes one SPEC", file=sys.stderr)
        return EXIT_ERROR
    now = datetime.now(timezone.utc)
    specs = [parse_remote(text, now) for text in args.specs]
    cwd = Path.cwd()
    # Checked before any request: a profiles folder that links out of the workspace is refused.
    directory = None if args.output else workspace_profiles_dir(find_workspace_root(cwd))
    for spec in specs:
        data = fetch_profile(spec)
        profile = load_bytes(data, spec.text)  # refuse to store what perfpilot cannot read
        if args.output:
            try:
                path = write_atomic(cwd / args.output, gzip.compress(data, 6, mtime=0))
            except OSError as error:
                print(
                    f"perfpilot: error: {args.output}: cannot write ({error.strerror or error})",
                    file=sys.stderr,
                )
                return EXIT_ERROR
        else:
            assert directory is not None
            path = save_fetched(spec, directory, data)
        shown = path.relative_to(cwd) if path.is_relative_to(cwd) else path
        print(
            f"perfpilot: wrote {shown} ({spec.backend} {spec.host}, {spec.window()},"
            f" {len(profile.functions):,} functions)",
            file=sys.stderr,
        )
    return EXIT_OK
