"""Every skill over real code nobody here wrote: the standard library of the running Python.

Run: .venv/bin/python benchmarks/skills_corpus.py [--limit N] [--skills a,b] [--root DIR]
     [--triggers]

Profile guidance is off: every function of every file is a target. Each opportunity is built
into a fix against the original file and put through the whole validation pipeline (syntax,
ruff style with a strict config, the skill's guard). Prints, per skill, how many opportunities
were found, how many fixes were offered (by applicability) and how many each stage refused,
then the seconds spent. A skill whose `find` raised (the `find` column: the runner logs it and
goes on), a refusal at the syntax or guard stage, or a transform that raised, is a bug in the
skill: they are listed at the end.

With `--triggers`, each skill that declares a trigger (SKILL.md `metadata.trigger`) runs with
and without it over every function instead: the opportunities must be the same (a difference
is a trigger that hides a fix, listed as MISS); the table shows on what share of the functions
each trigger lets its skill run.
"""

from __future__ import annotations

import argparse
import collections
import logging
import shutil
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from perfpilot.skills.registry import Skill, discover
from perfpilot.skills.runner import Found, Target, build_fix, find_opportunities
from perfpilot.tools.edits import apply_edits
from perfpilot.tools.module_facts import facts_of_source
from perfpilot.tools.source_index import index_source

RUFF_CONFIG = '[tool.ruff]\nline-length = 100\n[tool.ruff.lint]\nselect = ["E", "F", "W", "B"]\n'
SKIP_PARTS = {"test", "tests", "idle_test", "site-packages", "lib2to3", "__pycache__"}


def corpus_files(root: Path, limit: int | None) -> list[Path]:
    """The .py files under `root`, tests and vendored packages left out, in a stable order."""
    files = sorted(
        p for p in root.rglob("*.py") if not SKIP_PARTS.intersection(p.relative_to(root).parts)
    )
    if limit is not None and len(files) > limit:
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    return files


@dataclass
class CorpusResult:
    """Counts per skill: opportunities, fixes offered by applicability, refusals by stage."""

    files: int = 0
    found: collections.Counter[str] = field(default_factory=collections.Counter)
    offered: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    refused: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    bugs: list[str] = field(default_factory=list)


class _FindCrashes(logging.Handler):
    """Counts the skills whose `find` raised: the runner logs it and goes on with the others."""

    def __init__(self, result: CorpusResult) -> None:
        super().__init__(logging.ERROR)
        self.result = result

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "skill %s failed on %s:%s" and isinstance(record.args, tuple):
            name, path, qualname = record.args
            self.result.refused[str(name)]["find"] += 1
            error = record.exc_info[1] if record.exc_info else None
            self.result.bugs.append(f"{name} {path}:{qualname}: find raised {error!r}")


def run_corpus(files: list[Path], skills: list[Skill], progress: bool = False) -> CorpusResult:
    """Find every opportunity in `files` and build each fix through the whole pipeline."""
    result = CorpusResult()
    runner_log = logging.getLogger("perfpilot.skills.runner")
    crashes = _FindCrashes(result)
    runner_log.addHandler(crashes)
    runner_log.propagate = False  # counted and listed at the end, not a traceback per function
    try:
        _scan(files, skills, result, progress)
    finally:
        runner_log.removeHandler(crashes)
        runner_log.propagate = True
    return result


