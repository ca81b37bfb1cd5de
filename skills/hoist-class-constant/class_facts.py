"""Which attributes of a method's class are plain constants that nothing in the module rebinds.

The transform sees one function's text; whether `self.NAME` is a class constant needs the class
body and every store in the module. This reads the module file (data, parsed with `ast`, never
run), once per (path, mtime, size), and answers only when the function's text is still in the
file: an editor buffer with unsaved changes to the function gets no answer rather than a stale
one.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Container, Iterator
from dataclasses import dataclass
from functools import lru_cache

from perfpilot.skills.module_statements import statement_bodies

# Calls whose result is an ordinary container/str/number (not a descriptor: no bound method,
# no property): a class attribute built with one of them reads the same object every time.
_PLAIN_CALLS = frozenset(
    "set frozenset tuple list dict str int float bytes complex bool range".split()
)
# Module-level helpers that can store any attribute by name or reach an instance's dict.
_DYNAMIC_CALLS = frozenset({"vars", "exec", "eval", "__import__"})
_MAX_BYTES = 4 * 1024 * 1024
_ASYNC_DEF = ast.AsyncFunctionDef


def class_constants(path: str, qualname: str, function_text: str) -> frozenset[str]:
    """Names of plain class attributes of the method's class that no code in the module rebinds.

    Empty when the file cannot be read or parsed, the function's text is not in it (stale),
    the method is not directly in a class body, or the class is decorated or customises
    attribute access.
    """
    try:
        stat = os.stat(path)
    except OSError:
        return frozenset()
    if stat.st_size > _MAX_BYTES:
        return frozenset()
    module = _module_facts(path, stat.st_mtime_ns, stat.st_size)
    if module is None:
        return frozenset()
    text, classes = module
    if _normalized(function_text) not in text:
        return frozenset()
    parts = qualname.split(".")
    if len(parts) < 2 or any(part.startswith("<") for part in parts):
        return frozenset()
    found = classes.get(tuple(parts[:-1]))
    if found is None or parts[-1] not in found[0]:
        return frozenset()
    return found[1]


def _re_bindings(body: list[ast.stmt]) -> tuple[bool, bool]:
    """(does `import re` bind `re` here, does anything else bind it) for module statements."""
    imported = any(
        isinstance(node, ast.Import)
        and any(a.name == "re" and a.asname is None for a in node.names)
        for node in body
    )
    others = any(
        "re" in _bound_anywhere(node)
        and not (isinstance(node, ast.Import) and [a.name for a in node.names] == ["re"])
        for node in body
    )
    return imported, others


def _normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Per class: (methods it defines, its provable constants); None: no class of it qualifies.
_Classes = dict[tuple[str, ...], tuple[frozenset[str], frozenset[str]]]


@dataclass(frozen=True)
class _Shape:
    """What the constants of a class depend on, without its methods' bodies."""

    decorated: bool
    customised: bool  # keywords (a metaclass...) or a `__getattribute__`
    bases: tuple[str, ...]  # the bases named by a plain name, in order
    own: dict[str, ast.expr]  # name -> value of its single plain assignment
    other: frozenset[str]  # names bound any other way, or twice
    methods: frozenset[str]


# A file's text and its classes' answers, never its tree: a parsed module is large (10 MiB for a
# 5,000-line file). The language server kept one for as long as the file stayed open, and parsed
# whole it was the peak of the skills' pass: statements are parsed and summarised one by one.
@lru_cache(maxsize=2)
def _module_facts(path: str, _mtime_ns: int, _size: int) -> tuple[str, _Classes] | None:
    """(text, class path -> (methods, constants)) of a file, every class nested in class bodies.

    A class that is decorated, or a module using dynamic attribute tools anywhere, has none.
    """
    stored: set[str] = set()
    dynamic = imported_re = other_re = False
    bindings: set[str] = set()
    top: dict[str, _Shape] = {}  # top-level classes by name (the last definition wins)
    shapes: dict[tuple[str, ...], _Shape] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            text = _normalized(handle.read())
        for body in statement_bodies(text):
            dynamic = _stores(body, stored) or dynamic
            for node in body:
                if not isinstance(node, ast.Expr):
                    bindings |= _bound_anywhere(node)
            imports, others = _re_bindings(body)
            imported_re, other_re = imported_re or imports, other_re or others
            for names, cls in _class_paths(body, (), shapes):
                shapes[names] = _shape(cls)
            top.update({n.name: _shape(n) for n in body if isinstance(n, ast.ClassDef)})
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None
    if dynamic:
        return text, {}
    rebuilt = bindings & _PLAIN_CALLS
    plain_re = frozenset({"re"}) if imported_re and not other_re else frozenset()
    answers: _Classes = {}
    for names, shape in shapes.items():
        if shape.decorated:
            continue
        constants = _constants_with_bases(names[-1], shape, top, set())
        answers[names] = (
            shape.methods,
            frozenset(
                name
                for name, value in constants.items()
                if name not in stored
                and _plain(value, rebuilt, plain_re)
                and not name.startswith("__")
            ),
        )
    return text, answers


