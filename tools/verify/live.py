"""Verify a fix on a running program's live calls, for functions whose calls cannot be pickled.

`perfpilot verify` replays pickled recordings; a method whose `self` holds lambdas, loaders or
caches (jinja2's `Environment`) has none. Then, when the user gave the program to run
(`perfpilot verify --run CMD`), the program runs once more under _live.py with the function
wrapped: the kept calls' arguments are copied at entry, and after the program finished the
original and the fixed function run on independent copies of them, are compared like a replay
and timed like one (same rounds, same significance test, same noise floor). User code runs
here: only on the user's request, in a subprocess with a time and a memory limit.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from perfpilot.tools.profiling import ProfilingError, bootstrap_command
from perfpilot.tools.source_index import index_source
from perfpilot.tools.verify.model import FunctionCapture, Verdict
from perfpilot.tools.verify.process import Stopped, run_process
from perfpilot.tools.verify.replay import resource_limits
from perfpilot.tools.verify.verdict import decide, unverified

LIVE = Path(__file__).with_name("_live.py")
DEFAULT_CALLS = 32
DEFAULT_PROGRAM_TIMEOUT = 600.0
STARTUP_ALLOWANCE = 15.0


@dataclass(frozen=True, slots=True)
class LiveRun:
    """The program whose calls are used: its command, folder and how long it may run."""

    command: tuple[str, ...]
    cwd: str
    calls: int = DEFAULT_CALLS
    timeout: float = DEFAULT_PROGRAM_TIMEOUT  # for the program itself, before verification


def verify_live(
    path: str,
    qualname: str,
    original: str,
    fixed: str,
    run: LiveRun,
    budget: float,
    memory_mb: int,
    why: str = "the calls could not be pickled",
    cancel: threading.Event | None = None,
) -> Verdict:
    """The verdict on `fixed` (module text) from the live calls of `run`'s program.

    Runs the user's program: call it only on the user's request. Stopped when cancelled.
    """
    definitions = [_definition(text, path, qualname) for text in (original, fixed)]
    if definitions[0] is None or definitions[1] is None:
        return unverified(f"no `{qualname}` in {path}")
    workdir = tempfile.mkdtemp(prefix="perfpilot-live-")
    try:
        spec_path = os.path.join(workdir, "spec.json")
        result_path = os.path.join(workdir, "result.json")
        spec = {
            "path": os.path.realpath(path),
            "qualname": qualname,
            "original": definitions[0],
            "fixed": definitions[1],
            "fixed_module": fixed if _new_globals(original, fixed) else None,
            "filename": os.path.join(workdir, os.path.basename(path)),
            "calls": max(1, run.calls),
            "budget": budget,
            "time": True,
            "result": result_path,
        }
        Path(spec_path).write_text(json.dumps(spec), encoding="utf-8")
        try:
            argv = bootstrap_command(list(run.command), [str(LIVE), spec_path])
        except ProfilingError as exc:
            return unverified(f"cannot run the program in-process: {exc}")
        limit = run.timeout + budget + STARTUP_ALLOWANCE
        try:
            done = run_process(
                argv,
                timeout=limit,
                cancel=cancel,
                cwd=run.cwd,
                preexec_fn=resource_limits(memory_mb, limit),
            )
        except Stopped as exc:
            if not exc.timed_out:
                raise
            return unverified(f"the program and the in-process replay took over {limit:g} s")
        except OSError as exc:
            return unverified(f"cannot run {argv[0]}: {exc.strerror or exc}")
        if not os.path.exists(result_path):
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return unverified(
                f"the in-process run ended (status {done.returncode}) before verifying:"
                f" {tail[0][:300]}"
            )
        result = json.loads(Path(result_path).read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return judged(result, path, qualname, why)


def judged(result: dict[str, object], path: str, qualname: str, why: str) -> Verdict:
    """The verdict on what _live.py reported."""
    seen = int(result.get("seen") or 0)
    calls = f"{seen} call{'s' if seen != 1 else ''} of `{qualname}` seen"
    if result.get("problem"):
        return unverified(f"`{qualname}` cannot be verified in-process: {result['problem']}")
    if not result.get("imported"):
        return unverified(f"the program never imported {os.path.basename(path)}")
    if not seen:
        return unverified(f"the program never called `{qualname}`")
    if not result.get("kept"):
        return unverified(
            f"{calls}, none could be copied for an independent replay:"
            f" {result.get('uncopyable_reason') or 'unknown reason'}"
        )
    if result.get("shared_changed"):
        return unverified(f"{calls}; {result['shared_changed']}")
    if result.get("error"):
        return unverified(f"{calls}, but the in-process comparison failed: {result['error']}")
    recompiled = result.get("recompiled_differs")
    if isinstance(recompiled, dict):
        return unverified(
            f"{calls}, but the function compiled again from its source did not behave like the"
            f" program's own on call {recompiled['call'] + 1} ({recompiled['aspect']}: the"
            f" program's {recompiled['original']}, recompiled {recompiled['fixed']}); it cannot"
            " be compared in-process"
        )
    if "calls" not in result:
        return unverified(
            f"{calls}, but their arguments could not be copied again for the comparison:"
            f" {result.get('uncopyable_reason')}"
        )
    notes = [
        f"verified in-process ({why}): the program ran again with both versions loaded;"
        " original and fix ran on their own deep copies of each kept call's arguments"
    ]
    if result.get("shared"):
        notes.append(
            "objects deepcopy cannot copy were shared between the copies, and checked to be"
            f" left unchanged by every compared call (first: {result['shared']})"
        )
    if result.get("uncopyable"):
        notes.append(
            f"{result['uncopyable']} call(s) skipped: arguments not copyable"
            f" ({result.get('uncopyable_reason')})"
        )
    if result.get("sampled_until"):
        notes.append(
            f"the calls were sampled from the first {result['sampled_until']} of {seen} calls"
            " only: copying them cost more than the run allows"
        )
    kept = int(result["kept"])  # type: ignore[call-overload]
    header = FunctionCapture(path, qualname, "", (), "", "", "", seen, kept, 0, 0, 0.0)
    return decide(dict(result), header, notes, live=True)


def _definition(text: str, path: str, qualname: str) -> str | None:
    """The function's source text, decorators included."""
    found = index_source(text, path).by_qualname(qualname)
    if not found:
        return None
    function = found[-1]
    lines = text.splitlines(keepends=True)
    return "".join(lines[function.first_line - 1 : function.end_line])


def _new_globals(original: str, fixed: str) -> bool:
    """Whether the fix binds module-level names the original does not (a sentinel, an import)."""
    return bool(_module_names(fixed) - _module_names(original))


def _module_names(text: str) -> set[str]:
    names: set[str] = set()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return names
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names
