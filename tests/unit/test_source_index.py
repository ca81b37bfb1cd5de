"""The source index against the interpreter: every real code object must be found, named alike."""

from __future__ import annotations

import ast
import glob
import inspect
import json
import os
import shutil
import subprocess
import sys
import textwrap
import types
from collections import Counter
from pathlib import Path

import pytest

from perfpilot.tools.source_index import (
    DEFAULT_EXCLUDES,
    MAX_SOURCE_BYTES,
    ModuleIndex,
    SourceFunction,
    WorkspaceIndex,
    index_source,
)

# Many shapes of function. It is compiled (never run), so names need not exist; conditions are
# not constant so that no interpreter drops a branch as dead code.
SHAPES = textwrap.dedent(
    '''\
    """Many function shapes."""
    import functools
    import os
    from typing import overload

    square = lambda x: x * x
    pair = (lambda a: a, lambda b: lambda c: b + c)


    def plain(n):
        return n


    async def coroutine(x=lambda: 0, *, y=(lambda: 1)):
        async def inner_async():
            return [lambda: i for i in range(3)]

        return inner_async


    @functools.lru_cache(maxsize=None)
    @staticmethod
    def decorated(a):
        return a


    @functools.wraps(
        plain,
    )
    # a comment between decorators
    @(
        functools.lru_cache
    )
    def decorated_multiline(b):
        return b


    def outer(a, key=lambda v: v):
        def middle():
            def innermost():
                return lambda: a

            class InFunction:
                def method(self):
                    return (lambda q: q)(self)

                class Deeper:
                    def deep(self):
                        nonlocal_value = 1
                        return nonlocal_value

            return innermost, InFunction

        total = sum(x for x in (lambda: [1, 2])())
        squares = {k: (lambda: k) for k in range(3)}
        filtered = [y for y in range(3) if (lambda: y)()]
        gen = ((lambda: z) for z in range(2))
        return middle, total, squares, filtered, gen


    class Outer:
        attr = lambda self: 1
        table = [lambda: t for t in range(2)]

        def method(self, f=lambda: 2):
            return f

        @property
        def value(self):
            return 1

        @value.setter
        def value(self, v):
            pass

        @staticmethod
        def static(x): return x

        @classmethod
        async def amethod(cls):
            return cls

        class Inner:
            def m(self):
                return 1

            class Innermost:
                async def am(self):
                    pass

        def __private(self):
            return lambda: self

        @overload
        def over(self, x: int) -> int: ...
        @overload
        def over(self, x: str) -> str: ...
        def over(self, x):
            return x


    if os.environ.get("PP_FLAG"):
        def conditional():
            return 1
    elif os.environ.get("PP_OTHER"):
        conditional = lambda: 3
    else:
        def conditional():
            return 2

    try:
        def in_try():
            pass
    except ImportError:
        def in_try():
            pass
    finally:
        def in_finally():
            pass

    with open(__file__) as fh:
        def in_with():
            pass

    for _i in range(1):
        def in_loop():
            pass

    while os.environ.get("PP_NEVER"):
        def in_while():
            pass

    match os.environ.get("PP_MATCH"):
        case "1":
            def in_match():
                pass
        case other if (lambda: other)():
            pass


    def uses_global():
        global made_global

        def made_global():
            return 1

        class GlobalClass:
            global in_class_global

            def in_class_global(self):
                return 2

            def normal(self):
                pass

        return made_global


    def defaults_and_annotations(
        a=lambda: 1,
        b: "int" = lambda: 2,
    ) -> int:
        return lambda *args, **kw: (args, kw)


    class WithBases(dict, metaclass=(lambda *a: type(*a))):
        def keyed(self, key=lambda: lambda: 0):
            return key


    nested_lambda = lambda a: (lambda b: (lambda c: a + b + c))
    in_dict = {"k": lambda: 1, "j": [lambda: 2]}
    call_result = sorted([3, 1], key=lambda v: -v)
    multiline = lambda x: (
        x
        + 1
    )
    walrus = [(w := lambda: 1)]


    def gen_function():
        yield lambda: 1
        yield from (lambda: [2])()


    async def agen():
        yield 1
        async with ctx() as c:
            def in_async_with():
                return c
        values = [await x async for x in aiter()]


    def \\
        continued_def(x):
        return x


    def dec_with_lambda():
        @(lambda f: f)
        def target():
            pass

        return target


    class Decorated:
        @functools.partial(lambda f, n: f, n=1)
        def meth(self):
            pass


    def comp_scopes():
        return [[lambda: (i, j) for j in range(2)] for i in range(2)], {
            (lambda: 1)() for _ in range(1)
        }, {x: [lambda: x] for x in range(1)}, (lambda: y for y in [(lambda: 0)()])


    def été(ß=lambda: "ü"):
        return ß
    '''
)

