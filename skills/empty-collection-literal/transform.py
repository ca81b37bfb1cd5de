"""PP118: `dict()` → `{}`, `list()` → `[]`, `tuple()` → `()`, `dict(a=x)` → `{"a": x}`.

A call of the builtin looks up a global name, then the builtins, then calls the type; the
display is one bytecode instruction (BUILD_MAP / BUILD_LIST; the empty tuple is a constant).
Same object, same type, same evaluation order of the values: exact when the name is the
builtin, which is what the static proof checks (no binding in the module or the function).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import body_nodes, has_comment, shadowed_builtins
from perfpilot.tools.model import Applicability

_EMPTY = {"dict": "{}", "list": "[]", "tuple": "()"}


@dataclass
class EmptyCollectionLiteral(Transform):
    """Find `dict()`, `list()`, `tuple()` and `dict(key=value, ...)`; write the display."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per call, in source order."""
        found = []
        for index, call in enumerate(_calls(parsed)):
            old, new = parsed.code(call), _display(parsed, call)
            found.append(
                parsed.opportunity(
                    call,
                    key=f"call#{index}",
                    title=f"Write `{_short(new)}` instead of `{_short(old)}` in"
                    f" `{parsed.source.name}`",
                    evidence=(
                        f"`{_short(old)}` looks up a global and the builtins and calls the type"
                        f" on every pass; `{_short(new)}` is one instruction (~30-40 ns less on"
                        " CPython 3.11)"
                    ),
                    applicability=Applicability.SAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Swap the call for the display, keeping its parentheses."""
        calls = _calls(parsed)
        call = opportunity.numbered(calls)
        if call is None:
            return Rewrite.failed("the call is no longer there")
        display = cst.parse_expression(
            _display(parsed, call), config=parsed.module.config_for_parsing
        )
        if call.lpar:  # `()` has parentheses of its own, which the call may not add to
            display = display.with_changes(lpar=call.lpar, rpar=call.rpar)
        module = replace_nodes(parsed.module, {call: display})
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One call fewer, and the names still the builtins."""
        # A name shadowed before (e.g. a module's own `list`) is left alone: only a change
        # in what is shadowed means the rewrite broke something.
        if len(_calls(after)) != len(_calls(before)) - 1 or _shadowed(after) != _shadowed(before):
            return "the rewritten function does not have one collection call fewer"
        return None


def _calls(parsed: Parsed) -> list[cst.Call]:
    shadowed = _shadowed(parsed)
    found = []
    for node in body_nodes(parsed.function):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)):
            continue
        name = node.func.value
        if name not in _EMPTY or name in shadowed or has_comment(node):
            continue
        if not node.args:
            found.append(node)
        elif name == "dict" and all(
            a.keyword is not None and not a.star and "\n" not in parsed.code(a.value)
            for a in node.args
        ):
            found.append(node)
    return found


def _display(parsed: Parsed, call: cst.Call) -> str:
    assert isinstance(call.func, cst.Name)
    if not call.args:
        return _EMPTY[call.func.value]
    items = ", ".join(
        f'"{a.keyword.value}": {parsed.code(a.value).strip()}'
        for a in call.args
        if a.keyword is not None
    )
    return "{" + items + "}"


def _short(code: str) -> str:
    flat = " ".join(code.split())
    return flat if len(flat) <= 30 else flat[:27] + "..."


def _shadowed(parsed: Parsed) -> set[str]:
    """The names of `_EMPTY` that may not be the builtins here."""
    return shadowed_builtins(parsed.function, parsed.source.module, _EMPTY)


TRANSFORM = EmptyCollectionLiteral()
