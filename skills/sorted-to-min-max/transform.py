"""PP108: `sorted(x)[0]` → `min(x)`, `sorted(x)[-1]` → `max(x)` (key kept, reverse folded in)."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import (
    Parents,
    body_nodes,
    children,
    names_in,
    parent_map,
    shadowed_builtins,
)
from perfpilot.tools.model import Applicability

_NAMES = ("sorted", "min", "max")
_CATCHES_INDEX = frozenset({"IndexError", "LookupError"})


@dataclass(frozen=True)
class _Use:
    subscript: cst.Subscript
    call: cst.Call
    first: bool  # [0], else [-1]
    reverse: bool
    reverse_arg: cst.Arg | None  # the `reverse=` argument, dropped by the rewrite
    keyed: bool

    @property
    def replacement(self) -> str:
        """`min` or `max`: which end of the sorted order the subscript takes."""
        return "min" if self.first != self.reverse else "max"

    @property
    def exact(self) -> bool:
        """Whether min/max returns the very element `sorted` would put there.

        Sorting is stable, also with reverse=True, so index 0 is the first of the tied
        elements in input order, which is what min/max return; index -1 is the last of them.
        """
        return self.first


@dataclass
class SortedToMinMax(Transform):
    """Find `sorted(...)[0]` / `sorted(...)[-1]` and take the extreme in one pass instead."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per subscripted `sorted(...)` call, in source order."""
        opportunities = []
        calls = parsed.source.calls
        often = (
            f" ({calls:,} call{'s' if calls != 1 else ''} of the function in the profile)"
            if calls
            else ""
        )
        for index, use in enumerate(_uses(parsed)):
            old = f"sorted(...{', reverse=True' if use.reverse else ''})[{0 if use.first else -1}]"
            new = f"{use.replacement}(...)"
            if use.exact:
                caveat = (
                    "and returns the same element (sorting is stable); an empty input now"
                    " raises ValueError instead of IndexError"
                )
            else:
                caveat = (
                    f"but on ties it returns the first of the equal "
                    f"{'smallest' if use.replacement == 'min' else 'largest'} elements and"
                    f" `{old}` the last: different objects when they tie"
                    f" ({'equal keys' if use.keyed else 'e.g. 1 and 1.0, or a partial __lt__'})"
                    " — review before applying; an empty input raises ValueError, not IndexError"
                )
            opportunities.append(
                parsed.opportunity(
                    use.subscript,
                    key=f"sorted#{index}",
                    title=f"Replace `{old}` with `{new}` in `{parsed.source.name}`",
                    evidence=(
                        f"`{old}` sorts the whole input (O(n log n) and a new list) to keep one"
                        f" element{often}; `{new}` scans it once {caveat}. On input that is"
                        " already sorted, sorting is linear and type-specialized and can beat"
                        f" `{use.replacement}()`: measure with real inputs"
                    ),
                    applicability=(
                        Applicability.UNSAFE if use.exact else Applicability.DISPLAY_ONLY
                    ),
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Swap the subscript for a min/max call with the same arguments, minus `reverse=`."""
        uses = _uses(parsed)
        use = opportunity.numbered(uses)
        if use is None:
            return Rewrite.failed("the subscripted sorted() call is no longer there")
        call = use.call
        args = list(call.args)
        if use.reverse_arg is not None:
            if "#" in parsed.code(use.reverse_arg):
                return Rewrite.failed("a comment on the `reverse=` argument would be lost")
            args = _without(args, use.reverse_arg)
        func = call.func
        assert isinstance(func, cst.Name)
        replacement = call.with_changes(
            func=func.with_changes(value=use.replacement),
            args=args,
            lpar=use.subscript.lpar,
            rpar=use.subscript.rpar,
        )
        module = replace_nodes(parsed.module, {use.subscript: replacement})
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One pattern fewer, one more min/max call, and the builtins still the builtins."""
        if len(_uses(after)) != len(_uses(before)) - 1:
            return "the rewritten function does not have one sorted()[i] fewer"
        if _extreme_calls(after) != _extreme_calls(before) + 1:
            return "the rewritten function does not have one min()/max() call more"
        if shadowed_builtins(after.function, after.source.module, _NAMES):
            return "min, max or sorted is not the builtin in the rewritten function"
        return None


def _without(args: list[cst.Arg], removed: cst.Arg) -> list[cst.Arg]:
    """The arguments minus `removed`, keeping the line layout and the comments of the others."""
    index = args.index(removed)
    rest = args[:index] + args[index + 1 :]
    if index != len(args) - 1:
        return rest  # its comma goes with it; the previous argument's comma still separates
    previous = rest[-1]
    comma = previous.comma
    assert isinstance(comma, cst.Comma)  # it was followed by `removed`
    # The line break before `)` comes from the removed argument; a comment after the previous
    # argument stays where it was, and then so does its comma (else the comment would end up
    # before the `)` on the same line... which a comment cannot).
    trailing = isinstance(removed.comma, cst.Comma)
    mine = comma.whitespace_after
    theirs = removed.comma.whitespace_after if trailing else removed.whitespace_after_arg
    commented = isinstance(mine, cst.ParenthesizedWhitespace) and mine.first_line.comment
    if isinstance(mine, cst.ParenthesizedWhitespace) and isinstance(
        theirs, cst.ParenthesizedWhitespace
    ):
        theirs = mine.with_changes(indent=theirs.indent, last_line=theirs.last_line)
    if trailing or commented:
        rest[-1] = previous.with_changes(comma=comma.with_changes(whitespace_after=theirs))
    else:
        rest[-1] = previous.with_changes(
            comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=theirs
        )
    return rest


def _uses(parsed: Parsed) -> list[_Use]:
    """The function's `sorted(x, key=..., reverse=<literal>)[0 or -1]`, where it can be proved."""
    function = parsed.function
    if shadowed_builtins(function, parsed.source.module, _NAMES):
        return []
    parents = parent_map(function.body, nested=False)
    targets = _target_nodes(function)
    uses = []
    for node in body_nodes(function):
        if not isinstance(node, cst.Subscript) or id(node) in targets:
            continue
        use = _use_of(node, parsed)
        if use is None or _index_error_caught(node, parents):
            continue  # the handler relies on IndexError for an empty input
        uses.append(use)
    return uses


def _use_of(subscript: cst.Subscript, parsed: Parsed) -> _Use | None:
    call = subscript.value
    if not (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Name)
        and call.func.value == "sorted"
        and len(subscript.slice) == 1
    ):
        return None
    element = subscript.slice[0].slice
    if not isinstance(element, cst.Index) or element.star is not None:
        return None
    first = _is_int(element.value, 0)
    if not first and not _is_minus_one(element.value):
        return None
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) != 1 or positional[0].star or call.args[0] is not positional[0]:
        return None
    reverse, reverse_arg, keyed = False, None, False
    for arg in call.args[1:]:
        if arg.keyword is None or arg.keyword.value not in ("key", "reverse"):
            return None
        if arg.keyword.value == "key":
            keyed = True
            continue
        if not (isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False")):
            return None  # a direction known only at run time
        reverse, reverse_arg = arg.value.value == "True", arg
    # A comment inside the brackets would be lost with them.
    code, inner = parsed.code(subscript), parsed.code(call)
    if "#" in code[code.find(inner) + len(inner) :]:
        return None
    return _Use(subscript, call, first, reverse, reverse_arg, keyed)


def _is_int(node: cst.BaseExpression, value: int) -> bool:
    return isinstance(node, cst.Integer) and not node.lpar and node.evaluated_value == value


def _is_minus_one(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and _is_int(node.expression, 1)
    )


def _extreme_calls(parsed: Parsed) -> int:
    return sum(
        1
        for node in body_nodes(parsed.function)
        if isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value in ("min", "max")
    )


def _target_nodes(function: cst.FunctionDef) -> set[int]:
    """ids of every node inside something assigned or deleted (`sorted(x)[0] = 1` is legal)."""
    roots: list[cst.CSTNode] = []
    for node in body_nodes(function):
        if isinstance(node, cst.AssignTarget | cst.Del):
            roots.append(node.target)
        elif isinstance(node, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor):
            roots.append(node.target)
        elif isinstance(node, cst.AsName):
            roots.append(node.name)
    found: set[int] = set()
    while roots:
        node = roots.pop()
        found.add(id(node))
        roots.extend(children(node))
    return found


def _index_error_caught(node: cst.CSTNode, parents: Parents) -> bool:
    """Inside a `try` whose handler names IndexError/LookupError, or `suppress(IndexError)`."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, cst.Try | cst.TryStar) and child is parent.body:
            for handler in parent.handlers:
                if handler.type is not None and names_in(handler.type) & _CATCHES_INDEX:
                    return True
        if isinstance(parent, cst.With) and child is parent.body:
            if any(names_in(item.item) & _CATCHES_INDEX for item in parent.items):
                return True
        child, parent = parent, parents.get(parent)
    return False


TRANSFORM = SortedToMinMax()
