"""PP107: a lookup repeated on every iteration of a hot loop → a local alias made before it.

Whether the alias helps depends on the Python version (3.11+ specializes LOAD_ATTR,
LOAD_GLOBAL and method calls), so each kind of lookup is offered only on the versions where
benchmarks/bench_local_alias.py measured it faster; see SKILL.md for the table.
"""

from __future__ import annotations

import builtins
import keyword
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_helpers import (
    body_nodes,
    bound_names,
    children,
    dotted_name,
    own_nodes,
    parameter_names,
    target_names,
)
from perfpilot.tools.model import Applicability

THRESHOLD = 0.05  # an alias under 5% faster in a loop doing nothing else is not worth an edit

MEASURED_ON = ((3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13))


def _ranges(row: str) -> dict[tuple[int, int], tuple[float, float]]:
    """`"9.3/11.6 ..."` (percent, one low/high pair per version of MEASURED_ON) as fractions."""
    pairs = [tuple(float(p) / 100 for p in cell.split("/")) for cell in row.split()]
    return {v: (low, high) for v, (low, high) in zip(MEASURED_ON, pairs, strict=True)}


# kind → {version: (lowest, highest) saving of its worst variant over repeated runs} from
# benchmarks/bench_local_alias.py (CPython 3.8.18 ... 3.13.0, 300,000 iterations, median of
# 21-31, 3-4 runs each). The lowest above THRESHOLD: a fix; only the highest above it: shown,
# not offered; neither: not reported.
MEASURED = {
    "method": _ranges("9.3/11.6 10.0/11.4 9.7/12.3 -7.0/1.4 -5.4/-4.4 -9.1/-3.0"),
    "module-attribute": _ranges("25.4/27.0 23.3/23.8 26.5/29.2 3.4/11.7 3.9/7.4 7.1/8.5"),
    "builtin": _ranges("5.8/13.2 10.4/11.3 11.7/12.4 0.1/3.7 -2.3/1.6 -5.0/2.9"),
}
# Builtins that are plain functions or types of their arguments. Not `super` (its zero-argument
# form needs the name), nor the frame-sensitive ones (locals, vars, dir, eval, exec, globals).
_BUILTINS = frozenset(
    "abs all any ascii bin bool bytearray bytes callable chr complex dict divmod enumerate"
    " filter float format frozenset getattr hasattr hash hex id int isinstance issubclass iter"
    " len list map max min next oct ord pow range repr reversed round set slice sorted str sum"
    " tuple type zip".split()
)
# Names through which a loop can rebind a module, a builtin or a local behind our back.
_DYNAMIC = frozenset(
    "globals locals vars exec eval setattr delattr builtins __builtins__ __import__".split()
)
_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
Loop = cst.For | cst.While


@dataclass(frozen=True)
class _Candidate:
    loop: cst.For | cst.While
    loop_index: int  # among the function's own loops, in source order
    dotted: str  # "out.append", "math.sqrt", "len"
    kind: str
    uses: tuple[cst.Call, ...]

    @property
    def key(self) -> str:
        return f"{self.dotted}@loop{self.loop_index}"


