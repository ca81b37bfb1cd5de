"""The analysis pipeline: parse and enrich concurrently, then aggregate."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .enrich import EnrichedRecord, Enricher, enrich_all, flag_blocked
from .parsing import LogRecord, parse_log
from .stats import DEFAULT_TARGETS_MS, TrafficStats, compute_stats, find_slow_requests

_DONE = None


@dataclass
class Analysis:
    """Everything the report needs about one batch of log lines."""

    items: list[EnrichedRecord]
    malformed: int
    stats: TrafficStats
    slow_by_route: Counter[str]
    blocked_requests: int


async def _produce(
    lines: Sequence[str], queue: asyncio.Queue[list[LogRecord] | None], chunk_size: int
) -> int:
    malformed = 0
    for start in range(0, len(lines), chunk_size):
        records, bad = parse_log(lines[start : start + chunk_size])
        malformed += bad
        await queue.put(records)
    await queue.put(_DONE)
    return malformed


async def _consume(
    queue: asyncio.Queue[list[LogRecord] | None], enricher: Enricher
) -> list[EnrichedRecord]:
    enriched: list[EnrichedRecord] = []
    while (batch := await queue.get()) is not _DONE:
        enriched.extend(enrich_all(batch, enricher))
    return enriched


async def parse_and_enrich(
    lines: Sequence[str], enricher: Enricher, chunk_size: int = 2000
) -> tuple[list[EnrichedRecord], int]:
    """Parse lines in chunks and enrich each chunk as soon as it is ready."""
    queue: asyncio.Queue[list[LogRecord] | None] = asyncio.Queue(maxsize=4)
    producer = asyncio.create_task(_produce(lines, queue, chunk_size))
    enriched = await _consume(queue, enricher)
    malformed = await producer
    return enriched, malformed


def analyze(
    lines: Sequence[str],
    blocklist: list[str] | None = None,
    targets_ms: Mapping[str, float] = DEFAULT_TARGETS_MS,
    chunk_size: int = 2000,
) -> Analysis:
    """Run the whole analysis over access-log lines."""
    enricher = Enricher()
    items, malformed = asyncio.run(parse_and_enrich(lines, enricher, chunk_size))
    # Logs from several front ends arrive interleaved; put them back in time order.
    items.sort(key=lambda item: (item.record.timestamp, item.record.ip))
    blocked = flag_blocked(items, blocklist or [])
    stats = compute_stats(items)
    slow = find_slow_requests(items, targets_ms)
    return Analysis(
        items=items,
        malformed=malformed,
        stats=stats,
        slow_by_route=slow,
        blocked_requests=blocked,
    )
