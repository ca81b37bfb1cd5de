"""The text side of a hoist: a readable fresh name, and the edit that puts it before the loop."""

from __future__ import annotations

import keyword
import re

import libcst as cst

from perfpilot.skills.api import Parsed
from perfpilot.skills.cst_edits import Edit, statement_index
from perfpilot.skills.cst_helpers import own_nodes
from perfpilot.tools.module_facts import ModuleFacts

from . import effects


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


def hoist(
    block: cst.IndentedBlock, loop: cst.CSTNode, name: str, value: cst.BaseExpression
) -> Edit:
    """An edit of `block` putting `name = value` before the loop in it."""
    index = statement_index(block, loop)

    def edit(updated: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(updated, cst.IndentedBlock)
        body = list(updated.body)
        moved = body[index]
        assert isinstance(moved, cst.For | cst.While)
        # Blank lines above the loop go above the new line; its comments stay on the loop.
        leading = list(moved.leading_lines)
        blank = 0
        while blank < len(leading) and leading[blank].comment is None:
            blank += 1
        assign = cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(cst.Name(name))], value=value)],
            leading_lines=leading[:blank],
        )
        body[index : index + 1] = [assign, moved.with_changes(leading_lines=leading[blank:])]
        return updated.with_changes(body=body)

    return edit
