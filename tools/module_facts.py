"""What a fix needs to know about the module around a function: imports, names, where to insert."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from tree_sitter import Node, Tree

from perfpilot.tools import source_walk

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IMPORTS = ("import_statement", "import_from_statement")
_HEADER = ("comment", "future_import_statement", *_IMPORTS)


@dataclass(frozen=True)
class ModuleFacts:
    """Module-level bindings and insertion points of one file (0-based line numbers)."""

    # Name bound by a top-level import → what it refers to: "re", "os.path", "functools.cache".
    imports: dict[str, str] = field(default_factory=dict)
    # Top-level names bound other than by an unconditional import (assignments, defs, classes,
    # imports under try/if): a fix must not assume such a name is the module it looks like.
    rebound: frozenset[str] = frozenset()
    import_line: int = 0  # new imports go before this line
    definition_line: int = 0  # new module-level definitions go before this line
    has_imports: bool = False
    # The module's text, for skills that prove facts about the code around a function
    # (`Transform.reads_module`): the find cache keys on it for those skills only.
    source: str = field(default="", repr=False, compare=False)

    @cached_property
    def identifiers(self) -> frozenset[str]:
        """Every identifier in the file: new module-level names avoid all of them (naming.py).

        Computed when a skill first names something: held for every open file, the set was
        ~1 MiB of a 6,000-line module's facts, and most files never need it.
        """
        return identifiers_in(self.source)

    def refers_to(self, name: str, target: str) -> bool:
        """True when `name` is bound at module level only by importing `target`."""
        return self.imports.get(name) == target and name not in self.rebound

    def binding_for(self, target: str) -> str | None:
        """A name that refers to module or object `target` (e.g. `re`), if any."""
        for name, what in self.imports.items():
            if what == target and name not in self.rebound:
                return name
        return None


def identifiers_in(text: str) -> frozenset[str]:
    """Every identifier-shaped word of `text` (strings and comments included: conservative)."""
    return frozenset(_IDENTIFIER.findall(text))


def facts_of_source(source: str) -> ModuleFacts:
    """Facts of a module given as text (parses it with tree-sitter)."""
    data = source.encode("utf-8")
    return facts_of_tree(source_walk.parse(data), source)


def facts_of_tree(tree: Tree, source: str) -> ModuleFacts:
    """Facts of a module from its tree-sitter tree and text."""
    imports: dict[str, str] = {}
    rebound: set[str] = set()
    children = tree.root_node.named_children
    header_end = 0  # line after the docstring / __future__ imports
    last_import_end: int | None = None
    seen_code = False
    first_code = next((i for i, n in enumerate(children) if n.type != "comment"), None)
    for index, node in enumerate(children):
        kind = node.type
        if kind == "comment" and first_code is not None and index < first_code:
            # A shebang, coding line or licence header: new imports go below it.
            header_end = max(header_end, node.end_point.row + 1)
            continue
        if index == first_code and kind == "expression_statement" and _is_string(node):
            header_end = node.end_point.row + 1
            continue
        if kind == "future_import_statement":
            header_end = node.end_point.row + 1
            continue
        if kind in _IMPORTS:
            for name, target in _bound_by_import(node):
                if name in imports and imports[name] != target:
                    rebound.add(name)
                imports.setdefault(name, target)
            if not seen_code:
                last_import_end = node.end_point.row + 1
            continue
        if kind == "comment":
            continue
        if kind in ("function_definition", "class_definition", "decorated_definition"):
            seen_code = True
        rebound.update(_bound_names(node))
    import_line = last_import_end if last_import_end is not None else header_end
    return ModuleFacts(
        imports=imports,
        rebound=frozenset(rebound),
        import_line=import_line,
        definition_line=import_line,
        has_imports=last_import_end is not None,
        source=source,
    )


def _is_string(statement: Node) -> bool:
    first = statement.named_children[0] if statement.named_children else None
    return first is not None and first.type in ("string", "concatenated_string")


def _bound_by_import(node: Node) -> list[tuple[str, str]]:
    """(bound name, imported thing) pairs of one import statement."""
    pairs: list[tuple[str, str]] = []
    if node.type == "import_statement":
        for child in node.named_children:
            if child.type == "dotted_name":
                dotted = _text(child)
                pairs.append((dotted.split(".")[0], dotted.split(".")[0]))
            elif child.type == "aliased_import":
                target = child.child_by_field_name("name")
                alias = child.child_by_field_name("alias")
                if target is not None and alias is not None:
                    pairs.append((_text(alias), _text(target)))
        return pairs
    module = node.child_by_field_name("module_name")
    base = _text(module) if module is not None else ""
    for child in node.children_by_field_name("name"):
        if child.type == "dotted_name":
            pairs.append((_text(child), f"{base}.{_text(child)}"))
        elif child.type == "aliased_import":
            target = child.child_by_field_name("name")
            alias = child.child_by_field_name("alias")
            if target is not None and alias is not None:
                pairs.append((_text(alias), f"{base}.{_text(target)}"))
    return pairs


def _bound_names(node: Node) -> set[str]:
    """Names a top-level statement (or anything nested in it, outside functions) may bind."""
    names: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        kind = current.type
        if kind in ("function_definition", "class_definition"):
            name = current.child_by_field_name("name")
            if name is not None:
                names.add(_text(name))
            continue  # their bodies bind locals, not module names
        if kind in (
            "lambda",
            "list_comprehension",
            "set_comprehension",
            "dictionary_comprehension",
        ):
            continue
        if kind in _IMPORTS:
            names.update(name for name, _ in _bound_by_import(current))
            continue
        if kind in ("assignment", "augmented_assignment", "for_statement"):
            target = current.child_by_field_name("left")
            if target is not None:
                names.update(_identifiers(target))
        elif kind == "named_expression":
            target = current.child_by_field_name("name")
            if target is not None:
                names.add(_text(target))
        elif kind == "as_pattern":
            target = current.child_by_field_name("alias")
            if target is not None:
                names.update(_identifiers(target))
        stack.extend(current.named_children)
    return names


def _identifiers(node: Node) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            found.add(_text(current))
        stack.extend(current.named_children)
    return found


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""
