"""PP148: `s = s.replace("&", "&amp;")` → `if "&" in s: s = s.replace("&", "&amp;")`.

Escaping helpers run a chain of `str.replace` calls on short strings that usually contain
none of the characters replaced. Each call still looks up the method, builds a call, scans the
string and returns it unchanged; `"&" in s` scans without a call. One opportunity per function:
every `name = name.replace(<literal>, ...)` statement in it gets its guard.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import has_comment, own_nodes
from perfpilot.tools.model import Applicability

# Arguments whose evaluation runs no user code: skipping it when the guard fails changes nothing.
_QUIET = (cst.SimpleString, cst.Integer, cst.Name)


@dataclass(frozen=True)
class _Chain:
    name: str  # the string variable the chain rewrites
    lines: tuple[cst.SimpleStatementLine, ...]  # consecutive statements of one block


@dataclass
class GuardNoopReplace(Transform):
    """Guard each `s = s.replace(old, new)` with `if old in s:`."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per function: every unguarded replace statement in it, guarded."""
        chains = _chains(parsed)
        if not chains:
            return []
        names = sorted({c.name for c in chains})
        count = sum(len(c.lines) for c in chains)
        calls = "call" if count == 1 else f"{count} calls"
        shown = ", ".join(f"`{n}.replace(...)`" for n in names)
        return [
            parsed.opportunity(
                chains[0].lines[0],
                key="replace#0",
                title=f"Skip no-op {shown} {calls} in `{parsed.source.name}`",
                evidence=(
                    "`s = s.replace(old, new)` with a literal `old`: when `old` is absent (the"
                    " usual case for escaping) the call still looks up the method, calls it"
                    " and scans the string; `old in s` scans without a call. When `old` is"
                    " present the guard adds one scan. UNSAFE: for a `str` subclass"
                    " (markupsafe's `Markup`) `replace` returns a plain `str` even when nothing"
                    " is replaced, and the guard keeps the subclass; a non-`str` object's"
                    " `__contains__` and `replace` may disagree"
                ),
                applicability=Applicability.UNSAFE,
            )
        ]

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Wrap each replace statement in `if <old> in <name>:` (or extend a lone one's `if`)."""
        found = _chains(parsed)
        chains = opportunity.numbered([found] if found else [])
        if chains is None:
            return Rewrite.failed("the replace statements are no longer there")
        edits: dict[cst.CSTNode, cst.CSTNode] = {}
        for chain in chains:
            edits.update(_guarded(parsed, chain))
        module = replace_nodes(parsed.module, edits)
        return Rewrite(function_text=parsed.render(module))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """Every replace statement is guarded now, and the same replace calls are made."""
        if _chains(after):
            return "the rewritten function still has an unguarded replace statement"
        lines = sum(len(c.lines) for c in _chains(before))
        if _count_replaces(after) != _count_replaces(before):
            return "the rewritten function does not make the same replace calls"
        if _count_guarded(after) != _count_guarded(before) + lines:
            return "the rewritten function does not guard each replace statement"
        return None


def _guarded(parsed: Parsed, chain: _Chain) -> dict[cst.CSTNode, cst.CSTNode]:
    """The edits that guard one run of replace statements."""
    edits: dict[cst.CSTNode, cst.CSTNode] = {}
    owner = _sole_statement_of(parsed, chain)
    for line in chain.lines:
        call = _replace_call(line)
        assert call is not None
        test = cst.Comparison(
            left=call.args[0].value.deep_clone(),
            comparisons=[cst.ComparisonTarget(cst.In(), cst.Name(chain.name))],
        )
        if owner is not None:
            # `if quote: if '"' in s:` would be a nested if (ruff SIM102): extend the test
            right = test
            edits[owner.test] = cst.BooleanOperation(
                left=_operand_of_and(owner.test), operator=cst.And(), right=right
            )
            break
        body = cst.IndentedBlock(body=[line.with_changes(leading_lines=())])
        edits[line] = cst.If(test=test, body=body, leading_lines=line.leading_lines)
    return edits


def _chains(parsed: Parsed) -> list[_Chain]:
    """Runs of consecutive unguarded `name = name.replace(<literal>, ...)` lines, in order."""
    chains = []
    body = parsed.function.body
    nodes = list(own_nodes(body))
    # Blocks that are the body of a guard `if`, by identity: one pass, not one per block.
    guard_bodies = {id(n.body) for n in nodes if isinstance(n, cst.If) and _is_guard_test(n.test)}
    for node in [body, *nodes]:  # the function's own block first: source order
        if not isinstance(node, cst.IndentedBlock):
            continue
        guarded = id(node) in guard_bodies
        run: list[cst.SimpleStatementLine] = []
        current: str | None = None
        for statement in [*node.body, None]:
            name = _replaced_name(statement) if statement is not None and not guarded else None
            if run and name != current:
                chains.append(_Chain(current or "", tuple(run)))
                run = []
            if name is not None:
                assert isinstance(statement, cst.SimpleStatementLine)
                run.append(statement)
                current = name
    return chains


def _sole_statement_of(parsed: Parsed, chain: _Chain) -> cst.If | None:
    """The plain `if` (no elif/else) whose whole body is the chain's one statement, if any."""
    if len(chain.lines) != 1:
        return None
    for node in own_nodes(parsed.function.body):
        if isinstance(node, cst.If) and node.orelse is None:
            body = node.body
            if isinstance(body, cst.IndentedBlock) and list(body.body) == [chain.lines[0]]:
                return node
    return None


def _operand_of_and(test: cst.BaseExpression) -> cst.BaseExpression:
    """`test` as the left operand of `and`: parenthesised unless it binds at least as tightly."""
    tight = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Comparison, cst.UnaryOperation)
    if isinstance(test, tight) or test.lpar:
        return test
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return test
    return test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _replaced_name(statement: cst.BaseStatement) -> str | None:
    """`name` if the statement is exactly `name = name.replace("<non-empty literal>", quiet...)`."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    if has_comment(statement.body[0]) or statement.trailing_whitespace.comment is not None:
        return None  # a comment above the line is kept (it moves above the guard)
    call = _replace_call(statement)
    if call is None:
        return None
    assign = statement.body[0]
    assert isinstance(assign, cst.Assign)
    target = assign.targets[0].target
    receiver = call.func.value  # type: ignore[attr-defined]
    if not (isinstance(target, cst.Name) and isinstance(receiver, cst.Name)):
        return None
    if target.value != receiver.value:
        return None
    return target.value


def _replace_call(statement: cst.SimpleStatementLine) -> cst.Call | None:
    """The `x.replace(<non-empty str literal>, <quiet>[, <quiet>])` an assignment stores."""
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    call = assign.value
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
        return None
    if call.func.attr.value != "replace" or not 2 <= len(call.args) <= 3:
        return None
    if any(a.keyword is not None or a.star for a in call.args):
        return None
    old = call.args[0].value
    if not isinstance(old, cst.SimpleString) or not old.evaluated_value:
        return None  # an empty `old` matches everywhere: the guard would be pointless
    if not all(isinstance(a.value, _QUIET) for a in call.args[1:]):
        return None  # a replacement with a call in it would be skipped by the guard
    return call


def _is_guard_test(test: cst.BaseExpression | None) -> bool:
    """`"<literal>" in name`, alone or as the last operand of an `and`."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        test = test.right
    return (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, cst.SimpleString)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.In)
        and isinstance(test.comparisons[0].comparator, cst.Name)
    )


def _count_replaces(parsed: Parsed) -> int:
    return sum(
        1
        for n in own_nodes(parsed.function.body)
        if isinstance(n, cst.Call)
        and isinstance(n.func, cst.Attribute)
        and n.func.attr.value == "replace"
    )


def _count_guarded(parsed: Parsed) -> int:
    """Replace statements that are the whole body of an `if <literal> in <name>:`."""
    count = 0
    for node in own_nodes(parsed.function.body):
        if isinstance(node, cst.If) and _is_guard_test(node.test) and node.orelse is None:
            body = node.body
            if isinstance(body, cst.IndentedBlock) and len(body.body) == 1:
                statement = body.body[0]
                if isinstance(statement, cst.SimpleStatementLine) and _replace_call(statement):
                    count += 1
    return count


TRANSFORM = GuardNoopReplace()
