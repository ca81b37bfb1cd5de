"""What a loop may change: names it rebinds, objects it mutates directly, by call or via aliases.

The model is per name and deliberately coarse: a name is *changed* when the loop rebinds it,
*mutated* when the object it refers to may change, and *deep* when objects inside it (its items,
its attributes' objects) may change. Aliases share mutation both ways (`row = grid[0]`); a
container that stores a part of another (`out.append(items[i])`) passes on only deep mutation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from perfpilot.skills.cst_helpers import (
    bound_names,
    declared_names,
    dotted_name,
    names_in,
    own_nodes,
    target_names,
    target_parts,
)
from perfpilot.tools.module_facts import ModuleFacts

# Builtins whose result depends only on their arguments and that do not mutate them.
PURE_BUILTINS = frozenset(
    "len abs min max sum sorted set frozenset tuple list str int float bool round divmod pow"
    " ord chr repr any all isinstance hash bin hex oct".split()
)
# Calls that read their arguments without keeping or changing them (print only writes them out).
_READING_BUILTINS = PURE_BUILTINS | {
    "print",
    "id",
    "type",
    "format",
    "callable",
    "range",
    "enumerate",
    "zip",
    "reversed",
}
# Builtins returning a new number/str/bool: the result aliases nothing.
_SCALAR_BUILTINS = frozenset(
    "len abs sum round divmod pow ord chr repr str int float bool hash isinstance bin hex oct"
    " any all range".split()
)
# Module functions that are pure: whole modules, and a few os.path string operations.
_PURE_MODULES = frozenset({"math", "statistics", "cmath", "operator"})
_PURE_FUNCTIONS = frozenset(
    f"{module}.{name}"
    for module in ("os.path", "posixpath")
    for name in ("join", "basename", "dirname", "splitext", "split", "normpath", "normcase")
)
# Methods of str/bytes values and read-only mapping views: pure on an invariant receiver.
VALUE_METHODS = frozenset(
    "casefold center count encode decode endswith find format index isalnum isalpha isdigit"
    " islower isspace isupper join ljust lower lstrip partition removeprefix removesuffix"
    " replace rfind rindex rjust rpartition rsplit rstrip split splitlines startswith strip"
    " title upper zfill keys values items".split()
)
# Method calls in the loop that do not change their receiver (anything else may).
READ_ONLY_METHODS = VALUE_METHODS | {"get", "copy", "bit_length", "is_integer", "__contains__"}
# Container methods that change only the container itself (its arguments are stored, not changed).
_CONTAINER_METHODS = frozenset(
    "append add insert extend appendleft extendleft setdefault update put put_nowait pop"
    " popleft popitem remove discard clear sort reverse".split()
)


@dataclass
class Changes:
    """Names a loop rebinds or whose objects it may mutate."""

    changed: set[str] = field(default_factory=set)  # rebound in the loop
    mutated: set[str] = field(default_factory=set)  # the object may change
    deep: set[str] = field(default_factory=set)  # objects inside it may change

    @property
    def variant(self) -> set[str]:
        """Every name whose value, read in the loop, may differ between iterations."""
        return self.changed | self.mutated | self.deep


def loop_changes(
    function: cst.FunctionDef, loop: cst.For | cst.While, facts: ModuleFacts, receivers: set[str]
) -> Changes:
    """What `loop` may change, `receivers` being names (`self`) any method call may change."""
    # Names under `global`/`nonlocal` anywhere in the function: any call may rebind them.
    found = Changes(changed=bound_names(loop) | declared_names(function.body))
    if isinstance(loop, cst.For):
        found.changed |= target_names(loop.target)
    contains: list[tuple[str, str]] = []  # (container, name a part of which it stores)
    for node in own_nodes(loop):
        if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            captured = names_in(node)  # a closure may change what it captures, later
            found.mutated |= captured
            found.deep |= captured
        elif isinstance(node, cst.CompFor):
            found.changed |= target_names(node.target)
        elif isinstance(node, cst.Del | cst.AssignTarget | cst.AugAssign | cst.AnnAssign):
            for part in target_parts(node.target):
                if isinstance(part, cst.Name):
                    found.changed.add(part.value)
                    if isinstance(node, cst.AugAssign):  # `x += y` extends a list in place
                        found.mutated.add(part.value)
                elif (name := root(part)) is not None:
                    found.mutated.add(name)
                    if _depth(part) > 1:  # `a[i][j] = v` changes the object `a[i]`
                        found.deep.add(name)
        elif isinstance(node, cst.MatchCase):
            found.changed |= names_in(node.pattern)
        elif isinstance(node, cst.Call):
            contains += _call_effects(node, receivers, facts, found)
    aliases, stores = _alias_edges(function, facts)
    contains += stores
    grew = True
    while grew:  # propagate to a fixed point: at most one pass per name
        grew = False
        for left, right in aliases:
            for kind in (found.mutated, found.deep):
                if (left in kind) != (right in kind):
                    kind |= {left, right}
                    grew = True
        for container, part in contains:
            if container in found.deep and part not in found.deep:
                found.mutated.add(part)
                found.deep.add(part)
                grew = True
    return found


def _call_effects(
    call: cst.Call, receivers: set[str], facts: ModuleFacts, found: Changes
) -> list[tuple[str, str]]:
    """Record what a call may mutate; returns (container, stored) pairs of container methods."""
    func = call.func
    if isinstance(func, cst.Name) and func.value in _READING_BUILTINS or module_call(func, facts):
        return []
    if not isinstance(func, cst.Attribute):
        # `pop = items.pop; pop()`: calling a bound method (or a closure) changes its object.
        callee = exposed(func, facts)
        found.mutated |= callee
        found.deep |= callee
    arguments: set[str] = set().union(*(exposed(a.value, facts) for a in call.args))
    if isinstance(func, cst.Attribute):
        name = root(func.value)
        method = func.attr.value
        on_self = isinstance(func.value, cst.Name) and name in receivers
        if method in READ_ONLY_METHODS and not on_self:
            return []  # `d.get(k, default)`, `s.split(sep)` change neither `d` nor `default`
        if name is not None:
            found.mutated.add(name)
            if method in _CONTAINER_METHODS and not on_self:
                if _depth(func.value) > 0:  # `grid[0].append(x)` changes a part of `grid`
                    found.deep.add(name)
                return [(name, stored) for stored in arguments]
            found.deep.add(name)
    found.mutated |= arguments  # an unknown callee may change whatever it is given
    found.deep |= arguments
    return []


def _alias_edges(
    function: cst.FunctionDef, facts: ModuleFacts
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(aliases, stores): names that may share an object; containers that store a part of one."""
    aliases: list[tuple[str, str]] = []
    stores: list[tuple[str, str]] = []
    for node in own_nodes(function.body):
        pairs: list[tuple[cst.CSTNode, cst.CSTNode]] = []
        if isinstance(node, cst.Assign):
            pairs = [(t.target, node.value) for t in node.targets]
        elif isinstance(node, cst.AugAssign | cst.AnnAssign | cst.NamedExpr):
            if node.value is not None:
                pairs = [(node.target, node.value)]
        elif isinstance(node, cst.For | cst.CompFor):
            pairs = [(node.target, node.iter)]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            pairs = [(node.asname.name, node.item)]
        for target, value in pairs:
            sources = exposed(value, facts)
            for part in target_parts(target):
                name = root(part)
                if name is None:
                    continue
                edges = aliases if isinstance(part, cst.Name) else stores
                edges += [(name, source) for source in sources if source != name]
    return aliases, stores


