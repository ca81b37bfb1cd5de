"""Aggregation of enriched requests: counters, per-route latencies, percentiles."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .enrich import EnrichedRecord
from .timing import timed

PERCENTILES: tuple[float, ...] = (50.0, 90.0, 95.0, 99.0)

# Latency objectives per route, in milliseconds.
DEFAULT_TARGETS_MS: dict[str, float] = {
    "/": 120.0, "/index.html": 120.0, "/healthz": 20.0, "/metrics": 50.0,
    "/robots.txt": 20.0, "/favicon.ico": 20.0, "/static/app.js": 60.0,
    "/static/app.css": 60.0, "/static/vendor.js": 80.0, "/login": 250.0, "/logout": 100.0,
    "/api/products": 250.0, "/api/products/{id}": 150.0, "/api/products/{id}/reviews": 200.0,
    "/api/categories": 120.0, "/api/users/{id}": 150.0, "/api/users/{id}/orders": 300.0,
    "/api/orders": 300.0, "/api/orders/{uuid}": 200.0, "/api/search": 450.0,
    "/api/suggest": 120.0, "/api/cart": 200.0, "/api/cart/items": 200.0,
    "/api/checkout": 800.0, "/api/payments/{uuid}": 900.0, "/api/shipping/quote": 600.0,
    "/admin": 500.0, "/admin/reports": 2000.0,
}
# Version 2 of the API answers from a cache in front of the same services: a tighter target.
DEFAULT_TARGETS_MS |= {
    f"/api/v2{route[4:]}": target * 0.6
    for route, target in DEFAULT_TARGETS_MS.items()
    if route.startswith("/api/")
}
# The mobile site (/m/...) and the beta (/beta/...) mirror every route on their own servers.
DEFAULT_TARGETS_MS |= {
    f"{prefix}{route}": target * factor
    for prefix, factor in (("/m", 1.5), ("/beta", 1.2))
    for route, target in DEFAULT_TARGETS_MS.items()
}


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Return the pct-th percentile of already-sorted values (linear interpolation)."""
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = rank - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def latency_summary(values: Iterable[float]) -> dict[str, float]:
    """Summarise latencies: count, mean, the usual percentiles and the maximum."""
    ordered = sorted(values)
    summary = {"count": float(len(ordered)), "mean": statistics.fmean(ordered) if ordered else 0.0}
    for pct in PERCENTILES:
        summary[f"p{pct:g}"] = percentile(ordered, pct)
    summary["max"] = ordered[-1] if ordered else 0.0
    return summary


@dataclass
class TrafficStats:
    """Running totals over a stream of enriched requests."""

    requests: int = 0
    bytes_sent: int = 0
    status_classes: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    route_errors: Counter[str] = field(default_factory=Counter)
    route_latencies: dict[str, list[float]] = field(default_factory=dict)
    clients: Counter[str] = field(default_factory=Counter)
    agent_kinds: Counter[str] = field(default_factory=Counter)
    browsers: Counter[str] = field(default_factory=Counter)
    bots: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    hourly: Counter[int] = field(default_factory=Counter)
    blocked_hits: Counter[str] = field(default_factory=Counter)
    status_codes: Counter[int] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    route_bytes: Counter[str] = field(default_factory=Counter)

    def add(self, item: EnrichedRecord) -> None:
        """Fold one request into the totals."""
        record = item.record
        self.requests += 1
        self.bytes_sent += record.size
        self.status_classes[f"{record.status // 100}xx"] += 1
        self.status_codes[record.status] += 1
        self.methods[record.method] += 1
        self.routes[item.route] += 1
        self.route_bytes[item.route] += record.size
        if record.status >= 500:
            self.route_errors[item.route] += 1
        latencies = self.route_latencies.get(item.route)
        if latencies is None:
            latencies = self.route_latencies[item.route] = []
        latencies.append(record.latency_ms)
        self.clients[record.ip] += 1
        kind = item.agent.kind
        self.agent_kinds[kind] += 1
        if kind == "browser":
            self.browsers[item.agent.name] += 1
        elif kind == "bot" or kind == "suspected-bot":
            self.bots[f"{item.agent.name} ({kind})"] += 1
        self.regions[item.region] += 1
        self.hourly[record.timestamp.hour] += 1
        if item.blocked:
            self.blocked_hits[record.ip] += 1

    def error_rate(self, route: str) -> float:
        """Fraction of requests to route that failed with a 5xx status."""
        total = self.routes.get(route, 0)
        return self.route_errors.get(route, 0) / total if total else 0.0


@timed("stats")
def compute_stats(items: Iterable[EnrichedRecord]) -> TrafficStats:
    """Aggregate a sequence of enriched requests."""
    stats = TrafficStats()
    for item in items:
        stats.add(item)
    return stats


def find_slow_requests(
    items: Iterable[EnrichedRecord],
    targets_ms: Mapping[str, float] = DEFAULT_TARGETS_MS,
    tolerance: float = 1.5,
) -> Counter[str]:
    """Count, per route, the requests slower than the route's latency target."""
    slow: Counter[str] = Counter()
    for item in items:
        default_target = statistics.median(targets_ms.values())
        target = targets_ms.get(item.route, default_target) * tolerance
        if item.record.latency_ms > target:
            slow[item.route] += 1
    return slow


def route_row(stats: TrafficStats, route: str) -> tuple[str, int, float, float, float]:
    """One (route, requests, p50, p95, error rate) row for the routes table."""
    ordered = sorted(stats.route_latencies[route])
    return (
        route,
        stats.routes[route],
        percentile(ordered, 50),
        percentile(ordered, 95),
        stats.error_rate(route),
    )


def route_table(stats: TrafficStats, top: int) -> list[tuple[str, int, float, float, float]]:
    """Rows for the busiest routes, busiest first."""
    return [route_row(stats, route) for route, _ in stats.routes.most_common(top)]
