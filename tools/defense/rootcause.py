"""Root cause: the commits of base..head that changed a regressed function or its slower callees.

Each target function's span comes from the source index of its file at head; `git log -L`
follows that span back through base..head and gives, per commit, the hunk inside it. A
commit scores by how much of the target's code it changed (comments and blank lines do not
count), weighted by how much share the target gained, with a bonus when it added or changed
one of the target's hot lines (the lines the head profile found the time on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfpilot.tools.defense.repo import Commit, GitError, file_at, git
from perfpilot.tools.source_index import SourceFunction, index_source

HOT_LINE_BONUS = 1.0


@dataclass(frozen=True, slots=True)
class Target:
    """A function to trace: where it is at head, how much share it gained, its hot lines."""

    path: str  # relative to the repository root
    qualname: str
    gained: float  # percentage points
    hot_lines: tuple[int, ...] = ()


@dataclass(slots=True)
class Culprit:
    """A commit that changed a target, with its score and the hunks inside the targets."""

    commit: Commit
    score: float = 0.0
    lines_changed: int = 0
    touched_hot: bool = False
    functions: list[str] = field(default_factory=list)
    hunks: list[str] = field(default_factory=list)
    bisected: bool = False  # confirmed by measuring (--bisect)

    @property
    def hunk(self) -> str:
        """Every hunk of this commit inside the targets, as one diff."""
        return "\n".join(self.hunks)


def function_at(root: Path, sha: str, path: str, qualname: str) -> SourceFunction | None:
    """The function `qualname` of `path` as it is at commit `sha`, or None."""
    text = file_at(root, sha, path)
    if text is None:
        return None
    found = [f for f in index_source(text, path).by_qualname(qualname) if not f.is_lambda]
    return found[-1] if found else None


def rank_commits(root: Path, base: str, head: str, targets: Sequence[Target]) -> list[Culprit]:
    """The commits of base..head that changed any target, best suspect first."""
    culprits: dict[str, Culprit] = {}
    for target in targets:
        function = function_at(root, head, target.path, target.qualname)
        if function is None:
            continue
        span = function.end_line - function.first_line + 1
        head_text = file_at(root, head, target.path) or ""
        head_lines = head_text.splitlines()
        hot_texts = {
            head_lines[line - 1].strip()
            for line in target.hot_lines
            if 0 < line <= len(head_lines) and head_lines[line - 1].strip()
        }
        for commit, hunk in _line_log(root, base, head, target.path, function):
            changed, added = _changed_code(hunk)
            if not changed:
                continue
            culprit = culprits.setdefault(commit.sha, Culprit(commit))
            weight = max(target.gained, 0.01)
            culprit.score += weight * min(1.0, changed / max(span, 1))
            if hot_texts & added:
                culprit.touched_hot = True
                culprit.score += weight * HOT_LINE_BONUS
            culprit.lines_changed += changed
            label = f"{target.path}:{target.qualname}"
            if label not in culprit.functions:
                culprit.functions.append(label)
            culprit.hunks.append(hunk)
    return sorted(culprits.values(), key=lambda c: (-c.score, c.commit.date), reverse=False)


def _line_log(
    root: Path, base: str, head: str, path: str, function: SourceFunction
) -> list[tuple[Commit, str]]:
    """(commit, hunk) for each commit of base..head that changed the function's lines."""
    try:
        out = git(
            root, "log", "--no-ext-diff", "--no-textconv",
            "--format=%x1eCOMMIT%x00%H%x00%an%x00%aI%x00%s",
            f"-L{function.first_line},{function.end_line}:{path}", f"{base}..{head}",
        )  # fmt: skip
    except GitError:
        return []
    entries = []
    for chunk in out.split("\x1e")[1:]:
        header, _, body = chunk.partition("\n")
        fields = (header.removeprefix("COMMIT\x00").split("\x00") + ["", "", "", ""])[:4]
        entries.append((Commit(*fields), body.strip("\n")))
    return entries


def _changed_code(hunk: str) -> tuple[int, set[str]]:
    """Lines of code changed by a hunk (not comments or blank lines), and the added lines."""
    changed = 0
    added: set[str] = set()
    for line in hunk.splitlines():
        if line.startswith(("+++", "---")) or line[:1] not in ("+", "-"):
            continue
        code = line[1:].strip()
        if not code or code.startswith("#"):
            continue
        changed += 1
        if line.startswith("+"):
            added.add(code)
    return changed, added


def culprit_targets(
    change_key: str,
    figures_callees: dict[str, float],
    gains: dict[str, float],
    path: str,
    qualname: str,
    hot_lines: Sequence[int],
) -> list[Target]:
    """The regressed function plus its callees that gained share (their gains as weights)."""
    targets = [Target(path, qualname, gains.get(change_key, 0.0), tuple(hot_lines))]
    for callee in figures_callees:
        gained = gains.get(callee, 0.0)
        if gained > 0 and ":" in callee and callee != change_key:
            callee_path, callee_name = callee.rsplit(":", 1)
            targets.append(Target(callee_path, callee_name, gained))
    return targets
