"""PP112: `"sep".join(x for x in xs)` → `"sep".join([x for x in xs])`: join builds a list anyway."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import all_nodes, body_nodes, shorten
from perfpilot.tools.model import Applicability


@dataclass
class JoinListNotGenerator(Transform):
    """Pass `str.join` a list comprehension instead of a generator expression."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per `<string literal>.join(<generator expression>)` call."""
        opportunities = []
        for index, (call, _generator) in enumerate(_joins(parsed.function)):
            line, column, end_line, end_column = parsed.location(call)
            opportunities.append(
                Opportunity(
                    key=f"join#{index}",
                    title=f"Join a list, not a generator, in `{parsed.source.name}`",
                    evidence=(
                        f"`{shorten(parsed.code(call))}`: str.join turns its argument into a"
                        " list before joining; a generator feeds that list one resumed frame"
                        " per item, a list comprehension builds it directly"
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=Applicability.SAFE,
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Swap the generator expression for the same comprehension in brackets."""
        joins = _joins(parsed.function)
        index = int(opportunity.key.partition("#")[2])
        if index >= len(joins):
            return Rewrite.failed("the join is no longer in the function")
        call, generator = joins[index]
        arg = call.args[0]
        # A multi-line call keeps its layout: the brackets take the parentheses' line breaks.
        comprehension = cst.ListComp(
            elt=generator.elt,
            for_in=generator.for_in,
            lbracket=cst.LeftSquareBracket(whitespace_after=call.whitespace_before_args),
            rbracket=cst.RightSquareBracket(whitespace_before=arg.whitespace_after_arg),
        )
        new_call = call.with_changes(
            whitespace_before_args=cst.SimpleWhitespace(""),
            args=[
                arg.with_changes(value=comprehension, whitespace_after_arg=cst.SimpleWhitespace(""))
            ],
        )
        return Rewrite(function_text=parsed.render(replace_nodes(parsed.module, {call: new_call})))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """The rewritten function has one join of a generator fewer."""
        if len(_joins(after.function)) != len(_joins(before.function)) - 1:
            return "the rewritten function still joins the generator"
        return None


def _joins(function: cst.FunctionDef) -> list[tuple[cst.Call, cst.GeneratorExp]]:
    """`"...".join(<genexp>)` calls of the function's own code, in source order."""
    found = []
    for node in body_nodes(function):
        if not isinstance(node, cst.Call) or len(node.args) != 1:
            continue
        func, arg = node.func, node.args[0]
        if not (
            isinstance(func, cst.Attribute)
            and func.attr.value == "join"
            and isinstance(func.value, cst.SimpleString | cst.ConcatenatedString)
        ):
            continue
        if arg.star or arg.keyword is not None or not isinstance(arg.value, cst.GeneratorExp):
            continue
        generator = arg.value
        if any(isinstance(n, cst.Await) for n in all_nodes(generator)):
            continue  # an async generator: join raises; a list comprehension would not
        if any(getattr(f, "asynchronous", None) for f in _fors(generator)):
            continue
        found.append((node, generator))
    return found


def _fors(generator: cst.GeneratorExp) -> list[cst.CompFor]:
    fors, current = [], generator.for_in
    while current is not None:
        fors.append(current)
        current = current.inner_for_in
    return fors


TRANSFORM = JoinListNotGenerator()
