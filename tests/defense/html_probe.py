"""Open a report in headless Chromium and read back what rendered (sizes, counts, text)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Runs in a copy of the report (the report itself has no script and forbids any): measures
# the laid-out boxes, so an SVG that parses but draws nothing fails.
_PROBE = """<script>
const box = (e) => e.getBoundingClientRect();
const out = {
  sections: [...document.querySelectorAll('.fn')].map((d) => d.dataset.function),
  bars: [...document.querySelectorAll('svg.bars rect.bar')].map((r) => box(r).width),
  points: document.querySelectorAll('svg.series circle.point').length,
  seriesHeights: [...document.querySelectorAll('svg.series')].map((s) => box(s).height),
  changeLines: [...document.querySelectorAll('line.change-point')].map((l) => box(l).height),
  added: [...document.querySelectorAll('pre.diff .add')].map((s) => s.textContent),
  cause: [...document.querySelectorAll('p.cause')].map((p) => p.textContent),
  summary: document.getElementById('summary').textContent,
};
document.body.setAttribute('data-probe', JSON.stringify(out));
</script>"""


def render_in_chromium(report: Path, scratch: Path) -> dict[str, object]:
    """What Chromium rendered of `report` (via a probing copy without the CSP)."""
    assert CHROMIUM is not None
    text = report.read_text(encoding="utf-8")
    probe = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    probe = probe.replace("</body>", _PROBE + "</body>")
    copy = scratch / "probe.html"
    copy.write_text(probe, encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", copy.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))
