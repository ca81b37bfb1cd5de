"""PP103: `x in [1, 2, 3]` / `x in names` inside a loop → a set, built once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_helpers import (
    body_nodes,
    children,
    dotted_name,
    is_constant,
    names_in,
    parameter_names,
    target_names,
)
from perfpilot.tools.model import Applicability

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
# Builtins whose result is an exact int/str/bool (never a subclass with its own __eq__).
_EXACT_RESULT = frozenset({"len", "ord", "chr", "hash", "bool", "int", "float", "id"})
_SEQUENCE_TYPES = frozenset({"list", "tuple", "List", "Tuple", "typing.List", "typing.Tuple"})
_SEQUENCE_BUILDERS = frozenset({"list", "tuple", "sorted"})

Edit = Callable[[cst.CSTNode], cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]]


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
            line, column, end_line, end_column = parsed.location(group.targets[0].comparator)
            tested = _short(parsed.code(group.left))
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
                Opportunity(
                    key=f"{group.kind}#{index}",
                    title=title,
                    evidence=evidence,
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=Applicability.SAFE if group.safe else Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Turn the literal into a set display, or hoist `name_set = set(name)` before the loop."""
        groups = _groups(parsed)
        kind, _, number = opportunity.key.partition("#")
        index = int(number) if number.isdigit() else -1
        if not 0 <= index < len(groups) or groups[index].kind != kind:
            return Rewrite.failed("the membership test is no longer in the function")
        group = groups[index]
        edits: dict[cst.CSTNode, Edit] = {}
        if group.kind == "literal":
            target = group.targets[0]
            new_set = _set_display(target.comparator)
            edits[target] = lambda node: node.with_changes(comparator=new_set)  # type: ignore[attr-defined]
        else:
            assert group.name is not None and group.hoist is not None
            wanted = f"{group.name}_SET" if group.name.isupper() else f"{group.name}_set"
            set_name = parsed.source.module.fresh_name(wanted, names_in(parsed.function))
            renamed = cst.Name(set_name)
            for target in group.targets:
                edits[target.comparator] = lambda node: renamed.with_changes(
                    lpar=node.lpar,  # type: ignore[attr-defined]
                    rpar=node.rpar,  # type: ignore[attr-defined]
                )
            hoist = group.hoist
            build = cst.parse_statement(f"{set_name} = set({group.name})\n")
            build = build.with_changes(leading_lines=hoist.leading_lines)
            edits[hoist] = lambda node: cst.FlattenSentinel(
                [build, node.with_changes(leading_lines=())]  # type: ignore[list-item]
            )
        module = parsed.module.visit(_Edits(edits))
        assert isinstance(module, cst.Module)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One opportunity fewer; a hoisted set is built once and only ever membership-tested."""
        if len(_groups(after)) != len(_groups(before)) - 1:
            return "the rewritten function still tests membership in a list or tuple"
        new_names = _bindings(after.function).keys() - _bindings(before.function).keys()
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
    sites = _bindings(after.function)[set_name]
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
    parents = _parent_map(after.function)
    line = parents.get(sites[0])
    block = parents.get(line) if line is not None else None
    if not isinstance(block, cst.IndentedBlock):
        return f"`{set_name}` must be built by a statement of its own"
    siblings = list(block.body)
    position = next(i for i, s in enumerate(siblings) if s is line)
    if position + 1 >= len(siblings):
        return f"`{set_name}` is built but not used"
    following = siblings[position + 1]
    if source in names_in(following):
        return f"the loop still uses `{source}`, which may change under the set"
    uses = [n for n in _all_nodes(after.function.body) if _is_name(n, set_name)]
    tested = [
        t
        for t in _all_nodes(following)
        if isinstance(t, cst.ComparisonTarget)
        and isinstance(t.operator, cst.In | cst.NotIn)
        and _is_name(t.comparator, set_name)
    ]
    if not tested or len(tested) != len(uses) - 1:  # the other use: the assignment's target
        return f"`{set_name}` is used other than in `in` tests of the loop"
    scope = _Scope(after)
    for test in tested:
        if not any(scope.contains(following, loop) for loop in scope.enclosing_loops(test)):
            return f"`{set_name}` is not built once before the loop that tests it"
    return None


class _Edits(cst.CSTTransformer):
    """Apply edits keyed by original node to the updated node (inner edits are kept)."""

    def __init__(self, edits: dict[cst.CSTNode, Edit]) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        edit = self.edits.get(original_node)
        return edit(updated_node) if edit is not None else updated_node


def _groups(parsed: Parsed) -> list[_Group]:
    """Qualifying membership tests of the function, in source order."""
    scope = _Scope(parsed)
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


class _Scope:
    """What the function binds, and where: enough to know a name's type and lifetime."""

    def __init__(self, parsed: Parsed) -> None:
        self.function = parsed.function
        self.facts = parsed.source.module
        self.parents = _parent_map(parsed.function)
        self.bindings = _bindings(parsed.function)
        self.declared = _declared_outside(parsed.function)
        self.params = set(parameter_names(parsed.function))

    def local(self, name: str) -> bool:
        """Bound in the function, or declared global/nonlocal: not (only) the builtin."""
        return name in self.bindings or name in self.params or name in self.declared

    def is_builtin(self, name: str) -> bool:
        """`name` can only be the builtin: bound neither here nor at module level."""
        facts = self.facts
        return not (self.local(name) or name in facts.rebound or name in facts.imports)

    def exact(self, node: cst.BaseExpression, depth: int = 0) -> bool:
        """The value is an exact str/bytes/int/float/bool/None: hashable, and equal only to
        what hashes the same (no subclass with its own __eq__ can come out of it)."""
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            return is_constant(node)
        if isinstance(node, cst.Integer | cst.Float | cst.Imaginary):
            return True
        if isinstance(node, cst.FormattedString):
            # f"{x}" alone may return x.__format__'s str subclass; joined parts are exact.
            return len(node.parts) >= 2
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            return node.func.value in _EXACT_RESULT and self.is_builtin(node.func.value)
        if not isinstance(node, cst.Name):
            return False
        if node.value in ("True", "False", "None"):
            return True
        sites = self.bindings.get(node.value, [])
        if depth > 5 or node.value in self.params or node.value in self.declared:
            return False
        site = sites[0] if len(sites) == 1 else None
        if isinstance(site, cst.Assign) and len(site.targets) == 1:
            return self.exact(site.value, depth + 1)
        if isinstance(site, cst.For) and isinstance(site.target, cst.Name):
            iterator = site.iter  # `for i in range(...)` yields exact ints
            return (
                isinstance(iterator, cst.Call)
                and dotted_name(iterator.func) == "range"
                and self.is_builtin("range")
            )
        return False

    def hoist_statement(self, name: str, loops: list[cst.CSTNode]) -> cst.BaseStatement | None:
        """The statement to build the set before, when `name` is a list/tuple fixed there."""
        if name in self.declared:
            return None
        sites = self.bindings.get(name, [])
        binding: cst.CSTNode | None = None
        if name in self.params:
            if sites or not _is_sequence_param(self.function, name):
                return None
        elif len(sites) == 1 and self.sequence_value(sites[0]):
            binding = sites[0]
        else:
            return None
        # The outermost loop that does not contain the binding: the name is fixed inside it.
        chosen = None
        for loop in loops:
            if binding is not None and self.contains(loop, binding):
                break
            chosen = loop
        statement = self.block_statement(chosen) if chosen is not None else None
        if statement is None or (binding is not None and not self.runs_before(binding, statement)):
            return None
        return statement

    def sequence_value(self, site: cst.CSTNode) -> bool:
        """`name = [...]`: a list/tuple display, a list comprehension, list()/tuple()/sorted()."""
        value: cst.BaseExpression | None = None
        if isinstance(site, cst.Assign) and len(site.targets) == 1:
            if isinstance(site.targets[0].target, cst.Name):
                value = site.value
        elif isinstance(site, cst.AnnAssign) and isinstance(site.target, cst.Name):
            value = site.value
        if isinstance(value, cst.List | cst.Tuple | cst.ListComp):
            return True
        return (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Name)
            and value.func.value in _SEQUENCE_BUILDERS
            and self.is_builtin(value.func.value)
        )

    def enclosing_loops(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """Loops that evaluate `node` once per pass, innermost first ([] in a nested scope)."""
        loops: list[cst.CSTNode] = []
        previous, current = node, node
        while current is not self.function and current in self.parents:
            parent = self.parents[current]
            if isinstance(parent, _SCOPES) and parent is not self.function:
                return []  # inside a lambda/def/class: that one is its own target
            if isinstance(parent, cst.For) and current is parent.body:
                loops.append(parent)
            elif isinstance(parent, cst.While) and current in (parent.body, parent.test):
                loops.append(parent)
            elif isinstance(parent, _COMPREHENSIONS):
                # The outermost iterable is evaluated once, before the comprehension runs.
                if not (current is parent.for_in and previous is parent.for_in.iter):
                    loops.append(parent)
            previous, current = current, parent
        return loops

    def block_statement(self, node: cst.CSTNode) -> cst.BaseStatement | None:
        """The statement holding `node` that sits directly in an indented block."""
        current = node
        while current is not self.function and current in self.parents:
            parent = self.parents[current]
            if isinstance(parent, cst.IndentedBlock) and isinstance(current, cst.BaseStatement):
                return current
            current = parent
        return None

    def contains(self, outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
        """`inner` is `outer` or under it."""
        current: cst.CSTNode | None = inner
        while current is not None and current is not outer:
            current = self.parents.get(current)
        return current is outer

    def runs_before(self, binding: cst.CSTNode, statement: cst.BaseStatement) -> bool:
        """The binding's line is an earlier sibling of the statement or of one of its parents:
        it has run whenever the statement runs (so the set never reads an unbound name)."""
        line = self.parents.get(binding)
        block = self.parents.get(line) if line is not None else None
        if not isinstance(line, cst.SimpleStatementLine) or not isinstance(
            block, cst.IndentedBlock
        ):
            return False
        siblings = list(block.body)
        position = next(i for i, s in enumerate(siblings) if s is line)
        current: cst.CSTNode | None = statement
        while current is not None and self.parents.get(current) is not block:
            current = self.parents.get(current)
        return current is not None and any(s is current for s in siblings[position + 1 :])


def _is_sequence_param(function: cst.FunctionDef, name: str) -> bool:
    """`*args`, or a parameter annotated `list[...]`/`tuple[...]` (annotations can lie:
    this is one reason the fix is unsafe)."""
    params = function.params
    star = params.star_arg
    if isinstance(star, cst.Param) and star.name.value == name:
        return True
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name and param.annotation is not None:
            annotation = param.annotation.annotation
            if isinstance(annotation, cst.Subscript):
                annotation = annotation.value
            return dotted_name(annotation) in _SEQUENCE_TYPES
    return False


def _name_tests(
    statement: cst.BaseStatement, name: str, scope: _Scope
) -> list[cst.ComparisonTarget] | None:
    """Every `in name` test in the statement, or None when `name` is used any other way there."""
    tests = []
    for node in _all_nodes(statement):
        if isinstance(node, cst.ComparisonTarget) and _is_name(node.comparator, name):
            if isinstance(node.operator, cst.In | cst.NotIn):
                tests.append(node)
    uses = [n for n in _all_nodes(statement) if _is_name(n, name)]
    if len(uses) != len(tests):
        return None  # read, passed, mutated or iterated: the list may change in the loop
    for test in tests:
        current = scope.parents.get(test)
        while current is not None and current is not statement:
            if isinstance(current, _SCOPES):
                return None  # a closure would keep the set after the list changes
            current = scope.parents.get(current)
    return tests


def _all_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def _is_name(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _parent_map(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    for node in _all_nodes(root):
        for child in children(node):
            parents[child] = node
    return parents


def _bindings(function: cst.FunctionDef) -> dict[str, list[cst.CSTNode]]:
    """Name → the nodes binding it in the function's own scope (comprehension targets too)."""
    found: dict[str, list[cst.CSTNode]] = {}

    def add(names: set[str], node: cst.CSTNode) -> None:
        for name in names:
            found.setdefault(name, []).append(node)

    for node in body_nodes(function):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                add(target_names(target.target), node)
        elif isinstance(node, cst.AnnAssign | cst.AugAssign):
            add(target_names(node.target), node)
        elif isinstance(node, cst.For | cst.CompFor):
            add(target_names(node.target), node)
        elif isinstance(node, cst.AsName):
            add(target_names(node.name), node)
        elif isinstance(node, cst.NamedExpr):
            add(target_names(node.target), node)
        elif isinstance(node, cst.FunctionDef | cst.ClassDef):
            add({node.name.value}, node)
        elif isinstance(node, cst.Del):
            add(target_names(node.target), node)
        elif isinstance(node, cst.ImportAlias):
            bound = node.asname.name if node.asname else node.name
            add({(dotted_name(bound) or "").split(".")[0]}, node)
        elif isinstance(node, cst.MatchAs | cst.MatchStar) and node.name is not None:
            add({node.name.value}, node)
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            add({node.rest.value}, node)
    return found


def _declared_outside(function: cst.FunctionDef) -> set[str]:
    """Names declared global/nonlocal anywhere in the function, nested functions included."""
    names: set[str] = set()
    for node in _all_nodes(function.body):
        if isinstance(node, cst.Global | cst.Nonlocal):
            names |= {item.name.value for item in node.names}
    return names


def _short(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= 40 else code[:37] + "..."


TRANSFORM = SetMembership()
