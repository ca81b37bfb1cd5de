"""Client classification: user agents, coarse IP regions and the blocklist."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .parsing import LogRecord

_ROUTE_RULES = (
    (re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "/{uuid}"),
    (re.compile(r"/[0-9a-f]{24,}"), "/{hash}"),
    (re.compile(r"/\d+(?=/|$)"), "/{id}"),
)

KNOWN_BOTS: tuple[str, ...] = (
    "googlebot", "bingbot", "yandexbot", "baiduspider", "duckduckbot", "applebot",
    "ahrefsbot", "semrushbot", "petalbot", "gptbot", "ccbot", "facebookexternalhit",
)
_KNOWN_BOT_NAMES = frozenset(KNOWN_BOTS)

SCRIPT_CLIENTS = frozenset(
    {"curl", "wget", "python-requests", "go-http-client", "okhttp", "httpie", "libwww-perl"}
)

BROWSER_FAMILIES: tuple[tuple[str, str], ...] = (
    ("edg", "Edge"), ("opr", "Opera"), ("firefox", "Firefox"), ("chrome", "Chrome"),
    ("safari", "Safari"),
)

FUZZY_MAX_DISTANCE = 3
FUZZY_MIN_TOKEN = 5

_TOKEN_RE = re.compile(r"[a-z][a-z0-9_-]+")

# (first address, last address, region) -- sorted, non-overlapping.
DEFAULT_GEO_RANGES: tuple[tuple[str, str, str], ...] = (
    ("1.0.0.0", "9.255.255.255", "apac"),
    ("10.0.0.0", "10.255.255.255", "internal"),
    ("11.0.0.0", "49.255.255.255", "north-america"),
    ("50.0.0.0", "79.255.255.255", "europe"),
    ("80.0.0.0", "95.255.255.255", "europe"),
    ("96.0.0.0", "126.255.255.255", "north-america"),
    ("127.0.0.0", "127.255.255.255", "loopback"),
    ("128.0.0.0", "171.255.255.255", "north-america"),
    ("172.16.0.0", "172.31.255.255", "internal"),
    ("175.0.0.0", "191.255.255.255", "south-america"),
    ("192.168.0.0", "192.168.255.255", "internal"),
    ("193.0.0.0", "195.255.255.255", "europe"),
    ("196.0.0.0", "197.255.255.255", "africa"),
    ("198.51.100.0", "198.51.100.255", "documentation"),
    ("200.0.0.0", "201.255.255.255", "south-america"),
    ("202.0.0.0", "223.255.255.255", "apac"),
)


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """What kind of client sent a request: browser, bot, suspected-bot, script or unknown."""

    kind: str
    name: str


@dataclass(slots=True)
class EnrichedRecord:
    """A parsed request plus everything we derived about it."""

    record: LogRecord
    route: str
    agent: AgentInfo
    region: str
    blocked: bool = False


def edit_distance(a: str, b: str, limit: int) -> int:
    """Return the Levenshtein distance between a and b, capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if not a or not b:
        return max(len(a), len(b))
    if a[0] == b[0]:
        return edit_distance(a[1:], b[1:], limit)
    if limit == 0:
        return 1
    return 1 + min(
        edit_distance(a[1:], b, limit - 1),
        edit_distance(a, b[1:], limit - 1),
        edit_distance(a[1:], b[1:], limit - 1),
    )


def guess_bot(tokens: Iterable[str]) -> str | None:
    """Return the known crawler that one of the tokens imitates (e.g. "googel-bot"), if any."""
    for token in tokens:
        if len(token) < FUZZY_MIN_TOKEN:
            continue
        for bot in KNOWN_BOTS:
            if edit_distance(token, bot, FUZZY_MAX_DISTANCE) <= FUZZY_MAX_DISTANCE:
                return bot
    return None


def classify_agent(user_agent: str) -> AgentInfo:
    """Classify a User-Agent header."""
    if not user_agent or user_agent == "-":
        return AgentInfo("unknown", "-")
    tokens = _TOKEN_RE.findall(user_agent.lower())
    for token in tokens:
        if token in _KNOWN_BOT_NAMES:
            return AgentInfo("bot", token)
        if token in SCRIPT_CLIENTS:
            return AgentInfo("script", token)
    if user_agent.startswith("Mozilla/"):
        present = set(tokens)
        for marker, family in BROWSER_FAMILIES:
            if marker in present:
                return AgentInfo("browser", family)
    imitated = guess_bot(tokens)
    if imitated is not None:
        return AgentInfo("suspected-bot", imitated)
    return AgentInfo("unknown", tokens[0] if tokens else "-")


def ip_to_int(ip: str) -> int:
    """Convert a dotted IPv4 address to an integer."""
    a, b, c, d = (int(part) for part in ip.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def make_geo_lookup(
    ranges: Sequence[tuple[str, str, str]] = DEFAULT_GEO_RANGES,
) -> Callable[[str], str]:
    """Build a function that maps an IPv4 address to a coarse region bucket."""
    starts = [ip_to_int(first) for first, _, _ in ranges]
    ends = [ip_to_int(last) for _, last, _ in ranges]
    names = [name for _, _, name in ranges]

    def region_of(ip: str) -> str:
        try:
            a, b, c, d = map(int, ip.split("."))
        except ValueError:
            return "ipv6" if ":" in ip else "invalid"
        value = (a << 24) | (b << 16) | (c << 8) | d
        index = bisect.bisect_right(starts, value) - 1
        if index >= 0 and value <= ends[index]:
            return names[index]
        return "other"

    return region_of


class Enricher:
    """Derives the route, client type and region of each request."""

    def __init__(self, geo_ranges: Sequence[tuple[str, str, str]] = DEFAULT_GEO_RANGES) -> None:
        self.region_of = make_geo_lookup(geo_ranges)
        self.regions: dict[str, str] = {}  # clients come back: look each address up once

    def enrich(self, record: LogRecord) -> EnrichedRecord:
        """Return the enriched form of one record."""
        # The route: the path without its query, ids and hashes replaced by placeholders.
        route = record.path.split("?", 1)[0].lower() or "/"
        for pattern, placeholder in _ROUTE_RULES:
            route = pattern.sub(placeholder, route)
        return EnrichedRecord(
            record=record,
            route=route,
            agent=classify_agent(record.user_agent),
            region=self.regions.get(record.ip) or self._new_region(record.ip),
        )

    def _new_region(self, ip: str) -> str:
        region = self.regions[ip] = self.region_of(ip)
        return region


def enrich_all(records: Iterable[LogRecord], enricher: Enricher) -> list[EnrichedRecord]:
    """Enrich a batch of records."""
    enriched = []
    for record in records:
        enriched.append(enricher.enrich(record))
    return enriched


def load_blocklist(text: str) -> list[str]:
    """Read a blocklist: one address per line, '#' starts a comment."""
    entries = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [entry for entry in entries if entry]


def flag_blocked(items: Iterable[EnrichedRecord], blocklist: list[str]) -> int:
    """Mark requests coming from blocklisted addresses; return how many were marked."""
    flagged = 0
    for item in items:
        if item.record.ip in blocklist:
            item.blocked = True
            flagged += 1
    return flagged
