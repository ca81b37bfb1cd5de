"""Root cause: the commits of base..head that changed a regressed function or its slower callees.

Each target function's span comes from the source index of its file at head; `git log -L`
follows that span back through base..head and gives, per commit, the hunk inside it. A
commit scores by how much of the target's code it changed (comments and blank lines do not
count), weighted by how much share the target gained, with a bonus when it added or changed
one of the target's hot lines (the lines the head profile found the time on).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfpilot.tools.defense.repo import Commit, GitError, file_at, git
from perfpilot.tools.source_index import SourceFunction, index_source

HOT_LINE_BONUS = 1.0
RENAME_WEIGHT = 0.1
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+\.?\d*|\S")


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
            changed, lines, added = _changed_code(hunk)
            if lines == 0:
                continue
            culprit = culprits.setdefault(commit.sha, Culprit(commit))
            weight = max(target.gained, 0.01)
            culprit.score += weight * min(1.0, changed / max(span, 1))
            if hot_texts & added:
                culprit.touched_hot = True
                culprit.score += weight * HOT_LINE_BONUS
            culprit.lines_changed += lines
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


def _changed_code(hunk: str) -> tuple[float, int, set[str]]:
    """(weight, lines of code changed, added lines) of a hunk; comments and blanks not counted.

    A pure rename (removed and added lines equal up to a consistent renaming of names that
    are not called) changes no cost: its lines count a tenth.
    """
    removed: list[str] = []
    added: list[str] = []
    for line in hunk.splitlines():
        if line.startswith(("+++", "---")) or line[:1] not in ("+", "-"):
            continue
        code = line[1:].strip()
        if not code or code.startswith("#"):
            continue
        (added if line.startswith("+") else removed).append(code)
    lines = len(removed) + len(added)
    weight = lines * (RENAME_WEIGHT if removed and _renamed_only(removed, added) else 1.0)
    return weight, lines, set(added)


def _renamed_only(removed: list[str], added: list[str]) -> bool:
    """True when `added` is `removed` with some names consistently renamed (not calls)."""
    if len(removed) != len(added):
        return False
    mapping: dict[str, str] = {}
    for old_line, new_line in zip(removed, added):
        old_tokens, new_tokens = _TOKEN.findall(old_line), _TOKEN.findall(new_line)
        if len(old_tokens) != len(new_tokens):
            return False
        for index, (old, new) in enumerate(zip(old_tokens, new_tokens)):
            if old == new:
                continue
            if not (old.isidentifier() and new.isidentifier()):
                return False
            following = old_tokens[index + 1] if index + 1 < len(old_tokens) else ""
            if following == "(" or mapping.setdefault(old, new) != new:
                return False
    return bool(mapping)


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
