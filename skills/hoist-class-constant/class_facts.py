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
from functools import lru_cache

# Calls whose result is an ordinary container/str/number (not a descriptor: no bound method,
# no property): a class attribute built with one of them reads the same object every time.
_PLAIN_CALLS = frozenset(
    "set frozenset tuple list dict str int float bytes complex bool range".split()
)
# Module-level helpers that can store any attribute by name or reach an instance's dict.
_DYNAMIC_CALLS = frozenset({"vars", "exec", "eval", "__import__"})
_MAX_BYTES = 4 * 1024 * 1024


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
    text, tree, stored, dynamic = module
    if _normalized(function_text) not in text or dynamic:
        return frozenset()
    parts = qualname.split(".")
    if len(parts) < 2 or any(part.startswith("<") for part in parts):
        return frozenset()
    classes = _top_classes(tree)
    cls = _nested_class(tree.body, parts[:-1])
    if cls is None or cls.decorator_list or not _defines(cls, parts[-1]):
        return frozenset()
    constants = _constants_with_bases(cls, classes, set())
    bindings = _module_bindings(tree)
    rebuilt = bindings & _PLAIN_CALLS
    imported_re = frozenset({"re"}) if _imports_re_only(tree) else frozenset()
    return frozenset(
        name
        for name, value in constants.items()
        if name not in stored and _plain(value, rebuilt, imported_re) and not name.startswith("__")
    )


def _imports_re_only(tree: ast.Module) -> bool:
    """`re` is bound at module level by `import re` and by nothing else."""
    imported = any(
        isinstance(node, ast.Import)
        and any(a.name == "re" and a.asname is None for a in node.names)
        for node in tree.body
    )
    others = [
        node
        for node in tree.body
        if "re" in _bound_anywhere(node)
        and not (isinstance(node, ast.Import) and [a.name for a in node.names] == ["re"])
    ]
    return imported and not others


def _normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# A parsed module is large (9 MiB for a 6,000-line file): keep only the file being scanned
# (its methods ask one after another) and one more, not a history of them.
@lru_cache(maxsize=2)
def _module_facts(
    path: str, _mtime_ns: int, _size: int
) -> tuple[str, ast.Module, frozenset[str], bool] | None:
    """(text, tree, attribute names stored anywhere, uses dynamic attribute tools) of a file."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = _normalized(handle.read())
        tree = ast.parse(text)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None
    stored: set[str] = set()
    dynamic = False
    for node in ast.walk(tree):
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
    return text, tree, frozenset(stored), dynamic


def _top_classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def _nested_class(body: list[ast.stmt], names: list[str]) -> ast.ClassDef | None:
    """The class `A.B` from `["A", "B"]`, looked up in class bodies only (top level first)."""
    found: ast.ClassDef | None = None
    for name in names:
        found = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == name), None)
        if found is None:
            return None
        body = found.body
    return found


def _defines(cls: ast.ClassDef, method: str) -> bool:
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == method
        for node in cls.body
    )


def _constants_with_bases(
    cls: ast.ClassDef, classes: dict[str, ast.ClassDef], seen: set[str]
) -> dict[str, ast.expr]:
    """Plain assignments of the class body, then of its bases defined in this module.

    A name the class binds any other way (a def, a nested class, an import, a loop) hides the
    bases' constant of that name; a class customising attribute reads has no constants.
    """
    seen.add(cls.name)
    own, other = _class_bindings(cls)
    if "__getattribute__" in other or "__getattribute__" in own or cls.keywords:
        return {}
    inherited: dict[str, ast.expr] = {}
    for base in reversed(cls.bases):  # the first base wins, as in the MRO for these simple cases
        if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
            base_class = classes[base.id]
            if base_class.decorator_list:
                continue
            inherited.update(_constants_with_bases(base_class, classes, seen))
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
                (other.add if target.id in own else own.__setitem__)(target.id, node.value)
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


def _module_bindings(tree: ast.Module) -> set[str]:
    """Names bound at module level (a `set = ...` there makes `set(...)` not the builtin)."""
    names: set[str] = set()
    for node in tree.body:
        names |= _bound_anywhere(node) if not isinstance(node, ast.Expr) else set()
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
