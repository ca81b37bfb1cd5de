"""Plain-text rendering of an Analysis."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .enrich import EnrichedRecord
from .pipeline import Analysis
from .stats import latency_summary, route_table
from .timing import timed

BAR_WIDTH = 40


def heading(title: str) -> list[str]:
    """A section title underlined with dashes."""
    return ["", title, "-" * len(title)]


def counter_lines(counter: Counter[str], total: int, top: int | None = None) -> list[str]:
    """Render 'name  count  share' rows for the most common entries of a counter."""
    return [
        f"  {name:<32} {count:>8}  {100.0 * count / total:5.1f}%"
        for name, count in counter.most_common(top)
    ]


def hourly_histogram(hourly: Counter[int]) -> list[str]:
    """One bar per hour of the day, scaled to the busiest hour."""
    peak = max(hourly.values(), default=0) or 1
    return [
        f"  {hour:02d}:00 {'#' * round(BAR_WIDTH * hourly[hour] / peak):<{BAR_WIDTH}} "
        f"{hourly[hour]:>7}"
        for hour in range(24)
    ]


def render_incidents(items: Iterable[EnrichedRecord]) -> str:
    """List every blocked, failed or bot-impersonating request, one per line."""
    text = ""
    for item in items:
        record = item.record
        if item.blocked:
            reason = "blocked address"
        elif record.status >= 500:
            reason = "server error"
        elif item.agent.kind == "suspected-bot":
            reason = f"impersonates {item.agent.name}"
        elif record.status == 404:
            reason = "not found"
        else:
            continue
        text += (
            f"  {record.timestamp:%Y-%m-%d %H:%M:%S}  {record.ip:<15} {item.region:<14} "
            f"{item.agent.kind:<13} {record.method:<6} {item.route[:30]:<30} {record.status}"
            f"  {record.latency_ms:9.1f}  {reason}\n"
        )
    return text


@timed("report")
def render_report(analysis: Analysis, top: int = 10) -> str:
    """Render the full text report."""
    stats = analysis.stats
    total = stats.requests or 1
    lines = ["Access log report", "================="]
    if analysis.items:
        first = analysis.items[0].record.timestamp
        last = analysis.items[-1].record.timestamp
        lines.append(f"Period:            {first:%Y-%m-%d %H:%M:%S} .. {last:%Y-%m-%d %H:%M:%S}")
    lines += [
        f"Requests:          {stats.requests}",
        f"Malformed lines:   {analysis.malformed}",
        f"Unique clients:    {len(stats.clients)}",
        f"Data sent:         {stats.bytes_sent / 2**20:.1f} MiB",
        f"Blocked requests:  {analysis.blocked_requests}",
    ]

    lines += heading("Status codes")
    lines += counter_lines(stats.status_classes, total)
    lines += counter_lines(stats.status_codes, total)
    lines += heading("Methods")
    lines += counter_lines(stats.methods, total)
    lines += heading("Most data sent")
    lines += counter_lines(stats.route_bytes, stats.bytes_sent or 1, top)

    lines += heading("Top routes")
    lines.append(f"  {'route':<32} {'requests':>8} {'p50 ms':>9} {'p95 ms':>9} {'5xx':>6} slow")
    for route, count, p50, p95, error_rate in route_table(stats, top):
        slow = analysis.slow_by_route.get(route, 0)
        lines.append(
            f"  {route[:32]:<32} {count:>8} {p50:9.1f} {p95:9.1f} {100 * error_rate:5.1f}% {slow}"
        )

    lines += heading("Latency (ms)")
    summary = latency_summary(item.record.latency_ms for item in analysis.items)
    lines.append("  " + "  ".join(f"{key}={value:.1f}" for key, value in summary.items()))

    lines += heading("Clients")
    lines += counter_lines(stats.agent_kinds, total)
    lines += heading("Browsers")
    lines += counter_lines(stats.browsers, total)
    lines += heading("Crawlers")
    lines += counter_lines(stats.bots, total, top)
    lines += heading("Regions")
    lines += counter_lines(stats.regions, total)
    lines += heading("Busiest clients")
    lines += counter_lines(stats.clients, total, top)
    lines += heading("Blocked clients")
    lines += counter_lines(stats.blocked_hits, total, top)
    lines += heading("Traffic by hour (UTC)")
    lines += hourly_histogram(stats.hourly)
    lines += heading("Incidents")
    return "\n".join(lines) + "\n" + render_incidents(analysis.items)
