"""Deterministic workload for the loganalyzer example.

Generates synthetic access-log lines in memory (fixed seed), runs the full analysis
and prints a short summary. Run from the repository root or from ``examples/``:

    python examples/workload.py [--lines N] [--seed S]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import sys
import uuid
from itertools import accumulate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from loganalyzer import analyze, load_blocklist, render_report  # noqa: E402

DEFAULT_LINES = 25_000
DEFAULT_SEED = 20240311
DAY = "11/Mar/2024"
PEAK_FRACTION = 15 / 24
DIURNAL_SWING = 0.6
POOL_REUSE = 25  # each generated request appears this many times in a row

# (path template, weight, typical latency in seconds)
ROUTES = [
    ("/", 8, 0.040),
    ("/index.html", 3, 0.035),
    ("/static/app.js", 10, 0.008),
    ("/static/app.css", 8, 0.006),
    ("/api/products", 9, 0.090),
    ("/api/products/{n}", 14, 0.050),
    ("/api/users/{n}/orders", 6, 0.120),
    ("/api/orders/{uuid}", 5, 0.070),
    ("/api/search?q={word}", 9, 0.180),
    ("/api/cart", 6, 0.060),
    ("/api/checkout", 2, 0.350),
    ("/login", 3, 0.100),
    ("/wp-login.php", 1, 0.004),
    ("/.env", 1, 0.003),
]
ROUTE_CUM_WEIGHTS = list(accumulate(weight for _, weight, _ in ROUTES))
WORDS = ["shoes", "lamp", "coffee", "desk", "cable", "chair", "tent", "kettle"]

BROWSER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
]
BOT_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; "
    "+https://openai.com/gptbot)",
]
FAKE_BOT_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebott/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; Bingbott/2.0)",
    "Mozilla/5.0 (compatible; Yandex-Bot/3.0; crawler)",
    "SemrushBott/7~bl (spider; +http://www.semrush.com/bot.html)",
]
SCRIPT_AGENTS = ["curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "Wget/1.21.4"]
OTHER_AGENTS = [
    "Mozilla/5.0 zgrab/0.x",
    "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Mobile",
    "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
    "-",
]
APP_AGENTS = [
    "ShopApp/4.12.0 (com.example.shop; build:4120; iOS 17.3.1) Alamofire/5.8.1",
    "ShopApp/4.11.2 (com.example.shop; build:4112; Android 14; Pixel 8)",
    "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)",
    "UptimeRobot/2.0 (http://www.uptimerobot.com/)",
]
AGENT_GROUPS = [
    (BROWSER_AGENTS, 64),
    (APP_AGENTS, 2),
    (BOT_AGENTS, 9),
    (FAKE_BOT_AGENTS, 1),
    (SCRIPT_AGENTS, 6),
    (OTHER_AGENTS, 2),
]


def random_ip(rng: random.Random) -> str:
    """A random public-looking IPv4 address."""
    return ".".join(str(part) for part in (rng.randint(1, 223), *rng.choices(range(256), k=3)))


def make_clients(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Client pool: (address, user agent) pairs; each client keeps its agent."""
    groups = [agents for agents, _ in AGENT_GROUPS]
    weights = [weight for _, weight in AGENT_GROUPS]
    return [
        (random_ip(rng), rng.choice(rng.choices(groups, weights)[0])) for _ in range(count)
    ]


def make_line(rng: random.Random, second: int, client: tuple[str, str]) -> str:
    """One combined-format access-log line with the request time appended."""
    ip, agent = client
    template, _, typical = rng.choices(ROUTES, cum_weights=ROUTE_CUM_WEIGHTS)[0]
    if "{n}" in template:
        path = template.replace("{n}", str(rng.randint(1, 5000)))
    elif "{uuid}" in template:
        path = template.replace("{uuid}", str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    elif "{word}" in template:
        path = template.replace("{word}", rng.choice(WORDS))
    else:
        path = template
    method = "POST" if template in ("/api/checkout", "/login") else "GET"
    roll = rng.random()
    if template in ("/wp-login.php", "/.env"):
        status = 404
    elif roll < 0.02:
        status = rng.choice((500, 502, 503))
    elif roll < 0.05:
        status = 304 if template.startswith("/static") else 404
    else:
        status = 200
    latency = typical * rng.lognormvariate(0.0, 0.6)
    if roll > 0.995:
        latency *= 8
    size = rng.randint(200, 60_000) if status == 200 else "-"
    hours, rest = divmod(second, 3600)
    stamp = f"{DAY}:{hours:02d}:{rest // 60:02d}:{rest % 60:02d} +0000"
    return (
        f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} '
        f'"-" "{agent}" {latency:.3f}'
    )


def time_of_day(fraction: float) -> float:
    """Map a position in the day's traffic to seconds after midnight (busiest mid-afternoon)."""
    shift = 2 * math.pi * PEAK_FRACTION
    wave = math.sin(2 * math.pi * fraction - shift) + math.sin(shift)
    return 86_400 * (fraction - DIURNAL_SWING * wave / (2 * math.pi))


def generate(count: int, seed: int) -> tuple[list[str], list[str]]:
    """Return (log lines, blocklist lines) for a synthetic day of traffic."""
    rng = random.Random(seed)
    clients = make_clients(rng, max(50, count // 25))
    attackers = rng.sample(clients, k=len(clients) // 40)
    blocklist = [ip for ip, _ in attackers] + [random_ip(rng) for _ in range(300)]
    rng.shuffle(blocklist)
    # A pool of distinct requests, drawn from repeatedly: the analysis, not the generator,
    # should dominate the profile.
    distinct = -(-count // POOL_REUSE)  # rounded up: at least `count` lines
    pool = []
    for index in range(distinct):
        client = rng.choice(attackers) if rng.random() < 0.03 else rng.choice(clients)
        second = min(max(int(time_of_day(index / distinct) + rng.uniform(-30, 30)), 0), 86_399)
        pool.append(make_line(rng, second, client))
        if rng.random() < 0.002:
            pool[-1] = pool[-1][: rng.randint(10, 60)]
    # Each request comes back POOL_REUSE times in a row: the log stays in time order.
    lines = [line for line in pool for _ in range(POOL_REUSE)][:count]
    header = [f"# generated blocklist, seed {seed}", ""]
    return lines, header + blocklist


def main(argv: list[str] | None = None) -> int:
    """Generate the workload, analyse it and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=DEFAULT_LINES, help="log lines to generate")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)

    lines, blocklist_lines = generate(args.lines, args.seed)
    analysis = analyze(lines, load_blocklist("\n".join(blocklist_lines)))
    report = render_report(analysis)
    stats = analysis.stats

    print(f"loganalyzer workload: {args.lines} lines, seed {args.seed}")
    print("== Summary ==")
    print(f"requests parsed:   {stats.requests}")
    print(f"malformed lines:   {analysis.malformed}")
    print(f"unique clients:    {len(stats.clients)}")
    print(f"blocked requests:  {analysis.blocked_requests}")
    print(f"slow requests:     {sum(analysis.slow_by_route.values())}")
    print("== Status classes ==")
    for name, count in sorted(stats.status_classes.items()):
        print(f"{name}: {count}")
    print("== Clients ==")
    for kind, count in sorted(stats.agent_kinds.items()):
        print(f"{kind}: {count}")
    print("== Top routes ==")
    for route, count in stats.routes.most_common(5):
        print(f"{route}: {count}")
    print("== Report ==")
    print(f"report lines: {report.count(chr(10))}")
    print(f"report sha256: {hashlib.sha256(report.encode()).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
