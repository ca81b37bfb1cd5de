"""Which methods of a class a module may override or replace: other class bodies binding the
name, attribute stores and deletes, `setattr`/`delattr` calls (class_facts.py's proofs ask it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class ShadowIndex:
    """What `shadowing` asks of a module, gathered in one pass over it instead of one per class.

    A module with hundreds of classes (email's `_header_value_parser`) made the per-class walks
    quadratic: most of a `check --all` went there.
    """

    # Every ClassDef (by id, or by the key it was gathered under) -> the names its body binds.
    # Parts gathered one by one give the classes asked about a key: their ids get reused.
    class_names: dict[object, frozenset[str]]
    binders: dict[str, int]  # name -> how many class bodies bind it
    stored_attributes: frozenset[str]  # attribute names stored or deleted anywhere
    setattr_calls: list[tuple[str | None, ast.AST | None, ast.Call]]
    bases: dict[str, set[str]]  # class name -> its base names

    @classmethod
    def of(cls, tree: ast.Module) -> ShadowIndex:
        """Index `tree` in one walk (plus one for `setattr` owners)."""
        gathering = Gathering()
        gathering.add(tree, {})
        return gathering.index()


class Gathering:
    """A ShadowIndex gathered from parts of a module (its statements parsed one by one)."""

    def __init__(self) -> None:
        self.class_names: dict[object, frozenset[str]] = {}
        self.binders: dict[str, int] = {}
        self.stored: set[str] = set()
        self.setattr_calls: list[tuple[str | None, ast.AST | None, ast.Call]] = []
        self.bases: dict[str, set[str]] = {}

    def add(self, tree: ast.Module, keys: dict[int, object]) -> None:
        """Gather from `tree`; a class body is known by its key in `keys` (by id), else its id."""
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = frozenset(class_level_names(node))
                self.class_names[keys.get(id(node), id(node))] = names
                for name in names:
                    self.binders[name] = self.binders.get(name, 0) + 1
                self.bases.setdefault(node.name, set()).update(
                    b.id if isinstance(b, ast.Name) else b.attr
                    for b in node.bases
                    if isinstance(b, ast.Name | ast.Attribute)
                )
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
                self.stored.add(node.attr)
        self.setattr_calls += _setattr_calls(tree)

    def index(self) -> ShadowIndex:
        """The index of everything gathered."""
        return ShadowIndex(
            self.class_names, self.binders, frozenset(self.stored), self.setattr_calls, self.bases
        )


def shadowing(
    tree: ast.Module,
    class_name: str,
    names: frozenset[str],
    own: ast.ClassDef | None = None,
    index: ShadowIndex | None = None,
) -> frozenset[str]:
    """Which of `names` (methods of `class_name`) this module may override or replace.

    A name counts when a class body other than `own` binds it (a subclass's override: any class,
    to be safe), when it is stored or deleted as an attribute (`obj.name = ...`), or set by
    `setattr`/`delattr` with that constant; a `setattr` with a computed name counts for every
    name, unless it sets an attribute of a method's own `self` in a class that does not derive
    (by base name, within this module) from `class_name`. `index` is `tree`'s, when the caller
    asks about many classes of one module.
    """
    index = index or ShadowIndex.of(tree)
    own_names = index.class_names.get(id(own), frozenset()) if own is not None else frozenset()
    return shadowed_names(index, class_name, names, own_names)


def shadowed_names(
    index: ShadowIndex, class_name: str, names: frozenset[str], own_names: frozenset[str]
) -> frozenset[str]:
    """`shadowing`, given the names the class's own body binds."""
    hits = {n for n in names if index.binders.get(n, 0) > (1 if n in own_names else 0)}
    hits |= index.stored_attributes & names
    related = _derived_from(index.bases, class_name)
    for owner, function, call in index.setattr_calls:
        key = call.args[1]
        if isinstance(key, ast.Constant):
            if key.value in names:
                hits.add(str(key.value))
            continue
        possible = _possible_names(function, key) if function is not None else None
        if possible is not None:
            hits |= possible & names
        elif owner is None or owner in related:
            return names
    return frozenset(hits)


def _derived_from(bases: dict[str, set[str]], class_name: str) -> set[str]:
    """`class_name` and the module's classes deriving from it, by base names (transitively)."""
    related = {class_name}
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name not in related and parents & related:
                related.add(name)
                changed = True
    return related


def _setattr_calls(
    tree: ast.Module,
) -> list[tuple[str | None, ast.AST | None, ast.Call]]:
    """`setattr`/`delattr` calls: (the class whose `self` they set, or None; the innermost
    function holding the call, or None; the call)."""
    if not _calls_of_setattr(tree):
        return []  # the usual module
    owners: dict[int, tuple[str, str | None]] = {}  # method → (its class, its first parameter)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = method.args.args[0].arg if method.args.args else None
                    owners[id(method)] = (node.name, first)
    found: list[tuple[str | None, ast.AST | None, ast.Call]] = []
    # One walk carrying the innermost function (its decorators and defaults count as inside).
    stack: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
    while stack:
        node, function = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node
        elif _is_setattr_call(node):
            assert isinstance(node, ast.Call)
            owner, first = owners.get(id(function), (None, None))
            target = node.args[0]
            is_self = owner is not None and isinstance(target, ast.Name) and target.id == first
            found.append((owner if is_self else None, function, node))
        stack.extend((child, function) for child in ast.iter_child_nodes(node))
    return found


def _possible_names(function: ast.AST, key: ast.expr) -> set[str] | None:
    """The attribute names a computed `setattr` key can take, when the function proves them.

    The key is a local name that every binding sets from string constants (`a = "x"`,
    `a = ("x", "y")[i]`, `for a in ("x", "y")`) or to the items of `__slots__` (slot names
    cannot be methods of the same class); otherwise None.
    """
    if not isinstance(key, ast.Name):
        return None
    values: list[ast.expr] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if any(isinstance(n, ast.Name) and n.id == key.id for n in ast.walk(target)):
                    if not (isinstance(target, ast.Name)):
                        return None
                    values.append(node.value)
        elif isinstance(node, ast.For | ast.comprehension):
            if any(isinstance(n, ast.Name) and n.id == key.id for n in ast.walk(node.target)):
                if not isinstance(node.target, ast.Name):
                    return None
                if isinstance(node.iter, ast.Attribute) and node.iter.attr == "__slots__":
                    continue
                values += list(getattr(node.iter, "elts", [None]))
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.NamedExpr):
            target = node.target
            if isinstance(target, ast.Name) and target.id == key.id:
                return None
        elif isinstance(node, ast.arg) and node.arg == key.id:
            return None
    names: set[str] = set()
    for value in values:
        strings = _constant_strings(value)
        if strings is None:
            return None
        names |= strings
    return names


def _constant_strings(value: ast.expr | None) -> set[str] | None:
    """The strings an expression built only of string constants can evaluate to."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.Tuple | ast.List):
        found: set[str] = set()
        for element in value.elts:
            strings = _constant_strings(element)
            if strings is None:
                return None
            found |= strings
        return found
    if isinstance(value, ast.Subscript):
        return _constant_strings(value.value)
    if isinstance(value, ast.IfExp):
        body, orelse = _constant_strings(value.body), _constant_strings(value.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def _calls_of_setattr(root: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(root) if _is_setattr_call(node)]  # type: ignore[misc]


def _is_setattr_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("setattr", "delattr")
        and len(node.args) >= 2
    )


def class_level_names(node: ast.ClassDef) -> list[str]:
    """Every name a class body binds directly: defs, assignments, imports (repeats kept)."""
    names: list[str] = []
    for statement in node.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(statement.name)
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            names += [(a.asname or a.name).split(".")[0] for a in statement.names]
        else:  # assignments, and an if/try/for at class level may bind anything
            names += [n.id for n in ast.walk(statement) if _stored(n)]
    return names


def _stored(node: ast.AST) -> bool:
    """A name bound or unbound (`del m` in a class body removes the method)."""
    return isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del)
