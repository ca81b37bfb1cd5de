"""The text side of a hoist: a readable fresh name, and the edit that puts it before the loop."""

from __future__ import annotations

import keyword
import re
import sys

import libcst as cst

from perfpilot.skills.api import Parsed
from perfpilot.skills.cst_helpers import own_nodes
from perfpilot.tools.module_facts import ModuleFacts

# Loaded by transform.py before this module (skill folders are not packages).
effects = sys.modules[__name__.rsplit("_", 1)[0] + "_effects"]


def bare(node: cst.BaseExpression) -> cst.BaseExpression:
    """The expression without its own outer parentheses."""
    return node.with_changes(lpar=[], rpar=[]) if node.lpar else node


def calls_in(node: cst.CSTNode) -> list[cst.Call]:
    """The calls in an expression (itself included), outer first."""
    return [n for n in (node, *own_nodes(node)) if isinstance(n, cst.Call)]


def call_name(call: cst.Call) -> str:
    """`median` for `statistics.median(x)`, `len` for `len(x)`."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def shorten(code: str) -> str:
    """The expression on one line, cut to 40 characters for a title."""
    flat = " ".join(code.split())
    return flat if len(flat) <= 40 else flat[:37] + "..."


def name_for(node: cst.CSTNode, facts: ModuleFacts) -> str:
    """A readable local name: `median_latencies`, `len_items`, `name_lower`, `join_parts`."""
    calls = calls_in(node)
    top = bare(node)  # type: ignore[arg-type]
    if isinstance(top, cst.Subscript) and _label(top.value):
        words = [_label(top.value) or "", "item"]
    elif calls:
        call, func = calls[0], calls[0].func
        receiver = _label(func.value) if isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Attribute) and receiver and not effects.module_call(func, facts):
            words = [receiver, func.attr.value]
        else:
            argument = next((_label(a.value) for a in call.args), None)
            words = [call_name(call), argument or ""]
    else:
        subscripts = [n for n in own_nodes(node) if isinstance(n, cst.Subscript)]
        words = [(_label(subscripts[0].value) or "") if subscripts else "", "item"]
    name = "_".join(w.strip("_") for w in words if w.strip("_")).lower()
    name = re.sub(r"[^a-z0-9_]", "", name)[:40].rstrip("_") or "invariant"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"value_{name}"
    return name


def _label(node: cst.CSTNode) -> str | None:
    """The word naming a value: `weights` for `self.weights`, `targets` for `targets.values()`."""
    while True:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            return node.attr.value
        if isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func.value if isinstance(node.func, cst.Attribute) else node.func
        else:
            return None


def name_at(parsed: Parsed, node: cst.BaseExpression, name: str) -> cst.BaseExpression:
    """The new name in place of `node`, parenthesized if it would touch a neighbouring word."""
    if node.lpar:
        return cst.Name(name, lpar=node.lpar, rpar=node.rpar)
    position = parsed.position(node)
    lines = parsed.module.code.splitlines()
    start_line = lines[position.start.line - 1]
    end_line = lines[position.end.line - 1]
    before = start_line[position.start.column - 1 : position.start.column]
    after = end_line[position.end.column : position.end.column + 1]
    if (before and (before.isalnum() or before == "_")) or (
        after and (after.isalnum() or after == "_")
    ):
        return cst.Name(name, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.Name(name)


def parent_block(function: cst.FunctionDef, loop: cst.CSTNode) -> cst.IndentedBlock | None:
    """The indented block whose statements include `loop`."""
    for node in (function.body, *own_nodes(function.body)):
        if isinstance(node, cst.IndentedBlock) and any(s is loop for s in node.body):
            return node
    return None


def single_assign(statement: cst.CSTNode | None) -> tuple[str, cst.BaseExpression] | None:
    """(name, value) of a `name = value` line."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    target = assign.targets[0].target
    return (target.value, assign.value) if isinstance(target, cst.Name) else None


class Hoist(cst.CSTTransformer):
    """Replace the occurrences and put `name = value` before the loop in its block."""

    def __init__(
        self,
        replacements: dict[cst.CSTNode, cst.CSTNode],
        block: cst.IndentedBlock,
        loop: cst.CSTNode,
        name: str,
        value: cst.BaseExpression,
    ) -> None:
        super().__init__()
        self.replacements = replacements
        self.block = block
        self.index = next(i for i, s in enumerate(block.body) if s is loop)
        self.name = name
        self.value = value

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode:
        if original_node in self.replacements:
            return self.replacements[original_node]
        if original_node is not self.block:
            return updated_node
        assert isinstance(updated_node, cst.IndentedBlock)
        body = list(updated_node.body)
        loop = body[self.index]
        assert isinstance(loop, cst.For | cst.While)
        # Blank lines above the loop go above the new line; its comments stay on the loop.
        leading = list(loop.leading_lines)
        blank = 0
        while blank < len(leading) and leading[blank].comment is None:
            blank += 1
        assign = cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(self.name))], value=self.value)],
            leading_lines=leading[:blank],
        )
        body[self.index : self.index + 1] = [
            assign,
            loop.with_changes(leading_lines=leading[blank:]),
        ]
        return updated_node.with_changes(body=body)
