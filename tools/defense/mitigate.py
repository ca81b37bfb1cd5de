"""The regression solver: candidate fixes for a regressed function, checked, the best committed.

Candidates: the revert of the culprit's hunks inside the function (a three-way merge of the
function's text, so later edits to it survive), the skills' fixes, and whatever an optional
`extra` source proposes (the efficiency agent, when the LLM is enabled). Each one goes
through the validation pipeline, the project's tests (a command the user gave), an optional
`verify` callable (the verification stage, when installed) and an interleaved timing against
head. The best is committed on a new local branch made in a temporary worktree; nothing is
pushed and the user's branch, index and work tree are not touched.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from perfpilot.tools.defense.detect import FunctionChange
from perfpilot.tools.defense.history import Run
from perfpilot.tools.defense.recording import profile_runs
from perfpilot.tools.defense.repo import (
    GitState,
    branch_exists,
    branch_worktree,
    file_at,
    git,
    temporary_worktree,
)
from perfpilot.tools.defense.rootcause import Culprit, function_at
from perfpilot.tools.function_edit import check_function_edit

# (worktree, relative path, qualname) -> (passed, one-line summary): the verification seam.
Verify = Callable[[Path, str, str], tuple[bool, str]]
# (head file text, function change, culprit) -> [(title, new function source)]: e.g. the agent.
Extra = Callable[[str, FunctionChange, Culprit], Sequence[tuple[str, str]]]
TEST_TIMEOUT = 900.0


@dataclass(slots=True)
class Candidate:
    """One proposed fix and what checking it found."""

    origin: str  # "revert", "skill", "agent"
    title: str
    text: str | None = None  # the whole new file, when validation passed
    refusal: str | None = None
    tests: str = "not run"
    tests_passed: bool | None = None
    verified: str = "not run (ask with --verify)"
    share: float | None = None  # the function's own share with the candidate, percent
    program_s: float | None = None  # median run time with it

    @property
    def usable(self) -> bool:
        """Validated, tests not failed, verification not failed."""
        return self.text is not None and self.refusal is None and self.tests_passed is not False


@dataclass(slots=True)
class Mitigation:
    """The outcome: every candidate, and the branch and commit of the best one (if any)."""

    function: str
    candidates: list[Candidate] = field(default_factory=list)
    branch: str | None = None
    commit: str | None = None
    head_share: float | None = None
    head_program_s: float | None = None
    description: str = ""
    verified: bool = False  # the candidates went through the verification stage


def branch_name(root: Path, qualname: str) -> str:
    """`perfpilot/regression-<function>`, made unique among the local branches."""
    slug = re.sub(r"[^a-z0-9]+", "-", qualname.lower()).strip("-") or "function"
    name = f"perfpilot/regression-{slug}"
    number = 2
    while branch_exists(root, name):
        name = f"perfpilot/regression-{slug}-{number}"
        number += 1
    return name


def revert_candidate(root: Path, head: str, change: FunctionChange, culprit: Culprit) -> Candidate:
    """The culprit's changes to the function undone by a three-way merge onto head's version."""
    sha = culprit.commit.sha
    versions = []
    for commit in (head, sha, f"{sha}^"):
        function = function_at(root, commit, change.path, change.qualname)
        text = file_at(root, commit, change.path)
        if function is None or text is None:
            return Candidate("revert", f"revert {sha[:7]}", refusal=f"no `{change.qualname}` at"
                             f" {commit[:10]}: nothing to revert")  # fmt: skip
        lines = text.splitlines(keepends=True)
        versions.append("".join(lines[function.first_line - 1 : function.end_line]))
    merged = _merge(*versions)
    title = f"Revert the changes of {sha[:7]} to `{change.qualname}`"
    if merged is None:
        return Candidate("revert", title, refusal="the revert does not apply cleanly")
    return _validated(root, head, change, Candidate("revert", title), merged)


def _merge(current: str, base: str, other: str) -> str | None:
    """`git merge-file -p current base other`: the result, or None on a conflict."""
    with tempfile.TemporaryDirectory(prefix="perfpilot-merge-") as folder:
        paths = []
        for name, text in (("current", current), ("base", base), ("other", other)):
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        done = subprocess.run(
            ["git", "merge-file", "-p", *paths], capture_output=True, text=True, check=False
        )
    return done.stdout if done.returncode == 0 else None


def _validated(
    root: Path, head: str, change: FunctionChange, candidate: Candidate, source: str
) -> Candidate:
    """Splice `source` over the function at head and run the validation pipeline."""
    original = file_at(root, head, change.path) or ""
    function = function_at(root, head, change.path, change.qualname)
    if function is None:
        candidate.refusal = f"`{change.qualname}` is not in {change.path} at head"
        return candidate
    check = check_function_edit(original, change.path, function, source, root=str(root))
    if not check.ok or check.text is None:
        candidate.refusal = check.reason or "refused by validation"
    else:
        candidate.text = check.text
    return candidate


def skill_candidates(root: Path, head: str, change: FunctionChange) -> list[Candidate]:
    """Fixes the built-in and installed skills offer for the function at head (validated)."""
    from perfpilot.skills.fixing import Evidence, fix_text  # skills sit above tools
    from perfpilot.skills.registry import discover
    from perfpilot.tools.model import Applicability

    original = file_at(root, head, change.path)
    if original is None:
        return []
    skills = [s for s in discover(root).skills if s.transform is not None]
    hot = {change.qualname: Evidence(change.head_share, None)}
    # Every skill, held back or not: check_candidates measures the candidate on the workload.
    fixed = fix_text(
        original,
        str(root / change.path),
        hot,
        skills,
        minimum=Applicability.UNSAFE,
        root=str(root),
        include_unproven=True,
    )
    if not fixed.applied:
        return []
    return [Candidate("skill", "; ".join(fixed.applied), text=fixed.text)]


def check_candidates(
    root: Path,
    head: str,
    change: FunctionChange,
    candidates: list[Candidate],
    *,
    workload: Sequence[str],
    tests: Sequence[str] | None,
    verify: Verify | None,
    repeat: int,
) -> tuple[float, float]:
    """Run tests, verification and timing for each usable candidate; return head's figures."""
    head_runs = []
    with temporary_worktree(root, head) as head_tree:
        for candidate in candidates:
            if not candidate.usable:
                continue
            with temporary_worktree(root, head) as tree:
                (tree / change.path).write_text(candidate.text or "", encoding="utf-8")
                if tests:
                    candidate.tests_passed, candidate.tests = _run_tests(tree, tests)
                if verify is not None and candidate.tests_passed is not False:
                    passed, candidate.verified = verify(tree, change.path, change.qualname)
                    if not passed:
                        candidate.refusal = f"verification: {candidate.verified}"
                if not candidate.usable:
                    continue
                runs = []
                for _ in range(repeat):  # interleaved with head, so drift hits both alike
                    head_runs += _measure(head_tree, workload, head)
                    runs += _measure(tree, workload, head)
                candidate.share = median(r.share(change.key) for r in runs)
                candidate.program_s = median(r.duration or 0.0 for r in runs)
        if not head_runs:
            head_runs = _measure(head_tree, workload, head)
    return median(r.share(change.key) for r in head_runs), median(
        r.duration or 0.0 for r in head_runs
    )


