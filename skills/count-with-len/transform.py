"""PP132: `sum(pred(x) for x in xs)` / `sum(1 for x in xs if c)` → `len([1 for x in xs if ...])`.

Counting with a generator resumes a Python frame once per element and adds a bool to the
running total each time; a list comprehension runs its loop without suspending and `len` reads
the count. The rewrite applies only where the summed value is provably a count: the literal
`1`, or a predicate whose value is always a bool.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import bound_names, has_comment, own_nodes, parameter_names
from perfpilot.tools.model import Applicability

_BUILTINS = frozenset(dir(builtins))
# Builtins whose result is always a bool (their argument's hooks may still run user code).
_BOOL_CALLS = frozenset({"isinstance", "issubclass", "hasattr", "callable"})
# Operators whose result is always a bool: identity never runs user code, membership calls
# __contains__ (or __iter__/__eq__) but converts its result to a bool.
_IDENTITY = (cst.Is, cst.IsNot)
_MEMBERSHIP = (cst.In, cst.NotIn)


@dataclass(frozen=True)
class _Count:
    call: cst.Call  # the `sum(...)` call
    generator: cst.GeneratorExp
    predicate: cst.BaseExpression | None  # None: the generator yields the literal 1
    exact: bool  # the summed value is provably a bool (or 1)
    safe: bool


@dataclass
class CountWithLen(Transform):
    """Count with `len([...])` instead of summing a generator of bools or ones."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per `sum` over a counting generator."""
        found = []
        for index, count in enumerate(_counts(parsed)):
            if count.safe:
                caveat = ""
            else:
                caveat = (
                    "; the list holds one reference per counted element while it is built,"
                    " and a StopIteration raised inside the loop now escapes where the"
                    " generator turned it into a RuntimeError (PEP 479)"
                )
                if not count.exact:
                    caveat += (
                        "; the comparison may return something other than a bool (a numpy"
                        " array, a symbolic expression), which `sum` added and `if` tests"
                    )
            found.append(
                parsed.opportunity(
                    count.call,
                    key=f"count#{index}",
                    title=f"Count with `len([...])` in `{parsed.source.name}`",
                    evidence=(
                        "`sum(...)` over a generator that yields a bool (or 1) per element:"
                        " the generator's frame is suspended and resumed for every element"
                        " and `sum` adds each value, while a list comprehension filters in"
                        f" one uninterrupted loop and `len` reads the count{caveat}"
                    ),
                    applicability=Applicability.SAFE if count.safe else Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Replace `sum(<generator>)` by `len([1 <for clauses> <ifs> if <predicate>])`."""
        counts = _counts(parsed)
        count = opportunity.numbered(counts)
        if count is None:
            return Rewrite.failed("the counting generator is no longer there")
        loops = _with_predicate(count.generator.for_in, count.predicate)
        listcomp = cst.ListComp(elt=cst.Integer("1"), for_in=loops)
        length = cst.Call(func=cst.Name("len"), args=[cst.Arg(listcomp)])
        module = replace_nodes(parsed.module, {count.call: length})
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One counting `sum` fewer, one `len([...])` more, `len` still the builtin."""
        if len(_counts(after)) != len(_counts(before)) - 1:
            return "the rewritten function does not have one counting sum() fewer"
        if _len_of_lists(after) != _len_of_lists(before) + 1:
            return "the rewritten function does not have one len([...]) more"
        if _shadowed(after, "len"):
            return "len is not the builtin in the rewritten function"
        return None


def _counts(parsed: Parsed) -> list[_Count]:
    """`sum(<generator>)` calls whose generator yields a count, in source order."""
    if _shadowed(parsed, "sum") or _shadowed(parsed, "len"):
        return []
    found = []
    for node in own_nodes(parsed.function.body):
        if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)):
            continue
        if node.func.value != "sum" or len(node.args) != 1:
            continue
        (arg,) = node.args
        generator = arg.value
        if arg.keyword is not None or arg.star or not isinstance(generator, cst.GeneratorExp):
            continue
        if has_comment(generator) or not _plain(generator):
            continue
        count = _count_of(parsed, node, generator)
        if count is not None:
            found.append(count)
    return found


