"""`regress --html FILE`: a self-contained report (inline SVG and CSS, no script, no network)."""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from perfpilot.tools.defense.detect import FunctionChange
from perfpilot.tools.defense.regress import RegressReport
from perfpilot.tools.defense.series import SeriesChange
from perfpilot.tools.model import Finding

# The report loads nothing: a Content-Security-Policy forbids every fetch.
_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }}
h1 {{ font-size: 1.4em; }} h2 {{ font-size: 1.15em; margin-top: 2em; }}
.fn {{ border: 1px solid #ddd; border-radius: 6px; padding: 1em 1.2em; margin: 1.2em 0; }}
.PP201, .PP202 {{ border-left: 6px solid #c0392b; }} .PP203 {{ border-left: 6px solid #27ae60; }}
.stats {{ color: #555; }} code {{ background: #f4f4f4; padding: 0 .2em; }}
pre.diff {{ background: #fafafa; border: 1px solid #eee; padding: .6em; overflow-x: auto; }}
.add {{ color: #1e7e34; }} .del {{ color: #b31d28; }} .meta {{ color: #6a737d; }}
svg text {{ font: 11px system-ui, sans-serif; fill: #444; }}
</style></head><body>
"""


def write_html(path: Path, report: RegressReport, found: Sequence[Finding], root: Path) -> None:
    """Write the report to `path` atomically (a private temporary file, then a rename)."""
    text = render_html(report, found, root)
    folder = path.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".perfpilot-report-", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_html(report: RegressReport, found: Sequence[Finding], root: Path) -> str:
    """The report as one HTML document."""
    span = f"{(report.base or '?')[:10]}..{report.head[:10]}"
    title = f"perfpilot regress: {report.workload} {span}"
    out = [_HEAD.format(title=_e(title)), f"<h1>{_e(title)}</h1>"]
    regressed = sum(1 for f in found if f.code in ("PP201", "PP202"))
    out.append(
        f'<p id="summary">{regressed} regression(s), '
        f"{sum(1 for f in found if f.code == 'PP203')} improvement(s).</p>"
    )
    changes = _changes_by_key(report)
    for finding in found:
        key = f"{os.path.relpath(finding.path, root)}:{finding.data.get('qualname')}"
        change = changes.get(key.replace(os.sep, "/"))
        out.append(_section(report, finding, change, key))
    if not found:
        out.append("<p>No function changed beyond the noise.</p>")
    out.append(_filtered(report))
    out.append("</body></html>\n")
    return "\n".join(out)


def _changes_by_key(report: RegressReport) -> dict[str, FunctionChange | SeriesChange]:
    if report.comparison is not None:
        return {c.key: c for c in report.comparison.changes}
    if report.series is not None:
        return {c.key: c for c in (*report.series.changes, *report.series.went_away)}
    return {}


def _section(
    report: RegressReport, finding: Finding, change: FunctionChange | SeriesChange | None, key: str
) -> str:
    out = [f'<div class="fn {finding.code}" data-function="{_e(key)}">']
    out.append(f"<h2>{finding.code} <code>{_e(key)}</code> (line {finding.line})</h2>")
    out.append(f'<p class="stats">{_e(finding.message)}</p>')
    if isinstance(change, FunctionChange):
        out.append(_bars(change))
        shares = [r.share(key) for r in report.base_runs] + [r.share(key) for r in report.head_runs]
        out.append(_series_svg(shares, len(report.base_runs), "run (base, then head)"))
    elif isinstance(change, SeriesChange) and report.series is not None:
        marker = report.series.commits.index(change.commit)
        out.append(_series_svg(change.series, marker, "commit (oldest first)"))
    causes = report.causes.get(key) or []
    if causes:
        top = causes[0]
        commit = top.commit
        out.append(
            f'<h3>Root cause</h3><p class="cause"><code>{_e(commit.sha[:10])}</code>'
            f" {_e(commit.author)}, {_e(commit.date[:10])}: {_e(commit.summary)}"
            + (" (confirmed by bisection)" if top.bisected else "")
            + "</p>"
        )
        out.append(_diff(top.hunk))
    out.append("</div>")
    return "\n".join(out)


def _bars(change: FunctionChange) -> str:
    """Before/after horizontal bars of the function's own share."""
    width, height = 520, 64
    top = max(change.base_share, change.head_share, 1e-9)
    rows = []
    for index, (label, value, colour) in enumerate(
        (("base", change.base_share, "#7f8c8d"), ("head", change.head_share, "#c0392b"))
    ):
        y = 8 + index * 26
        length = max(1.0, (width - 160) * value / top)
        rows.append(
            f'<text x="0" y="{y + 14}">{label}</text>'
            f'<rect class="bar" x="40" y="{y}" width="{length:.1f}" height="18" fill="{colour}">'
            f"<title>{label}: {value:.2f}%</title></rect>"
            f'<text x="{45 + length:.1f}" y="{y + 14}">{value:.2f}% of the program</text>'
        )
    return (
        f'<svg class="bars" width="{width}" height="{height}" role="img"'
        f' aria-label="own share before and after">{"".join(rows)}</svg>'
    )


def _series_svg(values: Sequence[float], marker: int, axis: str) -> str:
    """The share along runs or commits, the change point as a dashed line before `marker`."""
    width, height, pad = 640, 180, 36
    points = [v for v in values if v == v]  # NaN: no run at that commit
    if not points:
        return ""
    low, high = min(points), max(points)
    spread = (high - low) or 1.0
    step = (width - 2 * pad) / max(1, len(values) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return pad + i * step, height - pad - (v - low) / spread * (height - 2 * pad)

    coords = [xy(i, v) for i, v in enumerate(values) if v == v]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in coords)
    change_x = pad + (marker - 0.5) * step
    return (
        f'<svg class="series" width="{width}" height="{height}" role="img"'
        f' aria-label="own share over {axis}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}"'
        ' stroke="#999"/>'
        f'<text x="{pad}" y="{height - 8}">{_e(axis)}</text>'
        f'<text x="2" y="{pad}">{high:.1f}%</text>'
        f'<text x="2" y="{height - pad}">{low:.1f}%</text>'
        f'<polyline points="{line}" fill="none" stroke="#2c3e50" stroke-width="1.5"/>{dots}'
        f'<line class="change-point" x1="{change_x:.1f}" y1="{pad / 2}" x2="{change_x:.1f}"'
        f' y2="{height - pad}" stroke="#c0392b" stroke-dasharray="4 3"/>'
        f'<text x="{change_x + 4:.1f}" y="{pad / 2 + 10}">change</text></svg>'
    )


def _diff(hunk: str) -> str:
    lines = []
    for line in hunk.splitlines():
        kind = ""
        if line.startswith(("+++", "---", "diff ", "@@")):
            kind = "meta"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        lines.append(f'<span class="{kind}">{_e(line)}</span>' if kind else _e(line))
    return '<pre class="diff">' + "\n".join(lines) + "</pre>"


def _filtered(report: RegressReport) -> str:
    items = []
    if report.comparison is not None:
        for change in report.comparison.of_kind("cost-shift"):
            moved = ", ".join(change.shifted_from) or "related functions"
            items.append(f"<li><code>{_e(change.key)}</code>: cost moved from {_e(moved)}</li>")
    if report.series is not None:
        for change in report.series.went_away:
            items.append(f"<li><code>{_e(change.key)}</code>: a change that went away</li>")
    if not items:
        return ""
    return '<h2>Not reported</h2><ul id="filtered">' + "".join(items) + "</ul>"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