def _measure(tree: Path, workload: Sequence[str], head: str) -> list[Run]:
    state = GitState(head, True, None)
    return profile_runs(
        workload, tree, tree, workload="mitigation", repeat=1, git=state, stdout=subprocess.DEVNULL
    )


def _run_tests(tree: Path, tests: Sequence[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(list(tests), cwd=tree, capture_output=True, text=True,
                              timeout=TEST_TIMEOUT, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"`{' '.join(tests)}` did not run: {exc}"
    last = (done.stdout.strip().splitlines() or [""])[-1][:200]
    verdict = "passed" if done.returncode == 0 else f"failed (exit {done.returncode})"
    return done.returncode == 0, f"`{' '.join(tests)}` {verdict}: {last}"


def best_candidate(candidates: list[Candidate], head_share: float) -> Candidate | None:
    """The usable candidate that takes the most share back from the function."""
    measured = [c for c in candidates if c.usable and c.share is not None]
    faster = [c for c in measured if c.share is not None and c.share < head_share]
    return min(faster, key=lambda c: c.share or 0.0) if faster else None


def commit_branch(
    root: Path, head: str, change: FunctionChange, best: Candidate, message: str
) -> tuple[str, str]:
    """Commit the candidate on a new local branch made at head (in a worktree); (branch, sha)."""
    name = branch_name(root, change.qualname)
    with branch_worktree(root, name, head) as tree:
        (tree / change.path).write_text(best.text or "", encoding="utf-8")
        git(tree, "add", "--", change.path)
        git(tree, "commit", "-q", "--no-verify", "-F", "-", stdin=message)
        sha = git(tree, "rev-parse", "HEAD").strip()
    return name, sha
