"""loganalyzer: a small analyser for web-server access logs.

Parses combined-format access logs (with the request time appended, as nginx's
``$request_time``), classifies clients, aggregates traffic and latency statistics
and renders a plain-text report.
"""

from .enrich import EnrichedRecord, Enricher, classify_agent, load_blocklist
from .parsing import LogRecord, ParseError, parse_line, parse_log
from .pipeline import Analysis, analyze
from .report import render_report

__all__ = [
    "Analysis", "Enricher", "EnrichedRecord", "LogRecord", "ParseError", "analyze",
    "classify_agent", "load_blocklist", "parse_line", "parse_log", "render_report",
]

__version__ = "0.3.1"