def _scan(files: list[Path], skills: list[Skill], result: CorpusResult, progress: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        (workspace / "pyproject.toml").write_text(RUFF_CONFIG)
        for number, source in enumerate(files):
            try:
                text = source.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            result.files += 1
            # A folder per file: skills that read the rest of a function's package (package_scan,
            # whose listing is reused for 2 s) must not see the previous, deleted copy, which
            # made their counts depend on how fast the run went.
            path = workspace / f"m{number}" / source.name
            path.parent.mkdir()
            shutil.copyfile(source, path)
            index = index_source(text, str(path))
            targets = [Target(f) for f in index.functions if not f.is_lambda]
            facts = facts_of_source(text)
            for item in find_opportunities(text, str(path), targets, skills, facts):
                _build(result, text, item, folder, f"{source}:{item.opportunity.line}")
            shutil.rmtree(path.parent)
            if progress:
                print(f"\r{number + 1}/{len(files)} files", end="", file=sys.stderr)


@dataclass
class TriggerCheck:
    """Per skill: functions looked at, those its trigger let through, opportunities, misses."""

    functions: int = 0
    triggered: collections.Counter[str] = field(default_factory=collections.Counter)
    found: collections.Counter[str] = field(default_factory=collections.Counter)
    misses: list[str] = field(default_factory=list)


def check_triggers(files: list[Path], skills: list[Skill], count: bool = True) -> TriggerCheck:
    """Run each skill that declares a trigger where its trigger says no: does it find anything?

    A trigger (SKILL.md `metadata.trigger`) only saves work: where it lets the skill run, the
    skill runs as without it, so an opportunity found where it does not is a miss, a fix the
    trigger would hide. With `count`, the skills also run where their trigger lets them, to
    count the opportunities (the test leaves that out: CI time). Skills without a trigger run
    the same either way and are left out.
    """
    check = TriggerCheck()
    with_trigger = [s for s in skills if s.trigger is not None]
    bare = {s.name: replace(s, trigger=None) for s in with_trigger}
    for source in files:
        try:
            text = source.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lines = text.splitlines(keepends=True)
        index = index_source(text, str(source))
        facts = facts_of_source(text)
        for function in index.functions:
            if function.is_lambda:
                continue
            check.functions += 1
            snippet = "".join(lines[function.first_line - 1 : function.end_line])
            fires = {s.name: s.may_fire(snippet) for s in with_trigger}
            check.triggered.update(name for name, fire in fires.items() if fire)
            ran = [bare[name] for name, fire in fires.items() if count or not fire]
            for item in find_opportunities(text, str(source), [Target(function)], ran, facts):
                name = item.skill.name
                check.found[name] += 1
                if not fires[name]:
                    trigger = next(s.trigger for s in with_trigger if s.name == name)
                    check.misses.append(
                        f"{name} {source}:{item.opportunity.line} ({function.qualname}):"
                        f" hidden by its trigger {trigger}"
                    )
    return check


def _build(result: CorpusResult, text: str, item: Found, root: str, where: str) -> None:
    name = item.skill.name
    result.found[name] += 1
    fix = build_fix(text, item, root=root)
    if fix.applicable:
        result.offered[name][fix.applicability.name] += 1
        try:
            compile(apply_edits(text, fix.edits), where, "exec")
        except SyntaxError as exc:
            result.bugs.append(f"{name} {where}: the applied fix does not compile: {exc}")
        return
    stage = (fix.refusal or "unknown").split(":", 1)[0]
    result.refused[name][stage] += 1
    if stage in ("syntax", "guard") or "raised" in (fix.refusal or ""):
        result.bugs.append(f"{name} {where}: {fix.refusal}")


def main() -> None:
    """Run the corpus and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--limit", type=int, default=None, help="sample this many files")
    parser.add_argument("--skills", default="", help="comma-separated skill names (default all)")
    parser.add_argument(
        "--triggers", action="store_true", help="check each trigger against its skill instead"
    )
    args = parser.parse_args()
    skills = discover(packages=False).with_transforms()
    if args.skills:
        skills = [s for s in skills if s.name in args.skills.split(",")]
    files = corpus_files(args.root, args.limit)
    if args.triggers:
        _print_triggers(files, skills, args.root)
        return
    started = time.perf_counter()
    result = run_corpus(files, skills, progress=True)
    print(file=sys.stderr)
    seconds = time.perf_counter() - started
    print(f"{result.files} files under {args.root} ({seconds:.0f} s)")
    header = f"{'skill':<24}{'found':>7}{'safe':>7}{'unsafe':>8}{'display':>9}"
    header += f"{'find':>6}{'transform':>11}{'syntax':>8}{'style':>7}{'guard':>7}"
    print(header)
    for skill in skills:
        name = skill.name
        offered, refused = result.offered[name], result.refused[name]
        print(
            f"{name:<24}{result.found[name]:>7}{offered['SAFE']:>7}{offered['UNSAFE']:>8}"
            f"{offered['DISPLAY_ONLY']:>9}{refused['find']:>6}{refused['transform']:>11}"
            f"{refused['syntax']:>8}{refused['style']:>7}{refused['guard']:>7}"
        )
    for bug in result.bugs:
        print("BUG:", bug)


def _print_triggers(files: list[Path], skills: list[Skill], root: Path) -> None:
    started = time.perf_counter()
    check = check_triggers(files, skills)
    seconds = time.perf_counter() - started
    print(f"{len(files)} files, {check.functions} functions under {root} ({seconds:.0f} s)")
    print(f"{'skill':<24}{'trigger':<40}{'runs on':>9}{'found':>7}")
    for skill in skills:
        if skill.trigger is not None:
            share = check.triggered[skill.name] / max(check.functions, 1)
            shown = str(skill.trigger)
            shown = shown if len(shown) < 38 else shown[:35] + "..."
            print(f"{skill.name:<24}{shown:<40}{share:>8.0%}{check.found[skill.name]:>7}")
    for miss in check.misses:
        print("MISS:", miss)


if __name__ == "__main__":
    main()
