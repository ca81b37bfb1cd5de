"""The index of one Python file: its functions in source order, with lookups by line and name."""

from __future__ import annotations

from dataclasses import dataclass, field

from perfpilot.tools.source_walk import SourceFunction

__all__ = ["ModuleIndex", "SourceFunction"]


@dataclass
class ModuleIndex:
    """The functions of one file, in source order, with lookups by line and name."""

    path: str
    functions: list[SourceFunction]
    has_errors: bool
    # co_firstlineno -> names of class bodies starting there (profilers list class bodies).
    class_lines: dict[int, set[str]] = field(default_factory=dict)
    _by_first: dict[int, list[SourceFunction]] = field(init=False, repr=False, compare=False)
    _by_def: dict[int, list[SourceFunction]] = field(init=False, repr=False, compare=False)
    _by_qualname: dict[str, list[SourceFunction]] = field(init=False, repr=False, compare=False)
    _by_name: dict[str, list[SourceFunction]] = field(init=False, repr=False, compare=False)
    _line_tables: dict[bool, list[SourceFunction | None]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._by_first, self._by_def, self._by_qualname, self._by_name = {}, {}, {}, {}
        for fn in self.functions:
            self._by_first.setdefault(fn.first_line, []).append(fn)
            self._by_def.setdefault(fn.def_line, []).append(fn)
            self._by_qualname.setdefault(fn.qualname, []).append(fn)
            self._by_name.setdefault(fn.name, []).append(fn)

    def by_first_line(self, line: int) -> list[SourceFunction]:
        """Return the functions whose co_firstlineno is `line` (lambdas can share a line)."""
        return list(self._by_first.get(line, ()))

    def is_class_body(self, line: int, name: str) -> bool:
        """Is (line, name) a class statement, which profilers record like a function?"""
        return name in self.class_lines.get(line, ())

    def by_def_line(self, line: int) -> list[SourceFunction]:
        """Return the functions whose `def` (or `lambda`) keyword is on `line`."""
        return list(self._by_def.get(line, ()))

    def by_qualname(self, qualname: str) -> list[SourceFunction]:
        """Return the functions with this __qualname__ (a property getter and setter share one)."""
        return list(self._by_qualname.get(qualname, ()))

    def by_name(self, name: str) -> list[SourceFunction]:
        """Return the functions with this bare name (co_name)."""
        return list(self._by_name.get(name, ()))

    def innermost_at(self, line: int, *, lambdas: bool = True) -> SourceFunction | None:
        """Return the innermost function whose first_line..end_line contains `line`.

        A line is coarse: with `lambdas=False`, a lambda sharing the line with other code (a
        comprehension, say) does not hide the def around it.
        """
        table = self._line_tables.get(lambdas)
        if table is None:
            table = self._line_tables[lambdas] = self._line_table(lambdas)
        return table[line] if 0 < line < len(table) else None

    def _line_table(self, lambdas: bool) -> list[SourceFunction | None]:
        functions = [fn for fn in self.functions if lambdas or not fn.is_lambda]
        size = max((fn.end_line for fn in functions), default=0) + 1
        table: list[SourceFunction | None] = [None] * size
        # Outer before inner (earlier start, then longer range): an inner function overwrites
        # its lines. Functions starting on the same line with the same end keep source order,
        # so a lambda nested in another lambda on one line wins over it.
        ordered = sorted(
            range(len(functions)),
            key=lambda i: (functions[i].first_line, -functions[i].end_line, i),
        )
        for i in ordered:
            fn = functions[i]
            table[fn.first_line : fn.end_line + 1] = [fn] * (fn.end_line - fn.first_line + 1)
        return table