def exposed(node: cst.CSTNode, facts: ModuleFacts) -> set[str]:
    """Names whose object (or a part of it) `node` evaluates to: what an alias would share."""
    if isinstance(node, cst.Name):
        return {node.value}
    if isinstance(node, cst.Attribute | cst.Subscript | cst.StarredElement | cst.NamedExpr):
        return exposed(node.value, facts)
    if isinstance(node, cst.Tuple | cst.List | cst.Set):
        return set().union(*(exposed(e.value, facts) for e in node.elements))
    if isinstance(node, cst.Dict):
        found: set[str] = set()
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                found |= exposed(element.key, facts)
            found |= exposed(element.value, facts)
        return found
    if isinstance(node, cst.IfExp):
        return exposed(node.body, facts) | exposed(node.orelse, facts)
    if isinstance(node, cst.BooleanOperation):
        return exposed(node.left, facts) | exposed(node.right, facts)
    if isinstance(node, cst.Call):
        if isinstance(node.func, cst.Name) and node.func.value in _SCALAR_BUILTINS:
            return set()
        if module_call(node.func, facts):
            return set()  # math/statistics functions return numbers
        # A call may return its receiver, an argument, or a part of one.
        found = exposed(node.func.value, facts) if isinstance(node.func, cst.Attribute) else set()
        return found.union(*(exposed(a.value, facts) for a in node.args))
    return set()


def module_call(func: cst.BaseExpression, facts: ModuleFacts) -> bool:
    """A call of a known-pure module function (`statistics.median`, an imported `sqrt`)."""
    dotted = dotted_name(func)
    if dotted is None:
        return False
    first = dotted.split(".")[0]
    target = facts.imports.get(first)
    if target is None or first in facts.rebound:
        return False
    return pure_target(target + dotted[len(first) :])


def pure_target(target: str) -> bool:
    """`statistics.median`, `math.sqrt`, `os.path.join`: a module function known to be pure."""
    module, _, _ = target.rpartition(".")
    return module in _PURE_MODULES or target in _PURE_FUNCTIONS


def root(node: cst.CSTNode) -> str | None:
    """`a` for `a`, `a.b`, `a[i].c`; None for anything else."""
    while isinstance(node, cst.Attribute | cst.Subscript):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _depth(node: cst.CSTNode) -> int:
    """How many attribute/subscript steps lead from the root name to `node`."""
    steps = 0
    while isinstance(node, cst.Attribute | cst.Subscript):
        node = node.value
        steps += 1
    return steps
