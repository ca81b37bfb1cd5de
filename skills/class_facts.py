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
from perfpilot.skills.shadowing import Gathering, class_level_names, shadowed_names
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
    gathering = Gathering()
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
                names = class_level_names(node)
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
        shadowed = shadowed_names(index, name, candidates, index.class_names.get(key, frozenset()))
        methods: dict[str, Method] = {}
        for statement in short:
            if statement.name in candidates - shadowed:
                method = _method(statement, lines, rebound)
                if method is not None:
                    methods[statement.name] = method
        found[name] = ClassFacts(name, methods, frozenset(names))
    return found


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
