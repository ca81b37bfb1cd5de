"""Write skill_medians.py's figures into each measured skill's SKILL.md (metadata and body).

    .venv/bin/python benchmarks/corpus/skill_figures.py FIRES.json [--date YYYY-MM-DD]

FIRES.json is what `skill_medians.py --json` wrote. Per skill that fired on the corpus: the
metadata gets `measured-median` and `measured-fixes` (when at least one fix was verified), and
the body a "Measured on the corpus" section (replaced on a re-run) saying where the figure
comes from: libraries, functions, speedups, date, command, and why the other fires were not
verified. A skill with no verified fix stays unmeasured (no keys), and its section says why.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from corpus_config import REPO

BEGIN, END = "<!-- measured: skill_figures.py -->", "<!-- /measured -->"
KEYS = re.compile(r"^  measured-(median|fixes): .*\n", re.MULTILINE)
COMMAND = (
    "`PERFPILOT_CORPUS_DIR=... python benchmarks/corpus/skill_medians.py --json F`"
    " then `skill_figures.py F`"
)


def section(fires: list[dict[str, object]], date: str) -> tuple[str, float | None, int]:
    """The body section of one skill, its median (None: unmeasured) and verified count."""
    timed = [f for f in fires if f["speedup"] is not None]
    reasons = Counter(_reason(str(f["verdict"])) for f in fires if f["speedup"] is None)
    why = ", ".join(f"{reason} ×{n}" for reason, n in reasons.most_common())
    lines = [BEGIN, "## Measured on the corpus", ""]
    libraries = sorted({str(f["library"]) for f in fires})
    where = f"{len(fires)} fires in {', '.join(libraries)} (`check --all`)"
    if timed:
        speedups = [float(f["speedup"]) for f in timed]  # type: ignore[arg-type]
        median = statistics.median(speedups)
        lines.append(
            f"Median speedup **{median:.3f}x** over {len(timed)} verified fixes (range"
            f" {min(speedups):.2f}–{max(speedups):.2f}x), from {where}; verified = behaviour"
            " equal on the workload's recorded calls and a timing whose A/A noise was at most"
            f" 10 %. Measured {date} on a 2-core machine shared with other jobs, with {COMMAND}."
        )
        lines.append("")
        for fire in timed:
            lines.append(
                f"- {fire['library']} `{fire['qualname']}`: {float(fire['speedup']):.3f}x"  # type: ignore[arg-type]
            )
    else:
        median = None
        lines.append(
            f"Unmeasured: none of its {where} could be verified ({date}, {COMMAND}); the skill"
            " is offered and labelled unmeasured."
        )
    if why:
        lines += ["", f"Not verified: {why}."]
    if median is not None and median < 1.05:
        lines += [
            "",
            "Below 1.05x: not offered by default (`--include-unproven`, the editor setting"
            " `perfpilot.skills.includeUnproven` or `[skills] include_unproven` in the user's"
            " config offer it); a fix verified faster on its own function is offered anyway.",
        ]
    return "\n".join([*lines, END, ""]), median, len(timed)


def rewrite(skill_md: Path, body: str, median: float | None, count: int) -> None:
    """Replace the figures and the section in one SKILL.md (atomically enough for a repo)."""
    text = KEYS.sub("", skill_md.read_text(encoding="utf-8"))
    if median is not None:
        head, sep, rest = text.partition("\n---\n")
        figures = f"  measured-median: {median:.3f}\n  measured-fixes: {count}"
        text = f"{head}\n{figures}{sep}{rest}"
    text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", "", text, flags=re.DOTALL)
    skill_md.write_text(text.rstrip("\n") + "\n\n" + body, encoding="utf-8")


def _reason(verdict: str) -> str:
    for prefix in ("not called", "cannot be captured", "too noisy", "refused", "unverified"):
        if verdict.startswith(prefix):
            return verdict.split(":")[0] if prefix != "cannot be captured" else verdict
    return verdict.split(":")[0]


def main() -> int:
    """Write the figures of a skill_medians.py run into the skills' SKILL.md files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fires", type=Path)
    parser.add_argument("--date", default=datetime.date.today().isoformat())
    args = parser.parse_args()
    by_skill: dict[str, list[dict[str, object]]] = defaultdict(list)
    for fire in json.loads(args.fires.read_text()):
        by_skill[fire["skill"]].append(fire)
    for name, fires in sorted(by_skill.items()):
        skill_md = REPO / "skills" / name / "SKILL.md"
        body, median, count = section(fires, args.date)
        rewrite(skill_md, body, median, count)
        figure = f"{median:.3f}x over {count}" if median is not None else "unmeasured"
        print(f"{fires[0]['code']} {name}: {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
