"""What every perfpilot tool runs in: the registry, the argument types, the ToolContext.

Kept apart from the tools themselves so a module that registers tools (the defense's, the
agent's) can import the registry and the context without importing every other tool.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from perfpilot.tools.registry import ToolError, ToolRegistry

if TYPE_CHECKING:
    from perfpilot.skills.registry import SkillSet  # skills sit above tools
    from perfpilot.tools.function_edit import EditCheck
    from perfpilot.tools.profile_session import LoadedProfiles
    from perfpilot.tools.source_index import SourceFunction
    from perfpilot.tools.verify.verify_fix import VerifySettings

MAX_FILE_BYTES = 2 * 1024 * 1024
TOOLS = ToolRegistry()

Path_ = Annotated[str, "a workspace file, relative to the workspace root (e.g. pkg/mod.py)"]
Qualname = Annotated[str, "the function's qualified name, e.g. `parse` or `Parser.feed`"]
NewSource = Annotated[
    str, "the complete new definition of the function: decorators, def line and body"
]


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A function by file (absolute) and qualified name."""

    path: str
    qualname: str


@dataclass
class ToolContext:
    """What the tools read: the workspace, its loaded profiles and skills, unsaved buffers.

    `target`, when set, is the only function validate_edit and propose_edit accept.
    """

    root: Path
    loaded: LoadedProfiles | None = None
    skills: SkillSet | None = None
    texts: dict[str, str] = field(default_factory=dict)  # absolute path -> editor text
    python: tuple[int, int] | None = None
    target: FunctionRef | None = None
    proposals: list[tuple[FunctionRef, EditCheck, str]] = field(default_factory=list)
    # Set only when the user turned verification on: then proposals run on recorded calls.
    verify: VerifySettings | None = None

    def resolve(self, path: str) -> Path:
        """An absolute path inside the workspace; ToolError for anything else."""
        root = self.root.resolve()
        full = (root / path).resolve() if not os.path.isabs(path) else Path(path).resolve()
        if full != root and root not in full.parents:
            raise ToolError(f"{path}: outside the workspace")
        return full

    def relative(self, path: str | Path) -> str:
        """`path` relative to the root, '/'-separated."""
        return Path(os.path.relpath(Path(path).resolve(), self.root.resolve())).as_posix()

    def read(self, path: Path) -> str:
        """The text of a workspace file: the editor's buffer if open, else the file."""
        for candidate in (str(path), os.path.realpath(path)):
            if candidate in self.texts:
                return self.texts[candidate]
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ToolError(f"{self.relative(path)}: larger than {MAX_FILE_BYTES} bytes")
            return path.read_bytes().decode("utf-8", "replace")
        except OSError as exc:
            raise ToolError(f"{self.relative(path)}: cannot read ({exc.strerror})") from None

    def function(self, path: str, qualname: str) -> tuple[Path, str, SourceFunction]:
        """(file, text, function) for a path and qualname; ToolError naming the candidates."""
        from perfpilot.tools.source_index import index_source

        file = self.resolve(path)
        if file.suffix != ".py":
            raise ToolError(f"{path}: not a Python file")
        text = self.read(file)
        module = index_source(text, str(file), python_version=self.python)
        found = [f for f in module.by_qualname(qualname) if not f.is_lambda]
        if not found:
            names = [f.qualname for f in module.functions if not f.is_lambda]
            close = [n for n in names if n.rsplit(".", 1)[-1] == qualname.rsplit(".", 1)[-1]]
            hint = f"; did you mean {', '.join(close)}" if close else ""
            raise ToolError(f"{path}: no function `{qualname}`{hint}")
        return file, text, found[-1]