# PEP 695 syntax (3.12+): generic functions and classes keep their plain qualnames.
GENERIC = textwrap.dedent(
    """\
    class Box[T]:
        def get[U](self, u: U) -> T:
            return (lambda: u)()

        class Inner[V: int]:
            def m(self):
                pass


    def ident[T](x: T) -> T:
        def inner[S](s: S) -> S:
            return s
        return (lambda: x)()

    type Alias[K] = dict[K, int]
    """
)

COMPREHENSIONS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}

# Run by other interpreters: the same selection of code objects as `_real_functions`.
COLLECT = textwrap.dedent(
    """\
    import json, sys, types
    def walk(code):
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                yield c
                yield from walk(c)
    source = sys.stdin.read()
    comprehensions = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}
    print(json.dumps([
        (c.co_name, c.co_qualname, c.co_firstlineno)
        for c in walk(compile(source, sys.argv[1], "exec"))
        if c.co_flags & 0x2 and c.co_name not in comprehensions
        and not c.co_name.startswith("<generic parameters of ")
        and c.co_name not in sys.argv[2:]
    ]))
    """
)


def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    found = []
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.append(const)
            found.extend(_code_objects(const))
    return found


def _real_functions(source: str, path: str) -> Counter[tuple[str, str, int]]:
    """(co_name, co_qualname, co_firstlineno) of every function code object CPython makes."""
    codes = _code_objects(compile(source, path, "exec"))
    # CO_NEWLOCALS marks functions and lambdas (and comprehensions, mapped elsewhere); class
    # bodies and the module lack it.
    return Counter(
        (c.co_name, c.co_qualname, c.co_firstlineno)
        for c in codes
        if c.co_flags & inspect.CO_NEWLOCALS and c.co_name not in COMPREHENSIONS
    )


def _indexed(index: ModuleIndex) -> Counter[tuple[str, str, int]]:
    return Counter((f.name, f.qualname, f.first_line) for f in index.functions)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="co_qualname is new in 3.11")
def test_every_code_object_is_indexed_with_its_qualname_and_first_line(tmp_path: Path) -> None:
    path = str(tmp_path / "shapes.py")
    real = _real_functions(SHAPES, path)
    index = index_source(SHAPES, path)
    assert not index.has_errors
    assert len(real) > 80  # the shapes really are many
    assert _indexed(index) == real


def test_def_and_end_lines_match_the_ast() -> None:
    index = index_source(SHAPES, "shapes.py")
    tree = ast.parse(SHAPES)
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    defs = sorted(
        (n.lineno, n.name, n.end_lineno, isinstance(n, ast.AsyncFunctionDef))
        for n in ast.walk(tree)
        if isinstance(n, kinds)
    )
    ours = sorted(
        (f.def_line, f.name, f.end_line, f.is_async) for f in index.functions if not f.is_lambda
    )
    assert ours == defs
    lambdas = sorted(n.lineno for n in ast.walk(tree) if isinstance(n, ast.Lambda))
    assert sorted(f.def_line for f in index.functions if f.is_lambda) == lambdas


