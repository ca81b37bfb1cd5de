"""Parsing of access-log lines in the "combined" format plus the request time."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .timing import timed

_MONTHS = {
    name: number
    for number, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}


class ParseError(ValueError):
    """Raised when a line is not a valid access-log entry."""


@dataclass(slots=True)
class LogRecord:
    """One request taken from an access log."""

    ip: str
    timestamp: datetime
    method: str
    path: str
    protocol: str
    status: int
    size: int
    referrer: str
    user_agent: str
    latency_ms: float


@functools.lru_cache(maxsize=4096)  # a busy log repeats each second many times
def parse_timestamp(raw: str) -> datetime:
    """Parse a ``10/Oct/2023:13:55:36 +0000`` timestamp into an aware datetime."""
    try:
        day, month, year = int(raw[0:2]), _MONTHS[raw[3:6]], int(raw[7:11])
        hour, minute, second = int(raw[12:14]), int(raw[15:17]), int(raw[18:20])
        offset = raw[21:26]
        if offset == "+0000":
            tz = timezone.utc
        else:
            sign = -1 if offset[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except (KeyError, ValueError, IndexError) as exc:
        raise ParseError(f"bad timestamp {raw!r}") from exc


def parse_line(line: str) -> LogRecord:
    """Parse one access-log line into a LogRecord."""
    match = re.match(
        r'(?P<ip>[0-9A-Fa-f.:]+) \S+ \S+ \[(?P<time>[^\]]+)\] '
        r'"(?P<method>[A-Z]+) (?P<path>\S+) (?P<protocol>HTTP/[0-9.]+)" '
        r'(?P<status>\d{3}) (?P<size>\d+|-) "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)"'
        r'(?: (?P<request_time>\d+(?:\.\d+)?))?\s*$',
        line,
    )
    if match is None:
        raise ParseError(f"not an access-log line: {line[:60]!r}")
    size = match["size"]
    request_time = match["request_time"]
    return LogRecord(
        ip=match["ip"],
        timestamp=parse_timestamp(match["time"]),
        method=match["method"],
        path=match["path"],
        protocol=match["protocol"],
        status=int(match["status"]),
        size=0 if size == "-" else int(size),
        referrer=match["referrer"],
        user_agent=match["agent"],
        latency_ms=float(request_time) * 1000.0 if request_time else 0.0,
    )


@timed("parse")
def parse_log(lines: Iterable[str]) -> tuple[list[LogRecord], int]:
    """Parse lines, skipping blank ones; return the records and the malformed-line count."""
    records: list[LogRecord] = []
    malformed = 0
    for line in lines:
        if not line or line.isspace():
            continue
        try:
            records.append(parse_line(line))
        except ParseError:
            malformed += 1
    return records, malformed
