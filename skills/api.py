"""What a deterministic skill's transform sees and returns: one function's source, in and out.

A transform never parses the whole module: libcst needs ~200 ms for a 2,000-line file, while
one function parses in a few milliseconds. It works on the function's own text and declares
what it needs at module level (an import, a compiled pattern) as separate additions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # libcst costs ~0.2 s to import: only when a skill parses a function
    import libcst as cst
    from libcst.metadata import CodeRange, MetadataWrapper

from perfpilot.tools.model import Applicability
from perfpilot.tools.module_facts import ModuleFacts

# An indented function (a method, a nested def) parses under this line; it is stripped again.
_WRAPPER = "if 1:\n"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FunctionSource:
    """One function as it stands in a file, with the profile's evidence about it."""

    path: str
    qualname: str
    first_line: int  # 1-based: the first decorator's line, else the def line
    end_line: int  # 1-based, inclusive: the last line of code of the body
    text: str  # lines first_line..end_line exactly as in the file, newline-terminated
    module: ModuleFacts
    in_class: bool = False  # a method: defined directly in a class body
    own_share: float | None = None  # % of the profile spent in it (None: not profile-guided)
    calls: int | None = None

    @property
    def name(self) -> str:
        """The bare name (last part of the qualname)."""
        return self.qualname.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Opportunity:
    """One place where a skill applies; positions are 1-based lines and columns in the file."""

    key: str  # stable within the function (e.g. "re.match#2"): how a fix is found again
    title: str  # imperative, for the quick fix: "Memoize `fib` with functools.cache"
    evidence: str  # why it is slow here, for the diagnostic message
    line: int
    column: int
    end_line: int
    end_column: int
    applicability: Applicability  # the most this instance can claim (<= the skill's)
    effect: float | None = None  # expected fraction of the function's time saved, if not default

    def numbered(self, items: Sequence[T]) -> T | None:
        """The item of `items` that the key numbers (`...#N`); None if it is no longer there.

        `find` numbers what it reports (`key=f"re.match#{index}"`); `rewrite` and `guard` find
        the same item again, in their own parse, with this.
        """
        _, _, number = self.key.partition("#")
        index = int(number) if number.isdigit() else -1
        return items[index] if 0 <= index < len(items) else None


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A transform's result: a new function text plus module-level additions, or a failure."""

    function_text: str | None = None
    imports: tuple[str, ...] = ()  # whole import statements, added when not present
    definitions: tuple[str, ...] = ()  # module-level statements, placed after the imports
    failure: str | None = None

    @classmethod
    def failed(cls, reason: str) -> Rewrite:
        """A rewrite that did not happen, and why."""
        return cls(failure=reason)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A function parsed with libcst; positions map back to the file."""

    source: FunctionSource
    module: cst.Module  # the snippet, wrapped in `if 1:` when the function is indented
    wrapper: MetadataWrapper
    function: cst.FunctionDef
    wrapped: bool

    def position(self, node: cst.CSTNode) -> CodeRange:
        """The node's range in the snippet (use `location` for file positions)."""
        from libcst.metadata import PositionProvider

        return self.wrapper.resolve(PositionProvider)[node]

    def location(self, node: cst.CSTNode) -> tuple[int, int, int, int]:
        """(line, column, end_line, end_column) of `node` in the file, 1-based."""
        code_range = self.position(node)
        offset = self.source.first_line - 1 - (1 if self.wrapped else 0)
        return (
            code_range.start.line + offset,
            code_range.start.column + 1,
            code_range.end.line + offset,
            code_range.end.column + 1,
        )

    def opportunity(
        self,
        node: cst.CSTNode,
        *,
        key: str,
        title: str,
        evidence: str,
        applicability: Applicability,
        effect: float | None = None,
    ) -> Opportunity:
        """An opportunity located where `node` stands in the file (see `Opportunity`)."""
        line, column, end_line, end_column = self.location(node)
        return Opportunity(
            key, title, evidence, line, column, end_line, end_column, applicability, effect
        )

    def code(self, node: cst.CSTNode) -> str:
        """The source text of `node` as libcst renders it."""
        return self.module.code_for_node(node)

    def render(self, new_module: cst.Module) -> str:
        """The function text of a transformed snippet, without the wrapper."""
        code = new_module.code
        return code[len(_WRAPPER) :] if self.wrapped else code


def parse_function(source: FunctionSource) -> Parsed:
    """Parse one function's text; raises libcst.ParserSyntaxError if it does not parse."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper

    wrapped = source.text[:1] in (" ", "\t")
    text = _WRAPPER + source.text if wrapped else source.text
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    body = module.body[0]
    if wrapped:
        assert isinstance(body, cst.If)
        body = body.body.body[0]  # type: ignore[union-attr]
    if not isinstance(body, cst.FunctionDef):
        raise ValueError(f"{source.qualname}: expected a def at line {source.first_line}")
    return Parsed(source, module, wrapper, body, wrapped)


@dataclass
class Transform:
    """Base of a deterministic skill: find opportunities in a function, rewrite one of them.

    Subclasses override `find` and `rewrite`, and `guard` when the skill has its own static
    check of the rewritten function (stage 4 of validation). None of them may raise for a
    reason that is the user's code: the runner turns an exception into a failure anyway.
    """

    name: str = ""
    code: str = ""
    applicability: Applicability = Applicability.UNSAFE
    effect: float = 0.2  # default expected fraction of a function's time saved
    min_python: tuple[int, int] = (3, 0)  # the oldest target version where it helps
    max_python: tuple[int, int] | None = None  # the newest, when measured to stop helping
    reads_module: bool = False  # `find` reads the whole module (`source.module.source`)
    notes: list[str] = field(default_factory=list)

    def find(self, parsed: Parsed) -> Sequence[Opportunity]:
        """Opportunities in the function (never inside its nested functions)."""
        raise NotImplementedError

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Apply one opportunity found by `find` on this same parse."""
        raise NotImplementedError

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """A reason to refuse the rewritten function, or None when it passes."""
        return None
