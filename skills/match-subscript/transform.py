"""PP140: `m.group()` / `m.group(g)` on a regex match → `m[0]` / `m[g]`.

`re.Match.__getitem__` (3.6+) returns exactly what `group` with one argument returns, through
the subscript slot: no bound-method object, no argument tuple. It fires only where the
receiver is a local whose every binding in the function is a regex match (a call of
`match`/`search`/`fullmatch`, or a `for` over `finditer`), so the subscript is meant for a
`re.Match`; it is SAFE only when that is proved (`re` is the stdlib module and the value can
never be None).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import binding_sites, has_comment, own_nodes
from perfpilot.tools.model import Applicability

# Methods (and `re` functions) that return a re.Match or None.
_MATCHERS = frozenset({"match", "search", "fullmatch"})


@dataclass(frozen=True)
class _Group:
    call: cst.Call  # `m.group(...)`
    receiver: str
    argument: cst.BaseExpression | None  # None: `m.group()`
    safe: bool


@dataclass
class MatchSubscript(Transform):
    """Read a regex match's group by subscript instead of calling `.group`."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per `m.group()` / `m.group(g)` on a local regex match."""
        found = []
        for index, group in enumerate(_groups(parsed)):
            caveat = (
                ""
                if group.safe
                else "; UNSAFE: the value is not proved to be a `re.Match` (a matcher of"
                " another library, a `None` when nothing matched: `None.group()` raised"
                " AttributeError where `None[0]` raises TypeError)"
            )
            found.append(
                parsed.opportunity(
                    group.call,
                    key=f"group#{index}",
                    title=f"Subscript the match in `{parsed.source.name}`",
                    evidence=(
                        f"`{parsed.code(group.call)}` looks up a method and calls it with an"
                        " argument tuple; `re.Match.__getitem__` returns the same group through"
                        f" the subscript slot{caveat}"
                    ),
                    applicability=Applicability.SAFE if group.safe else Applicability.UNSAFE,
                )
            )
        return found

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Replace `m.group(g)` by `m[g]` (`m.group()` by `m[0]`)."""
        groups = _groups(parsed)
        group = opportunity.numbered(groups)
        if group is None:
            return Rewrite.failed("the `.group(...)` call is no longer there")
        key = group.argument if group.argument is not None else cst.Integer("0")
        subscript = cst.Subscript(
            value=cst.Name(group.receiver),
            slice=[cst.SubscriptElement(slice=cst.Index(value=key))],
            lpar=group.call.lpar,
            rpar=group.call.rpar,
        )
        module = replace_nodes(parsed.module, {group.call: subscript})
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """One `.group` call fewer, one subscript of a match more."""
        if len(_groups(after)) != len(_groups(before)) - 1:
            return "the rewritten function does not have one `.group(...)` call fewer"
        if _subscripts(after) != _subscripts(before) + 1:
            return "the rewritten function does not subscript a match once more"
        return None


def _groups(parsed: Parsed) -> list[_Group]:
    """`<local>.group()` / `<local>.group(g)` calls on regex matches, in source order."""
    kinds = _match_locals(parsed)
    found = []
    for node in own_nodes(parsed.function.body):
        receiver = _group_receiver(node)
        if receiver is None or receiver not in kinds or has_comment(node):
            continue
        assert isinstance(node, cst.Call)
        argument = node.args[0].value if node.args else None
        found.append(_Group(node, receiver, argument, kinds[receiver]))
    return found


def _group_receiver(node: cst.CSTNode) -> str | None:
    """The local name `m` of a `m.group()` / `m.group(<one positional>)` call."""
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)):
        return None
    if node.func.attr.value != "group" or not isinstance(node.func.value, cst.Name):
        return None
    if len(node.args) > 1:
        return None  # `m.group(1, 2)` returns a tuple: no subscript form
    if node.args and (node.args[0].keyword is not None or node.args[0].star):
        return None
    return node.func.value.value


def _match_locals(parsed: Parsed) -> dict[str, bool]:
    """Locals bound only to regex matches → whether each is proved a non-None `re.Match`."""
    facts = parsed.source.module
    re_name = facts.binding_for("re")
    kinds: dict[str, bool] = {}
    for name, sites in binding_sites(parsed.function).items():
        verdicts = [_match_binding(site, re_name) for site in sites]
        if verdicts and all(v is not None for v in verdicts):
            kinds[name] = all(verdicts)
    return kinds


def _match_binding(site: cst.CSTNode, re_name: str | None) -> bool | None:
    """None: not a match; False: a match by its matcher's name only; True: a proved re.Match.

    Proved only for `for m in re.finditer(...)`, a loop or a comprehension, with `re` the
    stdlib module: finditer yields `re.Match` objects, never None (`re.match` may give None).
    """
    if isinstance(site, cst.For | cst.CompFor) and isinstance(site.target, cst.Name):
        call = site.iter
        if isinstance(call, cst.Call) and _callee(call) == "finditer":
            func = call.func
            proved = (
                re_name is not None
                and isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value == re_name
            )
            return proved
        return None
    if isinstance(site, cst.Assign) and len(site.targets) == 1:
        if isinstance(site.targets[0].target, cst.Name) and isinstance(site.value, cst.Call):
            name = _callee(site.value)
            if name in _MATCHERS or name.endswith(("_match", "_search", "_fullmatch")):
                return False
    return None


def _callee(call: cst.Call) -> str:
    """The called function's own name: `match` for `self.re.match(...)`."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return ""


def _subscripts(parsed: Parsed) -> int:
    kinds = _match_locals(parsed)
    return sum(
        1
        for n in own_nodes(parsed.function.body)
        if isinstance(n, cst.Subscript) and isinstance(n.value, cst.Name) and n.value.value in kinds
    )


TRANSFORM = MatchSubscript()
