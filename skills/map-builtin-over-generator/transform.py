"""PP113: `sum(len(x) for x in xs)` → `sum(map(len, xs))`: the builtin runs per item from C."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import (
    all_nodes,
    binding_sites,
    body_nodes,
    declared_names,
    parameter_names,
    shorten,
)
from perfpilot.tools.model import Applicability

# Consumers that take one iterable and consume it (lazily or not) in order.
_CONSUMERS = frozenset(
    {"sum", "any", "all", "min", "max", "sorted", "set", "frozenset", "tuple", "list"}
)
# One-argument builtins written in C: `map` calls them without a Python frame per item.
_BUILTINS = frozenset(
    {
        "len",
        "str",
        "int",
        "float",
        "abs",
        "ord",
        "chr",
        "repr",
        "bool",
        "hash",
        "bin",
        "hex",
        "oct",
        "ascii",
        "type",
        "id",
        "round",
        "bytes",
        "tuple",
        "frozenset",
        "sorted",
        "list",
        "set",
        "sum",
        "min",
        "max",
        "any",
        "all",
    }
)


@dataclass(frozen=True)
class _Use:
    generator: cst.GeneratorExp
    function: str  # the builtin applied to each item
    iterable: cst.BaseExpression
    text: str  # for the title


@dataclass
class MapBuiltinOverGenerator(Transform):
    """Consume `map(builtin, xs)` instead of a generator calling the builtin per item."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per generator argument of the shape `f(x) for x in xs`."""
        opportunities = []
        for index, use in enumerate(_uses(parsed)):
            line, column, end_line, end_column = parsed.location(use.generator)
            opportunities.append(
                Opportunity(
                    key=f"map#{index}",
                    title=f"Use `map({use.function}, ...)` in `{parsed.source.name}`",
                    evidence=(
                        f"`{shorten(use.text)}` resumes a generator frame and looks up"
                        f" `{use.function}` for every item; `map` calls it from C"
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
        """Put `map(f, xs)` where the generator expression was."""
        uses = _uses(parsed)
        index = int(opportunity.key.partition("#")[2])
        if index >= len(uses):
            return Rewrite.failed("the generator is no longer in the function")
        use = uses[index]
        mapped = cst.Call(
            func=cst.Name("map"),
            args=[
                cst.Arg(
                    cst.Name(use.function),
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                ),
                cst.Arg(use.iterable),
            ],
        )
        return Rewrite(
            function_text=parsed.render(replace_nodes(parsed.module, {use.generator: mapped}))
        )

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One such generator fewer."""
        if len(_uses(after)) != len(_uses(before)) - 1:
            return "the rewritten function still calls the builtin in a generator"
        return None


def _uses(parsed: Parsed) -> list[_Use]:
    """Generator arguments `f(x) for x in xs` of consumers, f a builtin nobody rebinds."""
    facts = parsed.source.module
    function = parsed.function
    local = {*parameter_names(function), *binding_sites(function), *declared_names(function)}
    shadowed = local | set(facts.rebound) | set(facts.imports)
    if "map" in shadowed:
        return []
    found = []
    for node in body_nodes(function):
        if not isinstance(node, cst.Call) or len(node.args) != 1:
            continue
        arg = node.args[0]
        if arg.star or arg.keyword is not None or not isinstance(arg.value, cst.GeneratorExp):
            continue
        if not _is_consumer(node.func, shadowed):
            continue
        use = _shape(arg.value, shadowed, parsed)
        if use is not None:
            found.append(use)
    return found


def _is_consumer(func: cst.BaseExpression, shadowed: set[str]) -> bool:
    if isinstance(func, cst.Name):
        return func.value in _CONSUMERS and func.value not in shadowed
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "join"
        and isinstance(func.value, cst.SimpleString | cst.ConcatenatedString)
    )


def _shape(generator: cst.GeneratorExp, shadowed: set[str], parsed: Parsed) -> _Use | None:
    """`f(x) for x in xs` with one plain `for`, no condition, f an unshadowed builtin."""
    comp = generator.for_in
    if comp.ifs or comp.inner_for_in is not None or comp.asynchronous is not None:
        return None
    if not isinstance(comp.target, cst.Name):
        return None
    element = generator.elt
    if not (
        isinstance(element, cst.Call)
        and isinstance(element.func, cst.Name)
        and element.func.value in _BUILTINS
        and element.func.value not in shadowed
        and len(element.args) == 1
    ):
        return None
    only = element.args[0]
    if only.star or only.keyword is not None:
        return None
    if not (isinstance(only.value, cst.Name) and only.value.value == comp.target.value):
        return None
    if any(isinstance(n, cst.Await) for n in all_nodes(comp.iter)):
        return None
    return _Use(generator, element.func.value, comp.iter, parsed.code(generator))


TRANSFORM = MapBuiltinOverGenerator()
