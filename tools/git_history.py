"""Who last changed a function's lines, and in which commits: `git blame` of a line range."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

GIT_TIMEOUT = 15.0
_UNCOMMITTED = "0" * 40


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """A commit that last touched some of the lines."""

    sha: str
    author: str
    date: str  # ISO 8601, UTC
    summary: str
    lines: int  # how many of the asked lines it last changed


@dataclass(frozen=True, slots=True)
class LineHistory:
    """The blame of a line range; `available` is False (with a reason) outside a git work tree."""

    available: bool
    reason: str = ""
    commits: list[CommitInfo] = field(default_factory=list)  # newest first
    uncommitted_lines: int = 0


def blame_lines(
    root: Path, path: Path, first: int, last: int, text: str | None = None, limit: int = 10
) -> LineHistory:
    """Blame lines first..last (1-based) of `path`; `text` is its current (maybe unsaved) text.

    Never raises for a missing git, a folder that is not a repository or an untracked file.
    """
    git = shutil.which("git")
    if git is None:
        return LineHistory(False, "git is not installed")
    # Repository configuration could name programs to run (fsmonitor, textconv): none run here.
    base = [git, "-c", "core.fsmonitor=false", "-C", str(root)]
    inside = _run([*base, "rev-parse", "--is-inside-work-tree"])
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != "true":
        return LineHistory(False, f"{root} is not a git repository")
    command = [*base, "blame", "--porcelain", "--no-textconv", "-L", f"{first},{last}"]
    if text is not None:
        command += ["--contents", "-"]
    done = _run([*command, "--", str(path)], text)
    if done is None:
        return LineHistory(False, "git blame did not finish")
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[:1]
        return LineHistory(False, f"git blame failed: {message[0] if message else done.returncode}")
    return _parse_porcelain(done.stdout, limit)


def _run(command: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str] | None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def _parse_porcelain(output: str, limit: int) -> LineHistory:
    headers: dict[str, dict[str, str]] = {}
    counts: dict[str, int] = {}
    current: str | None = None
    for line in output.splitlines():
        if line.startswith("\t"):
            current = None
            continue
        words = line.split(" ", 1)
        if current is None:
            current = words[0]
            counts[current] = counts.get(current, 0) + 1
            headers.setdefault(current, {})
        elif len(words) == 2:
            headers[current].setdefault(words[0], words[1])
    uncommitted = counts.pop(_UNCOMMITTED, 0)
    commits = []
    for sha, lines in counts.items():
        info = headers.get(sha, {})
        stamp = int(info.get("author-time", "0") or 0)
        commits.append(
            CommitInfo(
                sha=sha,
                author=info.get("author", "?"),
                date=dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(),
                summary=info.get("summary", ""),
                lines=lines,
            )
        )
    commits.sort(key=lambda c: c.date, reverse=True)
    return LineHistory(True, "", commits[:limit], uncommitted)