@dataclass
class LocalAlias(Transform):
    """Alias a method, module attribute or builtin called in a loop, where it is measured faster."""

    min_python: tuple[int, int] = (3, 8)
    max_python: tuple[int, int] | None = (3, 13)
    python: tuple[int, int] | None = None  # the target version; None: the running interpreter

    def target(self) -> tuple[int, int]:
        """The Python version the decision is made for."""
        return self.python or (sys.version_info[0], sys.version_info[1])

    def verdict(self, kind: str) -> tuple[Applicability | None, tuple[float, float] | None]:
        """What a kind may claim on the target version, and the numbers behind it."""
        measured = MEASURED.get(kind, {}).get(self.target())
        if measured is None or measured[1] <= THRESHOLD:
            return None, measured
        if measured[0] > THRESHOLD:
            return Applicability.UNSAFE, measured
        return Applicability.DISPLAY_ONLY, measured

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per (loop, lookup) whose kind is measured to help on the target."""
        opportunities = []
        version = ".".join(map(str, self.target()))
        calls = parsed.source.calls
        often = (
            f"; the function ran {calls:,} time{'s' if calls != 1 else ''} in the profile"
            if calls
            else ""
        )
        for candidate in _candidates(parsed):
            claim, measured = self.verdict(candidate.kind)
            if claim is None or measured is None:
                continue
            low, high = measured
            func = candidate.uses[0].func
            line, column, end_line, end_column = parsed.location(func)
            loop_line = parsed.location(candidate.loop)[0]
            measured = (
                f"{low:.0%} to {high:.0%}" if round(low, 2) != round(high, 2) else f"{low:.0%}"
            )
            verdict = (
                f"a local alias measured {measured} faster on Python {version}"
                if claim == Applicability.UNSAFE
                else f"a local alias measured only {measured} faster on Python {version}"
                " (not reliably above 5%): shown, not offered as a fix"
            )
            opportunities.append(
                Opportunity(
                    key=candidate.key,
                    title=(
                        f"Alias `{candidate.dotted}` to a local before the loop in"
                        f" `{parsed.source.name}`"
                    ),
                    evidence=(
                        f"`{candidate.dotted}` ({candidate.kind.replace('-', ' ')}) is looked"
                        f" up on every iteration of the loop at line {loop_line}{often};"
                        f" {verdict} (benchmarks/bench_local_alias.py). The alias freezes the"
                        " binding: a reassignment during the loop is no longer seen"
                    ),
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    applicability=claim,
                    effect=max(low / 2, 0.01),  # the benchmark loop does nothing else
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Assign the alias just before the loop and call it at every use in the loop."""
        candidate = next((c for c in _candidates(parsed) if c.key == opportunity.key), None)
        if candidate is None:
            return Rewrite.failed("the lookup is no longer in the loop")
        alias = _alias_name(parsed, candidate)
        statement = cst.SimpleStatementLine(
            [
                cst.Assign(
                    [cst.AssignTarget(cst.Name(alias))], cst.parse_expression(candidate.dotted)
                )
            ],
            leading_lines=candidate.loop.leading_lines,  # comments above the loop stay on top
        )
        module = parsed.module.visit(_Alias(candidate, alias, statement))
        assert isinstance(module, cst.Module)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """The loop must be preceded by `alias = <lookup>`, call only the alias, never rebind it."""
        dotted, _, index = opportunity.key.rpartition("@loop")
        loops = [n for n in body_nodes(after.function) if isinstance(n, Loop)]
        if not index.isdigit() or int(index) >= len(loops):
            return "the loop is gone from the rewritten function"
        loop = loops[int(index)]
        parents = _parents(after.function)
        block = parents.get(loop)
        body = list(getattr(block, "body", ()))
        previous = body[body.index(loop) - 1] if loop in body and body.index(loop) > 0 else None
        alias = _assigned_alias(previous, dotted)
        if alias is None:
            return f"no `alias = {dotted}` right before the loop"
        if any(dotted_name(call.func) == dotted for call in _hot_calls(loop)):
            return f"the loop still looks `{dotted}` up"
        if not any(dotted_name(call.func) == alias for call in _hot_calls(loop)):
            return "the loop does not call the alias"
        if alias in _rebound_in(loop):
            return f"the loop rebinds the alias `{alias}`"
        bindings = [n for n in body_nodes(after.function) if _binds(n, alias)]
        if len(bindings) != 1 or alias in parameter_names(after.function):
            return f"the alias `{alias}` is bound elsewhere in the function"
        return None


class _Alias(cst.CSTTransformer):
    """Replace the uses with the alias and put the alias assignment before the loop."""

    def __init__(self, candidate: _Candidate, alias: str, statement: cst.BaseStatement) -> None:
        super().__init__()
        self.uses = {id(call.func) for call in candidate.uses}
        self.loop = candidate.loop
        self.alias = alias
        self.statement = statement

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        if id(original_node) in self.uses:
            return cst.Name(self.alias)
        if original_node is self.loop and isinstance(updated_node, Loop):
            return cst.FlattenSentinel(
                [self.statement, updated_node.with_changes(leading_lines=())]
            )
        return updated_node


