"""Per-stage wall-clock accounting, shown by the CLI's ``--timings`` flag."""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Callable
from operator import itemgetter
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

STAGE_SECONDS: defaultdict[str, float] = defaultdict(float)


def timed(stage: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Accumulate the wall time spent in the decorated function under ``stage``."""

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                STAGE_SECONDS[stage] += time.perf_counter() - start

        return wrapper

    return decorator


def stage_report() -> str:
    """Format the accumulated stage timings, slowest first."""
    rows = sorted(STAGE_SECONDS.items(), key=itemgetter(1), reverse=True)
    return "\n".join(f"{name:<12} {seconds * 1000:9.1f} ms" for name, seconds in rows)
