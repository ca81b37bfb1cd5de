"""Verify a hand-made change to one corpus function on its recorded calls (what no skill offers).

    PERFPILOT_CORPUS_DIR=... python benchmarks/corpus/verify_hand_change.py chardet \
        chardet/sbcharsetprober.py::SingleByteCharSetProber.feed \
        --original /tmp/before.py --fixed /tmp/after.py [--budget 10] [--repeat 3]

Mining asks "would this rewrite pay here?" before anyone writes a skill for it. This replays
the calls `perfpilot capture` recorded in the library's unpacked sdist (run `perfpilot profile`
and `perfpilot capture` there first, with the library's venv python) against two whole-module
texts, with `perfpilot verify`'s own engine and bar, and prints each verdict. The sources are
not changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_config import load_libraries  # noqa: E402


def main() -> int:
    """Print `--repeat` verdicts of replacing `--original` by `--fixed` in one function."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", help="a name from manifest.toml")
    parser.add_argument("target", help="PATH::FUNCTION, PATH relative to the unpacked sdist")
    parser.add_argument("--original", type=Path, required=True, help="the module before")
    parser.add_argument("--fixed", type=Path, required=True, help="the module after")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per verdict")
    parser.add_argument("--repeat", type=int, default=1, help="verdicts to take")
    args = parser.parse_args()
    (library,) = load_libraries([args.library])
    path, _, qualname = args.target.partition("::")
    original = args.original.read_text(encoding="utf-8")
    fixed = args.fixed.read_text(encoding="utf-8")
    for attempt in range(1, args.repeat + 1):
        verdict = verify_change(
            library.root,
            str(library.root / path),  # captures are keyed by the file's real path
            qualname,
            original,
            fixed,
            VerifySettings(budget=args.budget),
        )
        print(f"{attempt}: {verdict.label}: {verdict.summary}", flush=True)
        for note in verdict.notes:
            print(f"   note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