def _candidates(parsed: Parsed) -> list[_Candidate]:
    """Every (loop, lookup) that may be aliased, hoisted to the outermost loop that allows it."""
    function = parsed.function
    own = list(body_nodes(function))
    if any(isinstance(n, cst.Yield) for n in own):
        return []  # a generator: the alias lives across yields while the consumer runs
    if any(isinstance(n, cst.Name) and n.value in ("locals", "vars") for n in own):
        return []  # the new local would show in locals()
    locals_ = set(parameter_names(function)) | bound_names(function.body) | _deleted(function.body)
    declared = _declared(function)  # global/nonlocal anywhere, nested functions included
    parents = _parents(function)
    loops = [n for n in own if isinstance(n, Loop)]
    found: list[_Candidate] = []
    for index, loop in enumerate(loops):
        if not _quiet(loop):
            continue
        rebound = _rebound_in(loop)
        groups: dict[str, list[cst.Call]] = {}
        for call in _hot_calls(loop):
            dotted = dotted_name(call.func)
            if dotted is not None:
                groups.setdefault(dotted, []).append(call)
        for dotted, uses in groups.items():
            if any(c.dotted == dotted and _inside(loop, c.loop, parents) for c in found):
                continue  # already hoisted above an enclosing loop
            kind = _kind(dotted, uses, loop, parsed, locals_, declared, rebound, parents)
            if kind is not None:
                found.append(_Candidate(loop, index, dotted, kind, tuple(uses)))
    return found


def _kind(
    dotted: str,
    uses: list[cst.Call],
    loop: cst.For | cst.While,
    parsed: Parsed,
    locals_: set[str],
    declared: set[str],
    rebound: set[str],
    parents: dict[cst.CSTNode, cst.CSTNode],
) -> str | None:
    """The kind of lookup `dotted` is in this loop, or None when aliasing it is not provable."""
    facts = parsed.source.module
    parts = dotted.split(".")
    base = parts[0]
    if base in declared or base in rebound:
        return None
    if len(parts) == 1:
        module_level = base in facts.rebound or base in facts.imports
        return "builtin" if base in _BUILTINS and base not in locals_ and not module_level else None
    if _in_nested_scope(loop, base):
        return None
    references = [n for n in own_nodes(loop) if _refers(n, base, parents)]
    if any(_in_target(n, parents) for n in references):
        return None  # `base.x = ...`, `del base.x`, `for base.x in ...`
    if base in facts.imports and base not in facts.rebound and base not in locals_:
        # Every mention of the module must be an attribute read: no `reload(m)`, no `f(m)`.
        if all(isinstance(parents.get(n), cst.Attribute) for n in references):
            return "module-attribute"
        return None
    if len(parts) != 2 or base not in locals_ or parts[1].startswith("__"):
        return None
    # A local's method: the loop may mention the local only in the calls being aliased (any
    # other use, even `len(out)`, could reach code that reassigns the attribute).
    funcs = {id(call.func) for call in uses}
    if any(id(parents.get(n)) not in funcs for n in references):
        return None
    return "method" if _bound_before(base, loop, parsed, parents) else None


def _hot_calls(loop: cst.For | cst.While) -> Iterator[cst.Call]:
    """Calls evaluated on every iteration: the body, and the test of a while loop."""
    parts: list[cst.CSTNode] = [loop.body] + ([loop.test] if isinstance(loop, cst.While) else [])
    for part in parts:
        for node in [part, *own_nodes(part)]:
            if isinstance(node, cst.Call):
                yield node


def _quiet(loop: cst.For | cst.While) -> bool:
    """No await, no match, no dynamic rebinding tools anywhere in the loop."""
    if isinstance(loop, cst.For) and loop.asynchronous is not None:
        return False
    for node in _all_nodes(loop):
        if isinstance(node, cst.Await | cst.Match):
            return False
        if isinstance(node, cst.With) and node.asynchronous is not None:
            return False
        if isinstance(node, cst.Name) and node.value in _DYNAMIC:
            return False
    return True


def _rebound_in(loop: cst.For | cst.While) -> set[str]:
    """Names the loop statement binds or deletes (its own target included)."""
    names = bound_names(loop) | _deleted(loop)
    if isinstance(loop, cst.For):
        names |= target_names(loop.target)
    return names


