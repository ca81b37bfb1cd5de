"""Verify's figures for sub-microsecond functions: edits whose effect is known beforehand.

sqlparse 0.5.1's `utils.imt` and `sql.Token.match` run 100-300 ns a call. The workload is
captured once (256 calls each); then `perfpilot verify`'s engine judges, `--trials` times each:
- A/A: the function against itself (expected 1.00x);
- dead-loop: PP115's rewrite of `imt`'s `any(token.ttype in ttype for ttype in t)` line, which
  the workload never reaches (no caller passes a list as `t`): the executed code is identical,
  so anything but ~1.00x is the harness (expected 1.00x);
- PP115's rewrite of `imt`'s `any(token.match(*pattern) for pattern in m)` (reached by ~7 %
  of the calls);
- `Token.match`'s `self.normalized in (v.upper() for v in values)` as a loop (~6 % of calls).
Prints each variant's speedups and verdicts, to compare timing harnesses on one machine.

    PERFPILOT_CORPUS_DIR=... .venv/bin/python benchmarks/corpus/bench_verify_sqlparse_tiny.py \
        [--trials 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_config import load_libraries  # noqa: E402

_IMT_T_ANY = """            if any(token.ttype in ttype for ttype in t):
                return True"""
_IMT_T_LOOP = """            for ttype in t:
                if token.ttype in ttype:
                    return True"""
_IMT_M_ANY = """            if any(token.match(*pattern) for pattern in m):
                return True"""
_IMT_M_LOOP = """            for pattern in m:
                if token.match(*pattern):
                    return True"""
_MATCH_GEN = """        if self.is_keyword:
            values = (v.upper() for v in values)

        return self.normalized in values"""
_MATCH_LOOP = """        if self.is_keyword:
            normalized = self.normalized
            for v in values:
                upper = v.upper()
                if upper is normalized or upper == normalized:
                    return True
            return False

        return self.normalized in values"""

# (label, file, qualname, text to replace, replacement); None: the file unchanged (A/A)
VARIANTS = (
    ("A/A", "sqlparse/utils.py", "imt", None, None),
    ("dead-loop (PP115, line never run)", "sqlparse/utils.py", "imt", _IMT_T_ANY, _IMT_T_LOOP),
    ("PP115 any(match) as loop", "sqlparse/utils.py", "imt", _IMT_M_ANY, _IMT_M_LOOP),
    ("A/A", "sqlparse/sql.py", "Token.match", None, None),
    ("`in` generator as loop", "sqlparse/sql.py", "Token.match", _MATCH_GEN, _MATCH_LOOP),
)


def main() -> None:
    """Capture once, verify every variant `--trials` times, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--budget", type=float, default=10.0)
    parser.add_argument("--only", help="comma-separated variant numbers (0-based), default all")
    args = parser.parse_args()
    from perfpilot.tools.verify.capture import CaptureTarget, run_capture
    from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

    cache = tempfile.mkdtemp(prefix="perfpilot-tiny-")
    os.environ["XDG_CACHE_HOME"] = os.path.join(cache, "cache")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(cache, "config")
    (library,) = load_libraries(["sqlparse"])
    package = library.package_dir.parent
    targets = sorted({(file, qualname) for _, file, qualname, _, _ in VARIANTS})
    run_capture(
        library.root,
        [str(library.python), str(library.workload)],
        [CaptureTarget(str(package / f), q) for f, q in targets],
        library.root,
        calls=256,
        stdout=subprocess.DEVNULL,
    )
    print("| function | variant | speedups (each trial) | median | verdicts | A/A noise |")
    print("|---|---|---|---|---|---|")
    chosen = [int(n) for n in args.only.split(",")] if args.only else range(len(VARIANTS))
    for label, file, qualname, old, new in (VARIANTS[n] for n in chosen):
        path = str(package / file)
        text = Path(path).read_text(encoding="utf-8")
        if old is not None and old not in text:
            sys.exit(f"{file}: the text to replace for {label!r} is not there")
        fixed = text if old is None else text.replace(old, new, 1)
        speeds, verdicts, noises = [], [], []
        for _ in range(args.trials):
            verdict = verify_change(
                library.root, path, qualname, text, fixed, VerifySettings(args.budget)
            )
            verdicts.append(verdict.summary.split(":")[0])
            if verdict.speed is not None:
                speeds.append(verdict.speed.speedup)
                noises.append(verdict.speed.noise)
        shown = ", ".join(f"{s:.3f}" for s in speeds) or "-"
        median = f"{statistics.median(speeds):.3f}x" if speeds else "-"
        noise = f"{100 * statistics.median(noises):.1f}%" if noises else "-"
        print(f"| {qualname} | {label} | {shown} | {median} | {', '.join(verdicts)} | {noise} |")


if __name__ == "__main__":
    main()
