"""PP105: `re.match(CONSTANT, s)` in a function → a module-level compiled pattern."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_edits import replace_nodes
from perfpilot.skills.cst_helpers import body_nodes, bound_names, is_constant, parameter_names
from perfpilot.skills.naming import module_name, upper_case
from perfpilot.tools.model import Applicability

# re function → index of its positional `flags` argument (the pattern is always first).
_FLAGS_AT = {
    "match": 2,
    "search": 2,
    "fullmatch": 2,
    "findall": 2,
    "finditer": 2,
    "sub": 4,
    "subn": 4,
    "split": 3,
    "compile": 1,
}
_FLAG_NAMES = frozenset(
    "A ASCII I IGNORECASE L LOCALE M MULTILINE S DOTALL X VERBOSE U UNICODE NOFLAG".split()
)


@dataclass(frozen=True, slots=True)
class _Use:
    call: cst.Call
    function: str  # "match"
    pattern: cst.BaseExpression
    flags: cst.BaseExpression | None
    rest: tuple[cst.Arg, ...]  # the arguments the compiled pattern's method takes


@dataclass
class PrecompileRegex(Transform):
    """Find `re.<func>` calls with a constant pattern; hoist each distinct pattern."""

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per distinct (pattern, flags) among constant-pattern calls."""
        groups = self._groups(parsed)
        opportunities = []
        calls = parsed.source.calls
        often = f" ({calls:,} call{'s' if calls != 1 else ''} in the profile)" if calls else ""
        for index, (_, uses) in enumerate(groups.items()):
            first = uses[0]
            how = "compiles it" if first.function == "compile" else "looks it up"
            opportunities.append(
                parsed.opportunity(
                    first.call,
                    key=f"pattern#{index}",
                    title=(
                        f"Precompile the `re.{first.function}` pattern of"
                        f" `{parsed.source.name}` at module level"
                    ),
                    evidence=(
                        f"`re.{first.function}` with a constant pattern {how} on every"
                        f" call{often}; a module-level compiled pattern does it once"
                    ),
                    applicability=Applicability.SAFE,
                )
            )
        return opportunities

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Add the module constant and call its methods at every use of that pattern."""
        groups = list(self._groups(parsed).values())
        uses = opportunity.numbered(groups)
        if uses is None:
            return Rewrite.failed("the pattern is no longer in the function")
        alias = parsed.source.module.binding_for("re")
        assert alias is not None
        constant = module_name(_constant_name(parsed.source.qualname), parsed.source.module)
        replacements: dict[cst.CSTNode, cst.CSTNode] = {}
        for use in uses:
            if use.function == "compile":
                replacements[use.call] = cst.Name(constant)
                continue
            rest = list(use.rest)
            if rest:
                rest[-1] = rest[-1].with_changes(comma=use.call.args[-1].comma)
            replacements[use.call] = use.call.with_changes(
                func=cst.Attribute(cst.Name(constant), cst.Name(use.function)), args=rest
            )
        module = replace_nodes(parsed.module, replacements)
        first = uses[0]
        arguments = _layout(parsed.code(first.pattern))
        if first.flags is not None:
            arguments += f", {parsed.code(first.flags)}"
        definition = f"{constant} = {alias}.compile({arguments})"
        if "\n" in arguments:
            definition = f"{constant} = {alias}.compile(\n    {arguments}\n)"
        return Rewrite(function_text=parsed.render(module), definitions=(definition,))

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """The rewritten function must have one fewer distinct constant pattern."""
        if len(self._groups(after)) != len(self._groups(before)) - 1:
            return "the rewritten function still compiles the pattern per call"
        return None

    def _groups(self, parsed: Parsed) -> dict[tuple[str, str], list[_Use]]:
        """Constant-pattern uses of the function, grouped by (pattern, flags) in source order."""
        facts = parsed.source.module
        alias = facts.binding_for("re")
        if alias is None or alias in bound_names(parsed.function.body):
            return {}
        if alias in parameter_names(parsed.function):
            return {}
        groups: dict[tuple[str, str], list[_Use]] = {}
        for node in body_nodes(parsed.function):
            use = _use_of(node, alias, parsed) if isinstance(node, cst.Call) else None
            if use is None:
                continue
            flags = parsed.code(use.flags) if use.flags is not None else ""
            groups.setdefault((parsed.code(use.pattern), flags), []).append(use)
        return groups


def _use_of(call: cst.Call, alias: str, parsed: Parsed) -> _Use | None:
    """The call as a constant-pattern use of `re`, or None."""
    func = call.func
    if not (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value == alias
        and func.attr.value in _FLAGS_AT
    ):
        return None
    name = func.attr.value
    pattern: cst.BaseExpression | None = None
    flags: cst.BaseExpression | None = None
    rest: list[cst.Arg] = []
    for position, arg in enumerate(call.args):
        if arg.star:
            return None
        keyword = arg.keyword.value if arg.keyword else None
        if keyword == "pattern" or (keyword is None and position == 0):
            pattern = arg.value
        elif keyword == "flags" or (keyword is None and position == _FLAGS_AT[name]):
            flags = arg.value
        else:
            rest.append(arg)
    if pattern is None or not _is_pattern_literal(pattern):
        return None
    if flags is not None and not _is_flags(flags, alias):
        return None
    if not _compiles(parsed.code(pattern), parsed.code(flags) if flags else None, alias):
        return None
    return _Use(call, name, pattern, flags, tuple(rest))


def _is_pattern_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        return is_constant(node)
    return False


def _is_flags(node: cst.BaseExpression, alias: str) -> bool:
    if isinstance(node, cst.Integer):
        return True
    if isinstance(node, cst.Attribute):
        return (
            isinstance(node.value, cst.Name)
            and node.value.value == alias
            and node.attr.value in _FLAG_NAMES
        )
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _is_flags(node.left, alias) and _is_flags(node.right, alias)
    return False


def _compiles(pattern_code: str, flags_code: str | None, alias: str) -> bool:
    """Compile the literal here: a bad pattern must not move its error to import time."""
    try:
        pattern = ast.literal_eval(f"({pattern_code})")
        flags = 0
        if flags_code:
            for part in flags_code.replace("(", " ").replace(")", " ").split("|"):
                part = part.strip()
                flags |= int(part, 0) if part[:1].isdigit() else getattr(re, part.split(".")[-1])
        re.compile(pattern, flags)
    except (ValueError, SyntaxError, re.error, TypeError, AttributeError, OverflowError):
        return False
    return True


def _constant_name(qualname: str) -> str:
    parts = [p for p in qualname.split(".") if p != "<locals>"]
    return f"_{upper_case(parts[-1]) or 'PATTERN'}_RE"


def _layout(code: str) -> str:
    """A multi-line implicit concatenation, re-indented one level for the module constant."""
    lines = code.split("\n")
    if len(lines) == 1 or '"""' in code or "'''" in code:
        return code
    return "\n    ".join([lines[0], *(line.strip() for line in lines[1:])])


TRANSFORM = PrecompileRegex()
