"""Live document speed: one keystroke or a 20-line paste on a 5,000-line file, then re-index.

Run: .venv/bin/python benchmarks/bench_live_document.py [--repeats N]
Each edit is undone (untimed) before the next repeat, so every repeat edits the same text.
The non-ASCII file has one emoji and some accented text, which makes Python store it 4 bytes a
character and takes the position conversions off their ASCII fast path.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench_source_index import generated_source  # the same 5,000-line file, run from here

from perfpilot.tools import source_walk
from perfpilot.tools.live_document import LiveDocument
from perfpilot.tools.source_index import index_source

PATH = "/bench/generated.py"
# Nested functions, indented for the method body they are pasted into (valid code) ...
PASTE = "".join(
    f"        def pasted{n}(values):\n            return [v * {n} for v in values]\n\n\n"
    for n in range(5)
)
# ... and the same at column 0, which ends the class early and changes what follows it.
BROKEN_PASTE = "".join(line.removeprefix(" " * 8) + "\n" for line in PASTE.splitlines())
assert PASTE.count("\n") == BROKEN_PASTE.count("\n") == 20


def sample(step: Callable[[], object], undo: Callable[[], object], repeats: int) -> list[float]:
    """Time `step` `repeats` times, running `undo` (untimed) after each."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        undo()
    return times


def keystroke(doc: LiveDocument) -> tuple[int, int]:
    """Return where to type: just after `parts` in a function in the middle of the file."""
    line = doc.line_count() // 2
    while "parts = []" not in doc.line_text(line):
        line += 1
    return line, doc.line_text(line).index("parts") + len("parts")


def rows_for(text: str, label: str, repeats: int) -> list[tuple[str, list[float]]]:
    """Measure one file: edits through a LiveDocument, and a from-scratch index for scale."""
    doc = LiveDocument(PATH, text, 1)
    doc.module()
    line, col = keystroke(doc)
    at, after = (line, col), (line, col + 1)
    paste_at = (line, 0)
    paste_end = (line + 20, 0)

    def type_char() -> None:
        doc.apply_change(at, at, "s")

    def erase_char() -> None:
        doc.apply_change(at, after, "")

    def both(*steps: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            for step in steps:
                step()

        return run

    fast = repeats * 20  # the cheap rows get more repeats
    data = text.encode()
    full_typed = doc.text[: doc.offset_at(*at)] + "s" + doc.text[doc.offset_at(*at) :]
    rows = [
        (
            f"{label}: one-char edit, apply_change only",
            sample(type_char, erase_char, fast),
        ),
        (
            f"{label}: one-char edit + module()",
            sample(both(type_char, doc.module), both(erase_char, doc.module), repeats),
        ),
        (
            f"{label}:   of which the incremental parse",
            sample(both(type_char, doc.tree), both(erase_char, doc.module), repeats),
        ),
        (
            f"{label}: one-char edit leaving a syntax error + module()",
            sample(
                both(lambda: doc.apply_change(at, at, "("), doc.module),
                both(erase_char, doc.module),
                repeats,
            ),
        ),
        (
            f"{label}: 20-line paste + module()",
            sample(
                both(lambda: doc.apply_change(paste_at, paste_at, PASTE), doc.module),
                both(lambda: doc.apply_change(paste_at, paste_end, ""), doc.module),
                repeats,
            ),
        ),
        (
            f"{label}: 20-line paste splitting a class + module()",
            sample(
                both(lambda: doc.apply_change(paste_at, paste_at, BROKEN_PASTE), doc.module),
                both(lambda: doc.apply_change(paste_at, paste_end, ""), doc.module),
                repeats,
            ),
        ),
        (
            f"{label}: full-text change (1 char differs) + module()",
            sample(
                both(lambda: doc.apply_change(None, None, full_typed), doc.module),
                both(lambda: doc.apply_change(None, None, text), doc.module),
                repeats,
            ),
        ),
        (
            f"{label}: index_source from scratch",
            sample(lambda: index_source(text, PATH), lambda: None, repeats),
        ),
        (
            f"{label}:   of which the full parse",
            sample(lambda: source_walk.parse(data), lambda: None, repeats),
        ),
        (
            f"{label}: re-encode the whole text (avoided)",
            sample(lambda: text.encode("utf-8", "replace"), lambda: None, fast),
        ),
    ]
    assert doc.text == text and doc.module() == index_source(text, PATH)
    return rows


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    ascii_text = generated_source()
    # Non-ASCII high in the file, so that every edit below it takes the slow conversions.
    wide_text = ascii_text.replace('"""Generated module."""', '"""Generated módulo 😀."""', 1)
    rows = rows_for(ascii_text, "ascii", args.repeats) + rows_for(
        wide_text, "non-ascii", args.repeats
    )

    lines = ascii_text.count("\n")
    width = max(len(name) for name, _ in rows)
    print(f"{lines}-line file, {len(ascii_text.encode()) // 1024} KB")
    print(f"{'measurement':<{width}}  {'median ms':>10}  {'p90 ms':>8}  {'repeats':>7}")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 8}  {'-' * 7}")
    for name, times in rows:
        median = statistics.median(times) * 1e3
        p90 = statistics.quantiles(times, n=10)[-1] * 1e3
        print(f"{name:<{width}}  {median:>10.3f}  {p90:>8.3f}  {len(times):>7}")
    print("(time.perf_counter; each edit undone, untimed, before the next repeat)")


if __name__ == "__main__":
    main()
