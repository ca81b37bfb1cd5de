"""What the module around a method proves about its class: which methods are plain, unshadowed.

Skills that inline a method of the caller's own class (`self.isword(c)` → `c.isalpha()`) need
to know, from the whole module, that `self.isword` can only be that one definition: defined
once in the class, decorated with nothing but `classmethod`/`staticmethod`, defined by no other
class of the module, never assigned as an attribute anywhere in the module, and not hidden by a
`__getattr__`/`__getattribute__` of the class. What another module does (a subclass elsewhere)
stays unproven: fixes built on these facts are UNSAFE at most.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from perfpilot.skills.module_statements import statement_bodies
from perfpilot.tools.edits import split_lines

_PLAIN_DECORATORS = frozenset({"classmethod", "staticmethod"})
_ATTRIBUTE_HOOKS = frozenset({"__getattr__", "__getattribute__", "__set_name__"})
# Expression nodes that open a scope, suspend, bind or need the class cell: never inlined.
_NOT_INLINABLE = (
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.NamedExpr,
    ast.Yield,
    ast.YieldFrom,
    ast.Await,
    ast.Starred,
)


@dataclass(frozen=True)
class Method:
    """One method of a class, as the module defines it."""

    name: str
    kind: str  # "method", "classmethod" or "staticmethod"
    receiver: str | None  # the `self`/`cls` parameter; None for a staticmethod
    params: tuple[str, ...]  # the other parameters, all plain positional ones
    statement: ast.stmt  # the only statement of the body (a docstring aside)
    source: str  # that statement's text as written


@dataclass(frozen=True)
class ClassFacts:
    """The methods of one top-level class that nothing in the module can shadow."""

    name: str
    methods: dict[str, Method]
    class_names: frozenset[str]  # every name the class body binds (methods, properties, ...)


def class_facts(module_text: str, class_name: str) -> ClassFacts | None:
    """Facts of the top-level class `class_name`, or None when the module does not parse."""
    return _facts(module_text).get(class_name)


# Keyed by the whole text, so every edit of a file adds an entry: a few are enough for the
# methods of the version being scanned, and memory stays bounded by them.
@lru_cache(maxsize=4)
def _facts(module_text: str) -> dict[str, ClassFacts]:
    """Facts of every top-level class of a module (cached: one pass per module text).

    The module is parsed a statement at a time (a whole tree is 10 MiB for 5,000 lines, the
    language server's peak): what the proofs need of each is gathered, then its tree goes.
    """
    rebound: set[str] = set()
    gathering = _Gathering()
    # Per top-level class: (its key in the index, name, the names its body binds, the methods
    # it defines once, those of them short enough to be one statement).
    classes: list[tuple[object, str, list[str], frozenset[str], list[ast.FunctionDef]]] = []
    try:
        for number, body in enumerate(statement_bodies(module_text)):
            keys: dict[int, object] = {}
            for position, node in enumerate(body):
                rebound |= _module_names(node)
                if not isinstance(node, ast.ClassDef) or node.decorator_list:
                    continue
                names = _class_level_names(node)
                if _ATTRIBUTE_HOOKS & set(names):
                    continue  # attribute lookups on this class may run arbitrary code
                keys[id(node)] = key = (number, position)
                defs = [s for s in node.body if isinstance(s, ast.FunctionDef)]
                candidates = frozenset(s.name for s in defs if names.count(s.name) == 1)
                short = [s for s in defs if len(s.body) <= 2]  # a docstring and one statement
                classes.append((key, node.name, names, candidates, short))
            gathering.add(ast.Module(body=body, type_ignores=[]), keys)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    index = gathering.index()
    lines = split_lines(module_text)  # once: ast.get_source_segment splits per call
    found: dict[str, ClassFacts] = {}
    for key, name, names, candidates, short in classes:
        shadowed = _shadowed(index, name, candidates, index.class_names.get(key, frozenset()))
        methods: dict[str, Method] = {}
        for statement in short:
            if statement.name in candidates - shadowed:
                method = _method(statement, lines, rebound)
                if method is not None:
                    methods[statement.name] = method
        found[name] = ClassFacts(name, methods, frozenset(names))
    return found


@dataclass(frozen=True)
class ModuleIndex:
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
    def of(cls, tree: ast.Module) -> ModuleIndex:
        """Index `tree` in one walk (plus one for `setattr` owners)."""
        gathering = _Gathering()
        gathering.add(tree, {})
        return gathering.index()


class _Gathering:
    """A ModuleIndex gathered from parts of a module (its statements parsed one by one)."""

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
                names = frozenset(_class_level_names(node))
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

    def index(self) -> ModuleIndex:
        """The index of everything gathered."""
        return ModuleIndex(
            self.class_names, self.binders, frozenset(self.stored), self.setattr_calls, self.bases
        )


def shadowing(
    tree: ast.Module,
    class_name: str,
    names: frozenset[str],
    own: ast.ClassDef | None = None,
    index: ModuleIndex | None = None,
) -> frozenset[str]:
    """Which of `names` (methods of `class_name`) this module may override or replace.

    A name counts when a class body other than `own` binds it (a subclass's override: any class,
    to be safe), when it is stored or deleted as an attribute (`obj.name = ...`), or set by
    `setattr`/`delattr` with that constant; a `setattr` with a computed name counts for every
    name, unless it sets an attribute of a method's own `self` in a class that does not derive
    (by base name, within this module) from `class_name`. `index` is `tree`'s, when the caller
    asks about many classes of one module.
    """
    index = index or ModuleIndex.of(tree)
    own_names = index.class_names.get(id(own), frozenset()) if own is not None else frozenset()
    return _shadowed(index, class_name, names, own_names)


def _shadowed(
    index: ModuleIndex, class_name: str, names: frozenset[str], own_names: frozenset[str]
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


def _class_level_names(node: ast.ClassDef) -> list[str]:
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


def _module_names(tree: ast.AST) -> set[str]:
    """Names bound anywhere in the module other than by a def or class."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _method(node: ast.FunctionDef, lines: list[str], rebound: set[str]) -> Method | None:
    """A method whose body is one statement and whose parameters are plain, or None."""
    kind = "method"
    for decorator in node.decorator_list:
        if not (isinstance(decorator, ast.Name) and decorator.id in _PLAIN_DECORATORS):
            return None
        if decorator.id in rebound or kind != "method":
            return None
        kind = decorator.id
    args = node.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults:
        return None
    params = [a.arg for a in args.args]
    receiver = None
    if kind != "staticmethod":
        if not params:
            return None
        receiver = params.pop(0)
    body = list(node.body)
    if (
        len(body) == 2
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]  # the docstring
    if len(body) != 1:
        return None
    statement = body[0]
    source = _source_segment(lines, statement)
    if source is None:
        return None
    return Method(node.name, kind, receiver, tuple(params), statement, source)


def _source_segment(lines: list[str], node: ast.stmt) -> str | None:
    """`ast.get_source_segment` over lines split once (it splits the whole module per call)."""
    if node.end_lineno is None or node.end_col_offset is None:
        return None
    first, last = node.lineno - 1, node.end_lineno - 1
    if last >= len(lines):
        return None
    if first == last:  # column offsets count UTF-8 bytes
        return lines[first].encode()[node.col_offset : node.end_col_offset].decode()
    head = lines[first].encode()[node.col_offset :].decode()
    tail = lines[last].encode()[: node.end_col_offset].decode()
    return "".join([head, *lines[first + 1 : last], tail])


def inlinable_expression(method: Method) -> ast.expr | None:
    """The expression a call of `method` can be replaced by, or None.

    The body is `return <expr>` or `<expr>` alone; the expression opens no scope, binds
    nothing, does not suspend, does not use `super`/`__class__` (they need the method's own
    class cell), and a classmethod's body never uses `cls` (the caller's `self` is no class).
    """
    statement = method.statement
    if isinstance(statement, ast.Return) and statement.value is not None:
        expression = statement.value
    elif isinstance(statement, ast.Expr):
        expression = statement.value
    else:
        return None
    for node in ast.walk(expression):
        if isinstance(node, _NOT_INLINABLE):
            return None
        if isinstance(node, ast.Name) and node.id in ("super", "__class__", "locals", "vars"):
            return None
        if (
            isinstance(node, ast.Name)
            and method.kind == "classmethod"
            and node.id == method.receiver
        ):
            return None
    return expression


def free_names(expression: ast.expr, method: Method) -> set[str]:
    """Names the expression reads that are not the method's parameters (globals, builtins)."""
    own = {*method.params, *([method.receiver] if method.receiver else [])}
    return {node.id for node in ast.walk(expression) if isinstance(node, ast.Name)} - own


def uses(expression: ast.expr, name: str) -> int:
    """How many times `name` is read in the expression."""
    return sum(1 for node in ast.walk(expression) if isinstance(node, ast.Name) and node.id == name)
