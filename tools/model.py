"""The normalized profile model shared by every loader, the mapping and every surface."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from perfpilot.tools.verify.model import Verdict


class ProfileError(Exception):
    """A profile could not be read; `source` names the file and the message says what is wrong."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class FunctionKey(NamedTuple):
    """Identity of a function as the profiler recorded it.

    `line` is the def line as the profiler reports it (co_firstlineno: the first decorator line for
    a decorated function), or 0 when the profiler only records executing lines (py-spy, Austin);
    `name` is the bare name, or the qualified name when there is no def line to tell two
    same-named functions of one file apart.

    A NamedTuple rather than a dataclass: profiles hold tens of thousands of keys, and tuple
    hashing and equality run in C.
    """

    file: str
    line: int
    name: str


@dataclass(slots=True)
class FunctionStats:
    """Measured cost of one function, in the unit of its profile."""

    key: FunctionKey
    qualname: str | None = None
    self_time: float = 0.0
    # Inclusive time, counted once per stack even under recursion.
    total_time: float = 0.0
    calls: int | None = None
    # Executing line -> self time spent on it; empty when the format has no line data.
    line_times: dict[int, float] = field(default_factory=dict)
    # Caller key -> inclusive time of this function when called from that caller.
    callers: dict[FunctionKey, float] = field(default_factory=dict)
    # Callee key -> inclusive time of that callee when called from this function.
    callees: dict[FunctionKey, float] = field(default_factory=dict)


@dataclass(slots=True)
class Frame:
    """One stack frame of a sampled profile.

    `line` is the executing line (py-spy, Austin, pprof) and `def_line` the def line as
    co_firstlineno reports it (pyinstrument, pprof); either is 0 when the format lacks it.
    """

    file: str
    name: str
    line: int = 0
    def_line: int = 0
    qualname: str | None = None


@dataclass(slots=True)
class Stacks:
    """Unique call stacks with their weight: frames are indexes into `frames`, root first."""

    frames: list[Frame] = field(default_factory=list)
    stacks: dict[tuple[int, ...], float] = field(default_factory=dict)


@dataclass(slots=True)
class Profile:
    """A loaded profile, normalized.

    `total` is what 100 % means (sum of self times, or of sample weights), in `unit`
    ("seconds" or "samples"). `duration` is the wall-clock length in seconds when known.
    """

    format: str
    unit: str
    source: str
    total: float
    duration: float | None = None
    functions: dict[FunctionKey, FunctionStats] = field(default_factory=dict)
    stacks: Stacks | None = None
    # Extra facts a loader wants to keep (sample interval, profiler version, ...).
    meta: dict[str, str] = field(default_factory=dict)
    # How many samples a sampler took, when the format says (a share's precision hangs on it).
    samples: int | None = None

    def share(self, value: float) -> float:
        """Return `value` as a percentage of the profile's total."""
        return 100.0 * value / self.total if self.total > 0 else 0.0


class Applicability(enum.IntEnum):
    """How far a fix may be trusted; ordered like ruff's: SAFE > UNSAFE > DISPLAY_ONLY."""

    DISPLAY_ONLY = 0
    UNSAFE = 1
    SAFE = 2


class Severity(enum.IntEnum):
    """Severity of a finding, numbered like LSP's DiagnosticSeverity."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4


@dataclass(slots=True)
class Finding:
    """One thing to tell the user, located in a file (1-based line and column)."""

    code: str
    message: str
    path: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    severity: Severity = Severity.INFORMATION
    # Machine-readable evidence (shares, calls, qualname, ...) for JSON/SARIF/LSP surfaces.
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace whole lines [start_line, end_line) (0-based) with `new_text`."""

    start_line: int
    end_line: int
    new_text: str


@dataclass(frozen=True, slots=True)
class StageResult:
    """The outcome of one validation stage, with the reason a person reads."""

    stage: str  # "transform", "syntax", "style", "guard"
    passed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A validated change: edits against one version of a file, and how far to trust them.

    `edits` is empty when a stage refused the fix; `refusal` then says which and why.
    """

    title: str
    applicability: Applicability
    edits: tuple[TextEdit, ...]
    stages: tuple[StageResult, ...]
    refusal: str | None = None
    # Stage 5, when asked: behaviour and speed measured on recorded inputs (never raises
    # applicability; see perfpilot.tools.verify).
    verdict: Verdict | None = None

    @property
    def applicable(self) -> bool:
        """True when the fix passed every stage and has edits to apply."""
        return self.refusal is None and bool(self.edits)