def _interpreter(minor: int) -> str | None:
    """Find a working python3.<minor>, from PATH or a pyenv install."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = [shutil.which(f"python3.{minor}")]
    found += sorted(glob.glob(os.path.join(root, "versions", f"3.{minor}.*", "bin", "python3")))
    for exe in filter(None, found):
        probe = subprocess.run(
            [exe, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == f"(3, {minor})":
            return exe
    return None


@pytest.mark.parametrize("minor", [12, 13])
def test_qualname_rules_of_newer_interpreters(minor: int) -> None:
    # 3.12 inlined list/set/dict comprehensions (PEP 709): a lambda inside one loses a level.
    exe = _interpreter(minor)
    if exe is None:
        pytest.skip(f"no python3.{minor} here")
    for source, skip in ((SHAPES, []), (GENERIC, ["V", "Alias"])):
        # V and Alias are the lazily evaluated TypeVar bound and alias value, not user functions.
        out = subprocess.run(
            [exe, "-c", COLLECT, "shapes.py", *skip],
            input=source,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        real = Counter(tuple(item) for item in json.loads(out))
        index = index_source(source, "shapes.py", python_version=(3, minor))
        assert not index.has_errors
        assert _indexed(index) == real


def test_lambda_in_comprehension_follows_the_target_version() -> None:
    source = "def f():\n    return [lambda: i for i in range(2)]\n"
    old = index_source(source, "m.py", python_version=(3, 11)).by_name("<lambda>")
    new = index_source(source, "m.py", python_version=(3, 12)).by_name("<lambda>")
    assert [f.qualname for f in old] == ["f.<locals>.<listcomp>.<lambda>"]
    assert [f.qualname for f in new] == ["f.<locals>.<lambda>"]


def _line(text: str, source: str = SHAPES) -> int:
    """1-based number of the first line of `source` that starts with `text` (indent ignored)."""
    return next(
        i for i, line in enumerate(source.splitlines(), 1) if line.lstrip().startswith(text)
    )


def test_lookups() -> None:
    index = index_source(SHAPES, "/work/x/../shapes.py")
    assert index.path == os.path.normpath("/work/shapes.py")
    assert all(f.path == index.path for f in index.functions)
    assert [f.def_line - f.first_line for f in index.by_qualname("Outer.value")] == [1, 1]
    assert len(index.by_qualname("Outer.over")) == 3
    [multi] = index.by_name("decorated_multiline")
    first, def_line = _line("@functools.wraps("), _line("def decorated_multiline")
    assert (multi.first_line, multi.def_line) == (first, def_line)
    assert index.by_first_line(first) == [multi] and index.by_def_line(def_line) == [multi]
    assert index.by_first_line(def_line) == []
    pair_line = _line("pair = ")
    pair = index.by_first_line(pair_line)
    assert [f.qualname for f in pair] == ["<lambda>", "<lambda>", "<lambda>.<locals>.<lambda>"]
    assert [f.name_column for f in pair] == [9, 22, 32]
    assert pair == index.by_def_line(pair_line)
    [cont] = index.by_name("continued_def")
    assert (cont.def_line, cont.name_line, cont.name_column) == (
        _line("def \\"),
        _line("continued_def"),
        5,
    )
    [coroutine] = index.by_name("coroutine")
    assert coroutine.is_async and not coroutine.is_lambda
    assert (coroutine.name_line, coroutine.name_column) == (_line("async def coroutine"), 11)
    [amethod] = index.by_qualname("Outer.amethod")
    assert amethod.is_async and amethod.first_line == amethod.def_line - 1
    assert index.by_name("nothing") == [] and index.by_qualname("Outer") == []


def test_columns_count_code_points() -> None:
    source = "x = 'été'; f = lambda: 1\ndef été(): pass\n"
    index = index_source(source.encode(), "m.py")
    lam, fn = index.functions
    assert lam.name_column == source.splitlines()[0].index("lambda") + 1 == 16
    assert (fn.name, fn.name_column) == ("été", 5)


def test_innermost_at() -> None:
    source = textwrap.dedent(
        """\
        import os

        @decorator
        def outer(a=lambda: 0):
            x = 1

            def inner():
                return [lambda: (lambda: 2) for _ in a]
            # a comment closing outer
        # a module comment

        class C:
            y = 2

            def m(self):
                pass
        """
    )
    index = index_source(source, "m.py")
    at = {line: index.innermost_at(line) for line in range(0, 20)}
    qual = {line: (f.qualname if f else None) for line, f in at.items()}
    assert qual[1] is None and qual[2] is None
    assert qual[3] == "outer"  # the decorator line is co_firstlineno
    assert qual[4] == "<lambda>"  # the default's lambda sits on the def line
    assert qual[5] == qual[6] == "outer"
    assert qual[7] == "outer.<locals>.inner"
    assert qual[8] == "outer.<locals>.inner.<locals>.<listcomp>.<lambda>.<locals>.<lambda>"
    assert qual[9] is None and qual[10] is None  # trailing comments are not the body
    assert qual[12] is None and qual[13] is None  # a class body is not a function
    assert qual[15] == qual[16] == "C.m"
    assert qual[17] is None and qual[0] is None
    # Without lambdas, a comprehension's line folds into the def around it.
    assert index.innermost_at(8, lambdas=False) == index.by_name("inner")[0]
    assert index.innermost_at(4, lambdas=False) == index.by_name("outer")[0]
    assert index.innermost_at(12, lambdas=False) is None


def test_broken_source_is_indexed_as_far_as_it_parses() -> None:
    source = textwrap.dedent(
        """\
        def good():
            return 1

        def bad(:
            pass

        def after():
            return (1 +

        class K:
            def m(self): return 2
        """
    )
    index = index_source(source, "broken.py")
    assert index.has_errors
    names = [f.name for f in index.functions]
    assert names[:2] == ["good", "bad"]
    assert index.by_name("good")[0].end_line == 2
    assert not index_source("def f():\n    return 1\n", "ok.py").has_errors


@pytest.mark.parametrize(
    "source",
    [
        b"",
        b"\x00\x01\x02",
        b"def",
        b"lambda",
        b"@deco\n",
        b"class C:\n    def m(self\n",
        b"(" * 5000 + b"lambda: 1" + b")" * 5000,
        b"def f():\n" + b"    if x:\n" * 200,
        bytes(range(256)) * 40,
        b"s = '''\n" + b"def in_string(): pass\n" * 5,
    ],
)
def test_garbage_never_raises(source: bytes) -> None:
    index = index_source(source, "garbage.py")
    assert isinstance(index.functions, list)
    assert all(f.first_line <= f.def_line <= f.end_line for f in index.functions)


def test_decoding() -> None:
    latin = b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n"
    [fn] = index_source(latin, "m.py").functions
    assert fn.name == "café"
    bad = b"def f():\n    x = '\xff\xfe'\n    return x\ndef g(): pass\n"
    assert [f.name for f in index_source(bad, "m.py").functions] == ["f", "g"]
    bom = b"\xef\xbb\xbfdef f(): pass\n"
    [fn] = index_source(bom, "m.py").functions
    assert (fn.def_line, fn.name_column) == (1, 5)
    second = b"#!/usr/bin/env python\n# coding: latin-1\ndef caf\xe9(): pass\n"
    assert [f.name for f in index_source(second, "m.py").functions] == ["café"]
    too_late = b"import os\n# coding: latin-1\ndef caf\xe9(): pass\n"
    # A declaration after code is not one: the byte stays invalid UTF-8 and is replaced.
    assert [f.name for f in index_source(too_late, "m.py").functions] != ["café"]
    unknown = b"# coding: no-such-codec\ndef f(): pass\n"
    assert [f.name for f in index_source(unknown, "m.py").functions] == ["f"]
    crlf = b"def f():\r\n    return 1\r\n\r\ndef g():\r\n    pass\r\n"
    assert [(f.def_line, f.end_line) for f in index_source(crlf, "m.py").functions] == [
        (1, 2),
        (4, 5),
    ]


BODY = textwrap.dedent(
    '''\
    def f(a, b):
        """Doc."""
        if a:
            x = g(a, b)
        y = "s  t"
        return x + y
    '''
)


def _hash(source: str, name: str = "f") -> str:
    [fn] = index_source(source, "m.py").by_name(name)
    return fn.body_hash


@pytest.mark.parametrize(
    "variant",
    [
        BODY.replace("(a, b)", "( a ,b )").replace("x + y", "x+y"),
        BODY.replace("if a:", "if a:  # why").replace("\n    y", "\n\n    # note\n\n    y"),
        BODY.replace("g(a, b)", "g(\n            a,\n            b\n        )"),
        BODY.replace("g(a, b)", "g(a, \\\n              b)"),
        BODY + "    # trailing comment\n",
        BODY.replace("\n", "   \n"),
        BODY.replace("\n", "\r\n"),
        "import os\n\n# header\nclass C:\n    pass\n" + BODY,
        "class K:\n" + textwrap.indent(BODY, "    "),  # the same method, moved into a class
    ],
)
def test_body_hash_ignores_layout_and_comments(variant: str) -> None:
    assert len(_hash(BODY)) == 16
    assert _hash(variant) == _hash(BODY)


@pytest.mark.parametrize(
    "variant",
    [
        BODY.replace("x + y", "x - y"),
        BODY.replace('"s  t"', '"s t"'),  # whitespace inside a string is content
        BODY.replace("    y = ", "        y = "),  # moved into the if: indentation is code
        BODY.replace("return x + y", "return x + y; z = 1"),
        BODY.replace("def f(a, b)", "def f(a, c)"),
        BODY.replace("def f", "@cache\ndef f"),
        BODY.replace("if a", "if not a"),
        BODY.replace("return x", "return  notx"),
    ],
)
def test_body_hash_changes_with_the_code(variant: str) -> None:
    assert _hash(variant) != _hash(BODY)


def test_lambda_hash() -> None:
    one = _hash("k = sorted(v, key=lambda a:  a + 1)  # c\n", "<lambda>")
    assert one == _hash("k = sorted(v, key=lambda a: a+1)\n", "<lambda>")
    assert one == _hash("k = sorted(\n    v,\n    key=lambda a: a\n    + 1,  # c\n)\n", "<lambda>")
    assert one != _hash("k = sorted(v, key=lambda a: a + 2)\n", "<lambda>")


# --- WorkspaceIndex ------------------------------------------------------------------------


def _write(path: Path, text: str = "def f():\n    return 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    _write(root / "main.py")
    _write(root / "pkg" / "__init__.py", "")
    _write(root / "pkg" / "util.py", "def helper():\n    pass\n")
    _write(root / "pkg" / "sub" / "util.py")
    _write(root / "pkg" / "notes.txt", "not python")
    for excluded in (".venv", "venv", "build", "node_modules", "__pycache__", ".hidden"):
        _write(root / excluded / "skip.py")
    _write(root / "lib" / "site-packages" / "dep.py")
    _write(tmp_path / "outside.py")
    return root


def test_python_files_and_basenames(workspace: Path) -> None:
    index = WorkspaceIndex(str(workspace))
    assert index.python_files() == ["main.py", "pkg/__init__.py", "pkg/sub/util.py", "pkg/util.py"]
    assert index.files_by_basename("util.py") == ["pkg/sub/util.py", "pkg/util.py"]
    assert index.files_by_basename("skip.py") == []
    assert index.parse_count == 0  # listing never parses


def test_custom_excludes_and_globs(workspace: Path) -> None:
    _write(workspace / "gen.egg-info" / "x.py")
    index = WorkspaceIndex(str(workspace), exclude=("pkg", "*.egg-info"))
    files = index.python_files()
    assert "main.py" in files and "build/skip.py" in files
    assert not any(f.startswith(("pkg/", "gen.egg-info/", ".hidden/")) for f in files)
    assert "build" in DEFAULT_EXCLUDES


def test_module_is_lazy_cached_and_reparsed_on_change(workspace: Path) -> None:
    index = WorkspaceIndex(str(workspace))
    assert index.parse_count == 0
    main = workspace / "main.py"
    first = index.module(str(main))
    assert first is not None and [f.name for f in first.functions] == ["f"]
    assert first.path == str(main)
    assert index.parse_count == 1
    assert index.module("main.py") is first  # relative to the root, from the cache
    assert index.parse_count == 1

    stat = main.stat()
    main.write_text("def g():\n    return 2\n")  # same size: only the mtime tells
    os.utime(main, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = index.module(str(main))
    assert second is not None and [f.name for f in second.functions] == ["g"]
    assert index.parse_count == 2
    index.module(str(main))
    assert index.parse_count == 2

    main.unlink()
    assert index.module(str(main)) is None


def test_module_refuses_what_is_not_workspace_python(workspace: Path, tmp_path: Path) -> None:
    index = WorkspaceIndex(str(workspace))
    assert index.module(str(tmp_path / "outside.py")) is None
    assert index.module("../outside.py") is None
    assert index.module(str(workspace / "pkg" / "notes.txt")) is None
    assert index.module(str(workspace / ".venv" / "skip.py")) is None
    assert index.module(str(workspace / "missing.py")) is None
    assert index.module(str(workspace / "pkg")) is None
    (workspace / "folder.py").mkdir()
    assert index.module(str(workspace / "folder.py")) is None
    big = workspace / "big.py"
    big.write_bytes(b"x = 1\n" * (MAX_SOURCE_BYTES // 6 + 1))
    assert index.module(str(big)) is None
    assert index.parse_count == 0


def test_contains_and_symlinks(workspace: Path, tmp_path: Path) -> None:
    (workspace / "link_out.py").symlink_to(tmp_path / "outside.py")
    (workspace / "dir_out").symlink_to(tmp_path, target_is_directory=True)
    (workspace / "link_in.py").symlink_to(workspace / "pkg" / "util.py")
    index = WorkspaceIndex(str(workspace))
    assert index.contains(str(workspace / "main.py"))
    assert index.contains(str(workspace / "pkg" / "sub" / "util.py"))
    assert not index.contains(str(tmp_path / "outside.py"))
    assert not index.contains(str(workspace / "link_out.py"))
    assert not index.contains(str(workspace / "dir_out" / "outside.py"))
    assert not index.contains(str(workspace / ".venv" / "skip.py"))
    assert not index.contains(str(workspace / "lib" / "site-packages" / "dep.py"))
    assert index.contains(str(workspace / "link_in.py"))
    assert index.module(str(workspace / "link_out.py")) is None
    linked = index.module(str(workspace / "link_in.py"))
    assert linked is not None and linked.path == str(workspace / "pkg" / "util.py")
    files = index.python_files()
    assert "link_in.py" in files and "link_out.py" not in files
    assert not any(f.startswith("dir_out/") for f in files)


def test_root_given_through_a_symlink(workspace: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(workspace, target_is_directory=True)
    index = WorkspaceIndex(str(alias))
    assert index.root == str(alias)
    assert index.contains(str(workspace / "main.py")) and index.contains(str(alias / "main.py"))
    module = index.module(str(workspace / "main.py"))
    assert module is not None and module.path == str(alias / "main.py")


def test_source_function_is_hashable_and_frozen() -> None:
    [fn] = index_source("def f(): pass\n", "m.py").functions
    assert {fn: 1}[fn] == 1
    with pytest.raises(AttributeError):
        fn.name = "g"  # type: ignore[misc]
    assert isinstance(fn, SourceFunction)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_file_is_none(workspace: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    secret = _write(workspace / "secret.py")
    secret.chmod(0)
    assert WorkspaceIndex(str(workspace)).module(str(secret)) is None
