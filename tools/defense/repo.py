"""The git operations the defense needs: state, revisions, file contents, temporary worktrees.

Every command runs with repository hooks and helper programs disabled where git allows
(fsmonitor, textconv, external diff), since the repository is data, not authority.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 120.0


class GitError(Exception):
    """A git command failed; the message is one line."""


@dataclass(frozen=True, slots=True)
class GitState:
    """Where a run was recorded: commit (None outside git), dirty tree, branch."""

    commit: str | None
    dirty: bool
    branch: str | None


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit's identity and description."""

    sha: str
    author: str
    date: str  # ISO 8601
    summary: str


def git(root: Path, *args: str, check: bool = True, stdin: str | None = None) -> str:
    """Run `git -C root ARGS` and return its stdout; GitError (one line) when it fails."""
    executable = shutil.which("git")
    if executable is None:
        raise GitError("git is not installed")
    command = [
        executable, "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
        "-c", "diff.external=", "-C", str(root), *args,
    ]  # fmt: skip
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            command, input=stdin, capture_output=True, text=True, timeout=GIT_TIMEOUT, env=env,
            check=False, errors="replace",
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish in {GIT_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if check and done.returncode != 0:
        first = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[0]
        raise GitError(f"git {args[0]}: {first}")
    return done.stdout


def git_state(root: Path) -> GitState:
    """The commit, dirtiness and branch of the work tree at `root` (all empty outside git)."""
    try:
        commit = git(root, "rev-parse", "--verify", "-q", "HEAD").strip() or None
    except GitError:
        return GitState(None, False, None)
    status = git(root, "status", "--porcelain", "--untracked-files=no", check=False)
    branch = git(root, "symbolic-ref", "-q", "--short", "HEAD", check=False).strip() or None
    return GitState(commit, bool(status.strip()), branch)


def resolve(root: Path, ref: str) -> str:
    """The full SHA of commit `ref`; GitError naming it when it is not a commit."""
    if ref.startswith("-"):
        raise GitError(f"{ref!r} is not a revision")
    try:
        return git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}").strip()
    except GitError:
        raise GitError(f"{ref!r} is not a commit of {root}") from None


def commits_between(root: Path, base: str, head: str) -> list[Commit]:
    """Commits in base..head, oldest first."""
    out = git(root, "log", "--reverse", "--format=%H%x00%an%x00%aI%x00%s", f"{base}..{head}")
    return [_commit(line) for line in out.splitlines() if line]


def first_parent_chain(root: Path, head: str, limit: int = 500) -> list[str]:
    """SHAs of `head` and its first-parent ancestors, oldest first."""
    out = git(root, "rev-list", "--first-parent", f"--max-count={limit}", head)
    return list(reversed(out.split()))


def describe(root: Path, sha: str) -> Commit:
    """The author, date and summary of one commit."""
    return _commit(git(root, "log", "-1", "--format=%H%x00%an%x00%aI%x00%s", sha).strip())


def file_at(root: Path, sha: str, path: str) -> str | None:
    """The text of `path` (relative) at commit `sha`, or None when it does not exist there."""
    try:
        return git(root, "show", "--no-textconv", f"{sha}:{path}")
    except GitError:
        return None


def _commit(line: str) -> Commit:
    sha, author, date, summary = (line.split("\x00") + ["", "", ""])[:4]
    return Commit(sha, author, date, summary)


@contextmanager
def temporary_worktree(root: Path, ref: str) -> Iterator[Path]:
    """Check `ref` out (detached) in a private temporary folder; remove it afterwards.

    The user's work tree, index and branches are not touched.
    """
    parent = Path(tempfile.mkdtemp(prefix="perfpilot-wt-"))
    target = parent / "tree"
    try:
        # Inside the try: a cancel (SIGINT) lands while `git worktree add` runs as often as
        # not (git lists the worktree before its checkout is done), and must not leave it.
        git(root, "worktree", "add", "--detach", "--force", str(target), ref)
        yield target
    finally:
        git(root, "worktree", "remove", "--force", str(target), check=False)
        shutil.rmtree(parent, ignore_errors=True)
        git(root, "worktree", "prune", check=False)


@contextmanager
def branch_worktree(root: Path, branch: str, start: str) -> Iterator[Path]:
    """A temporary worktree on a new local branch `branch` made at `start`; the branch stays
    when the block completes, and is deleted when it fails or is interrupted (a cancelled
    mitigation must not leave a half-made branch behind)."""
    parent = Path(tempfile.mkdtemp(prefix="perfpilot-wt-"))
    target = parent / "tree"
    ours = not branch_exists(root, branch)  # never delete a branch someone else made
    completed = False
    try:
        git(root, "worktree", "add", "-b", branch, str(target), start)
        yield target
        completed = True
    finally:
        git(root, "worktree", "remove", "--force", str(target), check=False)
        shutil.rmtree(parent, ignore_errors=True)
        git(root, "worktree", "prune", check=False)
        if not completed and ours:
            git(root, "branch", "-D", branch, check=False)


def branch_exists(root: Path, branch: str) -> bool:
    """True when the local branch exists."""
    done = git(root, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", check=False)
    return bool(done.strip())


def changed_paths(root: Path, base: str, head: str, paths: Sequence[str] = ()) -> list[str]:
    """Files changed between two commits (relative paths)."""
    out = git(root, "diff", "--name-only", "--no-renames", base, head, "--", *paths)
    return [line for line in out.splitlines() if line]