def _deleted(root: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    for node in own_nodes(root):
        if isinstance(node, cst.Del):
            names |= target_names(node.target)
    return names


def _declared(function: cst.FunctionDef) -> set[str]:
    """Names under `global` / `nonlocal` anywhere in the function, nested scopes included."""
    return {
        item.name.value
        for node in _all_nodes(function)
        if isinstance(node, cst.Global | cst.Nonlocal)
        for item in node.names
    }


def _all_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


def _parents(function: cst.FunctionDef) -> dict[cst.CSTNode, cst.CSTNode]:
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    for node in [function.body, *own_nodes(function.body)]:
        if not isinstance(node, _SCOPES):
            for child in children(node):
                parents[child] = node
    return parents


def _refers(node: cst.CSTNode, name: str, parents: dict[cst.CSTNode, cst.CSTNode]) -> bool:
    """A Name that reads or binds `name` (not an attribute's name, not a keyword argument)."""
    if not isinstance(node, cst.Name) or node.value != name:
        return False
    parent = parents.get(node)
    if isinstance(parent, cst.Attribute) and parent.attr is node:
        return False
    return not (isinstance(parent, cst.Arg) and parent.keyword is node)


def _in_target(node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]) -> bool:
    """Whether `node` is inside something assigned, deleted or bound."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, cst.AssignTarget | cst.Del | cst.AsName):
            return True
        if isinstance(parent, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor):
            if parent.target is child:
                return True
        if isinstance(parent, cst.NamedExpr) and parent.target is child:
            return True
        if isinstance(parent, cst.BaseStatement):
            return False
        child, parent = parent, parents.get(parent)
    return False


def _in_nested_scope(loop: cst.For | cst.While, name: str) -> bool:
    """Whether a def, lambda or class inside the loop mentions `name`."""
    for node in own_nodes(loop):
        if isinstance(node, _SCOPES):
            if any(isinstance(n, cst.Name) and n.value == name for n in _all_nodes(node)):
                return True
    return False


def _inside(
    node: cst.CSTNode, ancestor: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]
) -> bool:
    current = parents.get(node)
    while current is not None:
        if current is ancestor:
            return True
        current = parents.get(current)
    return False


def _bound_before(
    name: str, loop: cst.CSTNode, parsed: Parsed, parents: dict[cst.CSTNode, cst.CSTNode]
) -> bool:
    """Whether `name` surely holds a value when the loop starts: the alias is evaluated there."""
    if name in parameter_names(parsed.function):
        return True
    node, parent = loop, parents.get(loop)
    while parent is not None:
        if isinstance(parent, cst.With) and any(
            item.asname is not None and name in target_names(item.asname.name)
            for item in parent.items
        ):
            return True
        if (
            isinstance(parent, cst.For)
            and node is parent.body
            and name in target_names(parent.target)
        ):
            return True
        siblings = (
            list(getattr(parent, "body", ())) if isinstance(parent, cst.IndentedBlock) else []
        )
        if node in siblings:
            for statement in siblings[: siblings.index(node)]:
                if isinstance(statement, cst.SimpleStatementLine) and any(
                    _binds(small, name) for small in statement.body
                ):
                    return True
        node, parent = parent, parents.get(parent)
    return False


def _binds(node: cst.CSTNode, name: str) -> bool:
    """A plain `name = ...` (or `name: T = ...`) assignment statement."""
    if isinstance(node, cst.Assign):
        return any(name in target_names(t.target) for t in node.targets)
    if isinstance(node, cst.AnnAssign):
        return node.value is not None and name in target_names(node.target)
    return False


def _alias_name(parsed: Parsed, candidate: _Candidate) -> str:
    """`append` for `out.append`, `len_` for `len`: unused in the function and the module."""
    facts = parsed.source.module
    # Module-level names and builtins too: shadowing them would only confuse a reader.
    function = parsed.function
    taken = _references(function.params) | _references(function.body)
    taken |= set(facts.imports) | facts.rebound | set(dir(builtins))
    last = candidate.dotted.rsplit(".", 1)[-1].strip("_") or "alias"
    wanted = last if "." in candidate.dotted else f"{last}_"
    name, number = wanted, 1
    while name in taken or keyword.iskeyword(name):
        number += 1
        name = f"{last}_{number}"
    return name


def _references(root: cst.CSTNode) -> set[str]:
    """Names read or bound anywhere under `root` (attribute names and keywords excluded)."""
    skip: set[int] = set()
    for node in _all_nodes(root):
        if isinstance(node, cst.Attribute):
            skip.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            skip.add(id(node.keyword))
    return {n.value for n in _all_nodes(root) if isinstance(n, cst.Name) and id(n) not in skip}


def _assigned_alias(statement: cst.CSTNode | None, dotted: str) -> str | None:
    """`alias` when `statement` is exactly `alias = <dotted>`."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    target = assign.targets[0].target
    if not isinstance(target, cst.Name) or dotted_name(assign.value) != dotted:
        return None
    return target.value


TRANSFORM = LocalAlias()
