"""Edits the transforms share: callables applied to updated nodes, and statement-block helpers."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from perfpilot.skills.cst_helpers import Parents, own_nodes

# What to put in place of a node, given the node as rebuilt with the edits of its children.
Edit = Callable[[cst.CSTNode], cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]]


def apply_edits(module: cst.Module, edits: dict[cst.CSTNode, Edit]) -> cst.Module:
    """`module` with each key node (by identity, from this same parse) passed through its edit."""
    result = module.visit(_Edits(edits))
    assert isinstance(result, cst.Module)
    return result


def replace_nodes(module: cst.Module, replacements: dict[cst.CSTNode, cst.CSTNode]) -> cst.Module:
    """`module` with each key node (by identity, from this same parse) swapped for its value."""
    return apply_edits(module, {old: swap(new) for old, new in replacements.items()})


def swap(new: cst.CSTNode) -> Edit:
    """An edit putting `new` in place of the node (edits inside the node are dropped)."""
    return lambda _node: new


def insert_before(statement: cst.BaseStatement) -> Edit:
    """An edit putting `statement` before the node; the lines above the node stay on top."""

    def edit(node: cst.CSTNode) -> cst.FlattenSentinel[cst.CSTNode]:
        leading = node.leading_lines  # type: ignore[attr-defined]
        first = statement.with_changes(leading_lines=leading)
        return cst.FlattenSentinel([first, node.with_changes(leading_lines=())])

    return edit


def insert_after(statement: cst.BaseStatement) -> Edit:
    """An edit putting `statement` right after the node, in the same block."""
    return lambda node: cst.FlattenSentinel([node, statement])


class _Edits(cst.CSTTransformer):
    """Apply edits keyed by original node to the updated node (inner edits are kept)."""

    def __init__(self, edits: dict[cst.CSTNode, Edit]) -> None:
        super().__init__()
        self.edits = edits

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        edit = self.edits.get(original_node)
        return edit(updated_node) if edit is not None else updated_node


def single_assign(statement: cst.CSTNode | None) -> tuple[str, cst.BaseExpression] | None:
    """(name, value) of a line that is exactly `name = value`."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    assign = statement.body[0]
    if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
        return None
    target = assign.targets[0].target
    return (target.value, assign.value) if isinstance(target, cst.Name) else None


def statement_index(block: cst.IndentedBlock, statement: cst.CSTNode) -> int:
    """The position of `statement` (by identity) among the statements of `block`."""
    return next(i for i, s in enumerate(block.body) if s is statement)


def parent_block(root: cst.CSTNode, statement: cst.CSTNode) -> cst.IndentedBlock | None:
    """The indented block under `root` (nested scopes excluded) whose statements include it."""
    for node in (root, *own_nodes(root)):
        if isinstance(node, cst.IndentedBlock) and any(s is statement for s in node.body):
            return node
    return None


def statement_before(root: cst.CSTNode, statement: cst.CSTNode) -> cst.CSTNode | None:
    """The statement right before `statement` in its indented block under `root` (None if it
    is the block's first, or in no block)."""
    block = parent_block(root, statement)
    if block is None:
        return None
    position = statement_index(block, statement)
    return block.body[position - 1] if position else None


def block_statement(
    node: cst.CSTNode, parents: Parents, stop: cst.CSTNode
) -> cst.BaseStatement | None:
    """The statement holding `node` that sits directly in an indented block below `stop`."""
    current = node
    while current is not stop and current in parents:
        parent = parents[current]
        if isinstance(parent, cst.IndentedBlock) and isinstance(current, cst.BaseStatement):
            return current
        current = parent
    return None


def runs_before(node: cst.CSTNode, statement: cst.BaseStatement, parents: Parents) -> bool:
    """`node`'s simple line is an earlier sibling of `statement` or of one of its ancestors:
    it has run whenever the statement runs."""
    line = parents.get(node)
    block = parents.get(line) if line is not None else None
    if not isinstance(line, cst.SimpleStatementLine) or not isinstance(block, cst.IndentedBlock):
        return False
    siblings = list(block.body)
    position = statement_index(block, line)
    current: cst.CSTNode | None = statement
    while current is not None and parents.get(current) is not block:
        current = parents.get(current)
    return current is not None and any(s is current for s in siblings[position + 1 :])