def _count_of(parsed: Parsed, call: cst.Call, generator: cst.GeneratorExp) -> _Count | None:
    element = generator.elt
    if isinstance(element, cst.Integer) and element.value == "1" and not element.lpar:
        predicate = None
        exact = True
    else:
        kind = _bool_kind(parsed, element)
        if kind is None:
            return None
        predicate, exact = element, kind == "bool"
    safe = (
        exact
        and generator.for_in.inner_for_in is None
        and _finite_display(generator.for_in.iter)
        and all(_runs_no_code(c.test) for c in generator.for_in.ifs)
        and (predicate is None or _runs_no_code(predicate))
    )
    return _Count(call, generator, predicate, exact, safe)


def _plain(generator: cst.GeneratorExp) -> bool:
    """Synchronous `for` clauses; no `await`, `yield` or `:=` anywhere in the generator."""
    loop: cst.CompFor | None = generator.for_in
    while loop is not None:
        if loop.asynchronous is not None:
            return False
        loop = loop.inner_for_in
    suspending = cst.Await | cst.Yield | cst.NamedExpr
    return not any(isinstance(n, suspending) for n in own_nodes(generator))


def _bool_kind(parsed: Parsed, node: cst.BaseExpression) -> str | None:
    """`bool`: always a bool; `compare`: an ordering or equality test; None: neither."""
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return "bool"
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        return "bool"
    if isinstance(node, cst.Comparison):
        operators = [c.operator for c in node.comparisons]
        if all(isinstance(op, _IDENTITY + _MEMBERSHIP) for op in operators):
            return "bool"
        return "compare"
    if isinstance(node, cst.BooleanOperation):
        left, right = _bool_kind(parsed, node.left), _bool_kind(parsed, node.right)
        if left is None or right is None:
            return None
        return "bool" if left == right == "bool" else "compare"
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
        name = node.func.value
        if name in _BOOL_CALLS and not _shadowed(parsed, name):
            return "bool"
    return None


def _runs_no_code(node: cst.BaseExpression) -> bool:
    """Identity tests and `not`/`and`/`or` of names and constants: no user code can run."""
    if isinstance(node, cst.Name | cst.Integer | cst.SimpleString):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        # `not name` calls the object's __bool__: only constants and identity tests are exempt
        return not isinstance(node.expression, cst.Name) and _runs_no_code(node.expression)
    if isinstance(node, cst.BooleanOperation):
        return _is_identity(node.left) and _is_identity(node.right)
    return _is_identity(node)


def _is_identity(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        return _is_identity(node.expression)
    if isinstance(node, cst.BooleanOperation):
        return _is_identity(node.left) and _is_identity(node.right)
    if not isinstance(node, cst.Comparison):
        return False
    if not all(isinstance(c.operator, _IDENTITY) for c in node.comparisons):
        return False
    operands = [node.left, *(c.comparator for c in node.comparisons)]
    return all(isinstance(o, cst.Name | cst.Integer | cst.SimpleString) for o in operands)


def _finite_display(node: cst.BaseExpression) -> bool:
    """A tuple/list/set display without starred parts, or a string literal: a few elements."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        return True
    if isinstance(node, cst.Tuple | cst.List | cst.Set):
        return not any(isinstance(e, cst.StarredElement) for e in node.elements)
    return False


def _with_predicate(loop: cst.CompFor, predicate: cst.BaseExpression | None) -> cst.CompFor:
    """The same for clauses on one line, the predicate as one more `if` on the innermost one."""
    space = cst.SimpleWhitespace(" ")
    ifs = [c.with_changes(whitespace_before=space) for c in loop.ifs]
    if loop.inner_for_in is not None:
        inner = _with_predicate(loop.inner_for_in, predicate)
        return loop.with_changes(whitespace_before=space, ifs=ifs, inner_for_in=inner)
    if predicate is not None:
        ifs.append(cst.CompIf(test=predicate))
    return loop.with_changes(whitespace_before=space, ifs=ifs)


def _len_of_lists(parsed: Parsed) -> int:
    return sum(
        1
        for n in own_nodes(parsed.function.body)
        if isinstance(n, cst.Call)
        and isinstance(n.func, cst.Name)
        and n.func.value == "len"
        and len(n.args) == 1
        and isinstance(n.args[0].value, cst.ListComp)
    )


def _shadowed(parsed: Parsed, name: str) -> bool:
    """`name` may not be the builtin here: bound in the module or the function."""
    facts = parsed.source.module
    function = parsed.function
    local = bound_names(function.body) | set(parameter_names(function))
    return name in facts.rebound or name in facts.imports or name in local or name not in _BUILTINS


TRANSFORM = CountWithLen()
