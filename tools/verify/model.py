"""Typed results of verification: what a capture holds and the verdict on a fix."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class VerdictKind(str, enum.Enum):
    """What measuring a fix on recorded inputs concluded."""

    FASTER = "faster"
    NOT_FASTER = "not faster"
    DIFFERS = "differs"
    NONDETERMINISTIC = "nondeterministic"
    UNVERIFIED = "unverified"


@dataclass(frozen=True, slots=True)
class FunctionCapture:
    """The header of one function's capture (read without unpickling anything)."""

    path: str  # absolute path of the function's file when it was captured
    qualname: str
    module: str  # the module name the program imported it under
    sys_path: tuple[str, ...]  # the program's import path, to import the module again
    python: str  # the interpreter that ran the program
    cwd: str
    source_hash: str  # hash of the function's source when captured
    calls_seen: int  # every call of the function (outermost calls only)
    recorded: int  # calls kept (a spread sample of the run)
    skipped_unpicklable: int
    skipped_too_large: int
    created: float  # time.time()
    unpicklable_reason: str = ""  # the first pickling error ("arguments: TypeError: ...")
    sampled_until: int = 0  # sampling stopped at this call (pickling budget); 0: whole run


@dataclass(frozen=True, slots=True)
class CaptureRun:
    """What `perfpilot capture` did: the program's exit status and a capture per function."""

    returncode: int
    seconds: float
    captures: tuple[FunctionCapture, ...]
    not_found: tuple[str, ...]  # requested functions the program never imported or called
    stored: tuple[str, ...]  # where the captures were written


@dataclass(frozen=True, slots=True)
class Difference:
    """The first recorded input on which the fixed function behaves differently."""

    call: int  # position in the recorded sequence (0-based)
    aspect: str  # "return value", "exception", "argument mutation", "output"
    input: str  # truncated repr of the arguments
    original: str  # truncated repr of what the original did
    fixed: str  # truncated repr of what the fixed version did
    detail: str = ""  # where inside the values they differ (e.g. "[3].name")


@dataclass(frozen=True, slots=True)
class Speed:
    """Interleaved A/B timing on the recorded sequence, with its A/A noise floor."""

    speedup: float  # original time / fixed time on the recorded sequence (>1: faster)
    low: float  # bootstrap 95% confidence interval of the speedup
    high: float
    noise: float  # A/A: how far the original differed from itself (0.03 = 3%)
    required: float  # the speedup the lower bound had to exceed to count as faster
    calls: int
    rounds: int
    original_us: float  # median per-call time of the original, microseconds
    fixed_us: float

    @property
    def slower(self) -> bool:
        """Slower beyond the A/A noise: the interval's upper bound below 1 - noise.

        The mirror of "faster" (lower bound above 1 + noise): the original timed against
        itself strays by `noise`, so an interval inside that band says nothing either way.
        """
        return self.high < 1.0 - self.noise


@dataclass(frozen=True, slots=True)
class TestRun:
    """The project's tests that cover the function, run against the original and fixed file."""

    covering: tuple[str, ...]  # pytest node ids
    passed_before: int
    broken: tuple[str, ...]  # passed with the original, fail with the fix
    note: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of verifying one fix; it can only lower the fix's applicability."""

    kind: VerdictKind
    summary: str  # one line a person reads, with the figures
    calls: int = 0  # recorded calls replayed
    speed: Speed | None = None
    difference: Difference | None = None
    tests: TestRun | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    @property
    def label(self) -> str:
        """The verdict's short name ("faster", "not faster", ...)."""
        return self.kind.value
