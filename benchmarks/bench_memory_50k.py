"""Where the language server's memory goes with bench_lsp's 50,000-function profile loaded.

Run: .venv/bin/python benchmarks/bench_memory_50k.py [--top N]

In one process, as the server does it: import the server, load the raw profile, map it onto
the workspace (ProfileSession.load), find the skills, open and annotate the big file, run the
skills' pass over its hot functions (PP1xx, as the server's worker does). The first
table gives RSS and its high-water mark after each stage (what bench_vs_ruff's `--rss-50k`
compares with ruff's server); the second, from tracemalloc, the source lines holding the most
memory once the profile is shown (a second run, since tracing slows and bloats the first).
"""

from __future__ import annotations

import argparse
import gc
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path


def status_mib() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process, MiB."""
    found = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS", "VmHWM")):
                found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found["VmRSS"], found["VmHWM"]


def stages(root: Path, big: Path) -> None:
    """Print RSS after each stage (run in a fresh interpreter: see main)."""
    rows = [("python", *status_mib())]
    from perfpilot.tools.free_memory import use_one_malloc_arena

    use_one_malloc_arena()  # as `perfpilot serve` does
    import lsprotocol.types  # noqa: F401
    import pygls.lsp.server  # noqa: F401

    rows.append(("pygls + lsprotocol (the floor server)", *status_mib()))
    from perfpilot.server.lsp.app import create_server

    create_server()
    rows.append(("perfpilot server imported", *status_mib()))
    from perfpilot.tools.config import Settings
    from perfpilot.tools.profile_session import ProfileSession

    session = ProfileSession(str(root), Settings(threshold=0.05))
    session.load(session.discover())
    rows.append(("profile loaded and mapped", *status_mib()))
    from perfpilot.skills.registry import discover

    discover(root).with_transforms()
    rows.append(("skills found (libcst imported)", *status_mib()))
    from perfpilot.tools.annotate import annotate

    text = big.read_text()
    document = session.open_document(str(big), text, 1, "utf-16")
    assert session.loaded is not None
    found = annotate(document.module(), session.loaded.hot_in(str(big)), session.loaded.profile)
    rows.append((f"big file opened, {len(found)} hot functions", *status_mib()))
    from perfpilot.skills.runner import FindCache, Target, find_opportunities
    from perfpilot.tools import source_walk
    from perfpilot.tools.free_memory import release_free_memory
    from perfpilot.tools.module_facts import facts_of_tree

    facts = facts_of_tree(source_walk.parse(text.encode("utf-8")), text)
    targets = [Target(a.function, a.hot.own_share, a.hot.mapped.calls) for a in found]
    skills = discover(root).with_transforms()
    opportunities = find_opportunities(text, str(big), targets, skills, facts, cache=FindCache())
    release_free_memory()  # as the server's worker does after a pass
    rows.append((f"skills' pass (PP1xx), {len(opportunities)} found", *status_mib()))
    print("| stage | RSS MiB | peak RSS MiB |")
    print("|---|---|---|")
    for label, rss, peak in rows:
        print(f"| {label} | {rss:.1f} | {peak:.1f} |")


def holders(root: Path, top: int) -> None:
    """Print the source lines holding the most memory after the load (tracemalloc)."""
    from perfpilot.tools.config import Settings
    from perfpilot.tools.profile_session import ProfileSession

    tracemalloc.start()
    session = ProfileSession(str(root), Settings(threshold=0.05))
    before = tracemalloc.take_snapshot()
    session.load(session.discover())
    gc.collect()
    after = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    print(f"\ntraced after the load: {current / 2**20:.1f} MiB (peak {peak / 2**20:.1f} MiB)\n")
    print("| MiB | blocks | allocated at |")
    print("|---|---|---|")
    for stat in after.compare_to(before, "lineno")[:top]:
        frame = stat.traceback[0]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        print(f"| {stat.size_diff / 2**20:.1f} | {stat.count_diff:,} | {where} |")


def main() -> None:
    """Build the workspace, run both parts in fresh interpreters."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15, help="lines in the tracemalloc table")
    parser.add_argument("--part", choices=("stages", "holders"), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        root = Path(args.root)
        if args.part == "stages":
            stages(root, root / "src" / "app" / "engine.py")
        else:
            holders(root, args.top)
        return
    from bench_lsp import build_workspace  # not at the top: the stages start from bare Python

    scratch = Path(tempfile.mkdtemp(prefix="perfpilot-bench-memory-"))
    try:
        workspace = build_workspace(scratch / "fiftyk")
        print(f"{workspace.functions:,} functions in the profile, {workspace.files} files\n")
        for part in ("stages", "holders"):
            subprocess.run(
                [sys.executable, __file__, "--part", part, "--root", str(workspace.root)]
                + ["--top", str(args.top)],
                check=True,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