def _shape(cls: ast.ClassDef) -> _Shape:
    """A class's summary (see _Shape)."""
    own, other = _class_bindings(cls)
    return _Shape(
        decorated=bool(cls.decorator_list),
        customised=bool(cls.keywords) or "__getattribute__" in other or "__getattribute__" in own,
        bases=tuple(b.id if isinstance(b, ast.Name) else "" for b in cls.bases),
        own=own,
        other=frozenset(other),
        methods=frozenset(
            node.name
            for node in cls.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ),
    )


def _stores(body: list[ast.stmt], stored: set[str]) -> bool:
    """Add the attribute names `body` stores to `stored`; does it use dynamic attribute tools?"""
    dynamic = False
    for node in (inner for statement in body for inner in ast.walk(statement)):
        if isinstance(node, ast.Attribute):
            if isinstance(node.ctx, ast.Store | ast.Del):
                stored.add(node.attr)
            if node.attr == "__dict__":
                dynamic = True  # `obj.__dict__[name] = ...` stores any attribute
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in _DYNAMIC_CALLS:
                dynamic = True
            elif node.func.id in ("setattr", "delattr"):
                name = node.args[1] if len(node.args) > 1 else None
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    stored.add(name.value)
                else:
                    dynamic = True  # a name known only at run time: any attribute
    return dynamic


def _class_paths(
    body: list[ast.stmt], outer: tuple[str, ...], known: Container[tuple[str, ...]]
) -> Iterator[tuple[tuple[str, ...], ast.ClassDef]]:
    """Every class reachable through class bodies, by its path (`A.B` is ("A", "B")).

    Of two classes of one path the first counts (one in `known` already, or earlier in the
    body), as a lookup by name finds it.
    """
    seen: set[str] = set()
    for node in body:
        if isinstance(node, ast.ClassDef) and node.name not in seen:
            seen.add(node.name)
            names = (*outer, node.name)
            if names not in known:
                yield names, node
                yield from _class_paths(node.body, names, known)


def _constants_with_bases(
    name: str, shape: _Shape, classes: dict[str, _Shape], seen: set[str]
) -> dict[str, ast.expr]:
    """Plain assignments of the class body, then of its bases defined in this module.

    A name the class binds any other way (a def, a nested class, an import, a loop) hides the
    bases' constant of that name; a class customising attribute reads has no constants.
    """
    seen.add(name)
    if shape.customised:
        return {}
    inherited: dict[str, ast.expr] = {}
    for base in reversed(shape.bases):  # the first base wins, as in the MRO for these cases
        if base in classes and base not in seen:
            base_shape = classes[base]
            if base_shape.decorated:
                continue
            inherited.update(_constants_with_bases(base, base_shape, classes, seen))
    own, other = shape.own, shape.other
    merged = {n: v for n, v in inherited.items() if n not in other and n not in own}
    merged.update({n: v for n, v in own.items() if n not in other})
    return merged


def _class_bindings(cls: ast.ClassDef) -> tuple[dict[str, ast.expr], set[str]]:
    """(name → value of a single plain assignment, every name bound otherwise or twice)."""
    own: dict[str, ast.expr] = {}
    other: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            for target in node.targets:
                assert isinstance(target, ast.Name)
                if target.id in own:
                    other.add(target.id)
                else:
                    own[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.value is None or node.target.id in own:
                other.add(node.target.id)
            else:
                own[node.target.id] = node.value
        elif isinstance(node, ast.Expr | ast.Pass):
            continue
        else:
            other |= _bound_anywhere(node)
    for name in other:
        own.pop(name, None)
    return own, other


def _bound_anywhere(node: ast.AST) -> set[str]:
    """Every name a statement binds in its own scope (defs, classes, imports, targets, walrus)."""
    names: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        inner = stack.pop()
        if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(inner.name)
            continue  # its body is another scope
        if isinstance(inner, ast.Lambda):
            continue
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store | ast.Del):
            names.add(inner.id)
        elif isinstance(inner, ast.alias):
            names.add((inner.asname or inner.name).split(".")[0])
        stack.extend(ast.iter_child_nodes(inner))
    return names


def _plain(value: ast.expr, rebuilt: set[str], imported_re: frozenset[str]) -> bool:
    """Whether the value is provably not a descriptor (a bound method, a property...)."""
    if isinstance(value, ast.Constant | ast.JoinedStr):
        return True
    if isinstance(value, ast.Tuple | ast.List | ast.Set | ast.Dict):
        return True  # a container display, whatever it holds
    if isinstance(value, ast.ListComp | ast.SetComp | ast.DictComp):
        return True
    if isinstance(value, ast.UnaryOp):
        return isinstance(value.operand, ast.Constant)
    if isinstance(value, ast.BinOp):
        return isinstance(value.left, ast.Constant) and isinstance(value.right, ast.Constant)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id in _PLAIN_CALLS and value.func.id not in rebuilt
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        # `re.compile(...)`: a Pattern, when `re` is the imported module and nothing else.
        base = value.func.value
        return (
            value.func.attr == "compile"
            and isinstance(base, ast.Name)
            and base.id == "re"
            and "re" in imported_re
        )
    return False
