"""Which finding codes a check reports and fixes: `--select` / `--ignore`, ruff's rule.

Entries are codes or code prefixes (`PP1`, `PP107`, `ALL`). The most specific entry that
matches a code decides: `--select PP1 --ignore PP107` keeps every PP1xx but PP107, and
`--ignore PP1 --select PP110` keeps PP110 alone among them. A code no entry matches is kept
when nothing was selected (the default: everything).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_ENTRY = re.compile(r"^(ALL|PP\d{0,3})$")


class CodeSelectionError(ValueError):
    """An entry that is not a code or a code prefix; the message names it."""


@dataclass(frozen=True, slots=True)
class CodeSelection:
    """Selected and ignored code prefixes (upper case; `ALL` matches every code)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def wants(self, code: str) -> bool:
        """Whether findings (and fixes) with `code` are reported."""
        best_select = _longest(self.select, code)
        best_ignore = _longest(self.ignore, code)
        if best_select < 0 and best_ignore < 0:
            return not self.select
        return best_select > best_ignore

    @property
    def everything(self) -> bool:
        """True when nothing is narrowed (the default)."""
        return not self.select and not self.ignore


def parse_codes(values: Iterable[str], where: str) -> tuple[str, ...]:
    """`PP1,PP201` (comma-separated, repeatable) as normalised entries; an error names `where`."""
    entries: list[str] = []
    for value in values:
        for part in value.split(","):
            entry = part.strip().upper()
            if not entry:
                continue
            if not _ENTRY.match(entry):
                raise CodeSelectionError(
                    f"{where}: {part.strip()!r} is not a code or a code prefix"
                    " (e.g. PP107, PP1, PP2, ALL)"
                )
            entries.append(entry)
    return tuple(dict.fromkeys(entries))


def _longest(prefixes: tuple[str, ...], code: str) -> int:
    """Length of the longest entry matching `code` (ALL counts as 0), -1 when none does."""
    best = -1
    for prefix in prefixes:
        if prefix == "ALL":
            best = max(best, 0)
        elif code.startswith(prefix):
            best = max(best, len(prefix))
    return best
