"""PP103: `x in [1, 2, 3]` / `x in names` inside a loop → a set, built once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import (
    Edit,
    apply_edits,
    insert_before,
    statement_index,
)
from perfpilot.skills.cst_helpers import (
    SCOPES,
    all_nodes,
    binding_sites,
    body_nodes,
    dotted_name,
    has_ancestor,
    is_constant,
    is_name,
    names_in,
    parent_map,
    shorten,
)
from perfpilot.skills.naming import local_name
from perfpilot.tools.model import Applicability

from .scope import Scope


@dataclass(frozen=True)
class _Group:
    """One opportunity: a literal test, or every test of one name in the statement hoisted."""

    kind: str  # "literal" | "name"
    targets: tuple[cst.ComparisonTarget, ...]
    left: cst.BaseExpression  # the tested value of the first target
    name: str | None = None  # the container's name (kind "name")
    hoist: cst.BaseStatement | None = None  # the set is built just before this statement
    safe: bool = False


@dataclass
class SetMembership(Transform):
    """Find membership tests against lists/tuples inside loops; test against a set instead."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per literal test, and per (container name, hoisted statement)."""
        calls = parsed.source.calls
        often = (
            f"; the function ran {calls:,} time{'s' if calls != 1 else ''} in the profile"
            if calls
            else ""
        )
        found = []
        for index, group in enumerate(_groups(parsed)):
            tested = shorten(parsed.code(group.left))
            if group.kind == "literal":
                comparator = group.targets[0].comparator
                size = len(comparator.elements)  # type: ignore[attr-defined]
                what = "tuple" if isinstance(comparator, cst.Tuple) else "list"
                title = f"Test membership in a set literal in `{parsed.source.name}`"
                evidence = (
                    f"`{tested} in ...` compares against each of the {size} {what} items in"
                    f" turn on every pass of the loop{often}; a set literal of constants is"
                    " folded into a frozenset constant and tested with one hash lookup"
                )
            else:
                title = f"Build a set from `{group.name}` once in `{parsed.source.name}`"
                evidence = (
                    f"`{tested} in {group.name}` scans the whole sequence on every pass of the"
                    f" loop{often}; a set built once before the loop answers in one hash lookup"
                )
            found.append(
                parsed.opportunity(
                    group.targets[0].comparator,
                    key=f"{group.kind}#{index}",
                    title=title,
                    evidence=evidence,
                    applicability=Applicability.SAFE if group.safe else Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Turn the literal into a set display, or hoist `name_set = set(name)` before the loop."""
        groups = _groups(parsed)
        group = opportunity.numbered(groups)
        if group is None or group.kind != opportunity.key.partition("#")[0]:
            return Rewrite.failed("the membership test is no longer in the function")
        edits: dict[cst.CSTNode, Edit] = {}
        if group.kind == "literal":
            target = group.targets[0]
            new_set = _set_display(target.comparator)
            edits[target] = lambda node: node.with_changes(comparator=new_set)  # type: ignore[attr-defined]
        else:
            assert group.name is not None and group.hoist is not None
            # The set is a local of the function: snake_case even for a module's CONSTANT.
            set_name = local_name(f"{group.name}_set", parsed.function, parsed.source.module)
            renamed = cst.Name(set_name)
            for target in group.targets:
                edits[target.comparator] = lambda node: renamed.with_changes(
                    lpar=node.lpar,  # type: ignore[attr-defined]
                    rpar=node.rpar,  # type: ignore[attr-defined]
                )
            build = cst.parse_statement(f"{set_name} = set({group.name})\n")
            edits[group.hoist] = insert_before(build)
        module = apply_edits(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One opportunity fewer; a hoisted set is built once and only ever membership-tested."""
        if len(_groups(after)) != len(_groups(before)) - 1:
            return "the rewritten function still tests membership in a list or tuple"
        new_names = binding_sites(after.function).keys() - binding_sites(before.function).keys()
        if opportunity.key.startswith("literal"):
            if new_names:
                return "the rewrite bound a new name"
            if _constant_sets(after) != _constant_sets(before) + 1:
                return "the new set display is not made of constants"
            return None
        if len(new_names) != 1:
            return "the rewrite must bind exactly one new name, the set"
        (set_name,) = new_names
        return _check_hoisted(after, set_name)


def _constant_sets(parsed: Parsed) -> int:
    """How many set displays of constants (hashable by construction) the function has."""
    return sum(
        1
        for node in body_nodes(parsed.function)
        if isinstance(node, cst.Set) and all(is_constant(e.value) for e in node.elements)
    )


def _check_hoisted(after: Parsed, set_name: str) -> str | None:
    """`set_name = set(name)` once, right before a statement that only tests membership in it
    and no longer mentions `name` at all (so it cannot change the list under the set)."""
    sites = binding_sites(after.function)[set_name]
    if len(sites) != 1 or not isinstance(sites[0], cst.Assign):
        return f"`{set_name}` must be assigned exactly once"
    value = sites[0].value
    if not (
        isinstance(value, cst.Call)
        and dotted_name(value.func) == "set"
        and len(value.args) == 1
        and isinstance(value.args[0].value, cst.Name)
    ):
        return f"`{set_name}` must be built with set(name)"
    source = value.args[0].value.value
    parents = parent_map(after.function)
    line = parents.get(sites[0])
    block = parents.get(line) if line is not None else None
    if not isinstance(block, cst.IndentedBlock):
        return f"`{set_name}` must be built by a statement of its own"
    siblings = list(block.body)
    position = statement_index(block, line)  # type: ignore[arg-type]
    if position + 1 >= len(siblings):
        return f"`{set_name}` is built but not used"
    following = siblings[position + 1]
    if source in names_in(following):
        return f"the loop still uses `{source}`, which may change under the set"
    uses = [n for n in all_nodes(after.function.body) if is_name(n, set_name)]
    tested = [
        t
        for t in all_nodes(following)
        if isinstance(t, cst.ComparisonTarget)
        and isinstance(t.operator, cst.In | cst.NotIn)
        and is_name(t.comparator, set_name)
    ]
    if not tested or len(tested) != len(uses) - 1:  # the other use: the assignment's target
        return f"`{set_name}` is used other than in `in` tests of the loop"
    scope = Scope(after)
    for test in tested:
        if not any(scope.contains(following, loop) for loop in scope.enclosing_loops(test)):
            return f"`{set_name}` is not built once before the loop that tests it"
    return None


def _groups(parsed: Parsed) -> list[_Group]:
    """Qualifying membership tests of the function, in source order."""
    scope = Scope(parsed)
    groups: list[_Group] = []
    covered: set[int] = set()  # tests already in a group (of an enclosing hoisted statement)
    for target, left in _membership_pairs(parsed.function):
        loops = scope.enclosing_loops(target)
        if not loops or id(target) in covered:
            continue  # evaluated once per call: nothing to amortize
        comparator = target.comparator
        if isinstance(comparator, cst.List | cst.Tuple):
            if _is_constant_sequence(comparator):
                groups.append(_Group("literal", (target,), left, safe=scope.exact(left)))
            continue
        if not isinstance(comparator, cst.Name):
            continue
        name = comparator.value
        hoist = scope.hoist_statement(name, loops)
        targets = _name_tests(hoist, name, scope) if hoist is not None else None
        if not targets or not any(t is target for t in targets):
            continue
        covered |= {id(t) for t in targets}
        groups.append(_Group("name", tuple(targets), left, name=name, hoist=hoist))
    return groups


def _membership_pairs(
    function: cst.FunctionDef,
) -> Iterator[tuple[cst.ComparisonTarget, cst.BaseExpression]]:
    """(`in`/`not in` target, its tested value) pairs of the function's own code."""
    for node in body_nodes(function):
        if not isinstance(node, cst.Comparison):
            continue
        left = node.left
        for target in node.comparisons:
            if isinstance(target.operator, cst.In | cst.NotIn):
                yield target, left
            left = target.comparator


def _is_constant_sequence(node: cst.List | cst.Tuple) -> bool:
    elements = node.elements
    return bool(elements) and all(
        not isinstance(e, cst.StarredElement) and is_constant(e.value) for e in elements
    )


def _set_display(node: cst.BaseExpression) -> cst.Set:
    """A set display with the list's/tuple's elements, brackets' whitespace and comments."""
    if isinstance(node, cst.List):
        elements = list(node.elements)
        lbrace = cst.LeftCurlyBrace(whitespace_after=node.lbracket.whitespace_after)
        rbrace = cst.RightCurlyBrace(whitespace_before=node.rbracket.whitespace_before)
        lpar, rpar = list(node.lpar), list(node.rpar)
    else:
        assert isinstance(node, cst.Tuple) and node.lpar
        elements = list(node.elements)
        lbrace = cst.LeftCurlyBrace(whitespace_after=node.lpar[-1].whitespace_after)
        rbrace = cst.RightCurlyBrace(whitespace_before=node.rpar[0].whitespace_before)
        lpar, rpar = list(node.lpar[:-1]), list(node.rpar[1:])
        if len(elements) == 1:  # `(1,)` needs its comma; `{1}` does not
            elements = [elements[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    return cst.Set(elements=elements, lbrace=lbrace, rbrace=rbrace, lpar=lpar, rpar=rpar)


def _name_tests(
    statement: cst.BaseStatement, name: str, scope: Scope
) -> list[cst.ComparisonTarget] | None:
    """Every `in name` test in the statement, or None when `name` is used any other way there."""
    tests = []
    for node in all_nodes(statement):
        if isinstance(node, cst.ComparisonTarget) and is_name(node.comparator, name):
            if isinstance(node.operator, cst.In | cst.NotIn):
                tests.append(node)
    uses = [n for n in all_nodes(statement) if is_name(n, name)]
    if len(uses) != len(tests):
        return None  # read, passed, mutated or iterated: the list may change in the loop
    for test in tests:
        if has_ancestor(test, scope.parents, SCOPES, statement):
            return None  # a closure would keep the set after the list changes
    return tests


TRANSFORM = SetMembership()
