"""Is a function pure, with hashable arguments? The conservative analysis memoization needs."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Parsed
from perfpilot.skills.cst_helpers import (
    all_nodes,
    bound_names,
    dotted_name,
    is_constant,
    names_in,
    target_names,
    target_parts,
)
from perfpilot.tools.module_facts import ModuleFacts

# Builtins that neither do I/O nor mutate their arguments, and whose result depends on them only.
_PURE_BUILTINS = frozenset(
    "abs all any ascii bin bool bytes callable chr complex divmod enumerate filter float format"
    " frozenset hash hex int isinstance issubclass len list map max min oct ord pow range repr"
    " reversed round set slice sorted str sum tuple zip dict".split()
)
# Methods of a match object (`m = pattern.match(s)`): pure reads.
_MATCH_METHODS = frozenset("group groups groupdict start end span expand".split())
# Builtins that iterate or measure their argument: a parameter given to them is a container.
_CONTAINER_READERS = frozenset(
    "len sorted sum min max set tuple list frozenset any all enumerate zip map filter reversed"
    " dict".split()
)
# Modules whose functions compute from their arguments only (no I/O, clock or random state).
_PURE_MODULES = frozenset(
    "math cmath statistics operator re unicodedata string textwrap keyword struct binascii"
    " base64 bisect".split()
)
_MUTATING_METHODS = frozenset(
    "append extend insert pop popitem popleft remove clear update add discard sort reverse"
    " setdefault appendleft extendleft rotate move_to_end difference_update"
    " intersection_update symmetric_difference_update put put_nowait get_nowait".split()
)
# I/O, clocks, randomness, logging: on any receiver, refuse.
_IMPURE_METHODS = frozenset(
    "read readline readlines readinto write writelines flush close seek tell recv recvfrom send"
    " sendall sendto connect accept listen makefile open read_text read_bytes write_text"
    " write_bytes exists is_file is_dir stat lstat iterdir glob rglob mkdir unlink touch debug"
    " info warning warn error exception critical log now today utcnow perf_counter monotonic"
    " random randint randrange choice choices shuffle sample uniform getrandbits urandom uuid1"
    " uuid4 sleep".split()
)
# Methods of str/bytes/int/float/tuple values: pure.
_VALUE_METHODS = _MATCH_METHODS | frozenset(
    "capitalize casefold center count encode decode endswith expandtabs find format index"
    " isalnum isalpha isascii isdecimal isdigit isidentifier islower isnumeric isprintable"
    " isspace istitle isupper join ljust lower lstrip partition removeprefix removesuffix"
    " replace rfind rindex rjust rpartition rsplit rstrip split splitlines startswith strip"
    " swapcase title translate upper zfill bit_length bit_count to_bytes conjugate"
    " as_integer_ratio is_integer hex get keys values items".split()
)
# Annotations that name a value type: hashable by value, safe to read attributes of.
_VALUE_TYPES = frozenset(
    "int float complex bool str bytes tuple Tuple frozenset FrozenSet None Optional Union"
    " Literal typing t Final Decimal Fraction".split()
)
_SMALL_TYPES = frozenset("int bool None Optional Literal typing".split())
# Unhashable (a cached call raises TypeError) or consumed by iteration (a cache is wrong).
_UNHASHABLE = frozenset(
    "list List dict Dict set Set bytearray DefaultDict defaultdict Counter OrderedDict deque"
    " Deque Sequence MutableSequence Mapping MutableMapping MutableSet AbstractSet Collection"
    " Iterable Iterator Generator AsyncIterator AsyncIterable AsyncGenerator Container"
    " Reversible KeysView ValuesView ItemsView ndarray DataFrame Series memoryview Any"
    " object".split()
)
# Calls and annotations whose value is a fresh mutable object: shared by every cached caller.
_MUTABLE_MAKERS = frozenset(
    "list dict set bytearray sorted defaultdict Counter OrderedDict deque map filter zip"
    " enumerate reversed iter".split()
)
_MUTABLE_RESULT_METHODS = frozenset("split rsplit splitlines copy findall".split())
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Verdict:
    """The analysis of one function: why it cannot be cached, or what a cache relies on."""

    refusal: str | None = None
    self_calls: int = 0
    small: bool = False  # every parameter is a small int/bool: an unbounded cache is fine


def analyse(
    parsed: Parsed, function: cst.FunctionDef, skip_last_decorator: bool = False
) -> Verdict:
    """Check purity and hashability conservatively; a refusal names the first problem."""
    source = parsed.source
    if "<locals>" in source.qualname:
        return Verdict("a nested function would get a new cache on every call of its parent")
    if function.asynchronous is not None:
        return Verdict("a coroutine cannot be cached (its result is awaited once)")
    decorators = list(function.decorators)
    if skip_last_decorator and decorators:
        decorators = decorators[:-1]
    static = False
    for decorator in decorators:
        if dotted_name(decorator.decorator) == "staticmethod" and source.in_class:
            static = True
        else:
            return Verdict("already decorated (a cache or an unknown wrapper)")
    if source.in_class and not static:
        return Verdict("a method's cache would key on (and keep alive) `self`")
    params = function.params
    if params.star_kwarg is not None or isinstance(params.star_arg, cst.Param):
        return Verdict("*args / **kwargs may hold unhashable values")
    all_params = [*params.posonly_params, *params.params, *params.kwonly_params]
    kinds: dict[str, str] = {}  # parameter → "value", "object" (unannotated or a class)
    small = True
    for param in all_params:
        if param.default is not None and not is_constant(param.default):
            return Verdict(f"the default of `{param.name.value}` may be mutable or unhashable")
        words = _annotation_words(param.annotation)
        if words & _UNHASHABLE:
            return Verdict(f"`{param.name.value}` is annotated with an unhashable type")
        kinds[param.name.value] = "value" if words and words <= _VALUE_TYPES else "object"
        small = small and bool(words) and words <= _SMALL_TYPES
    if _annotation_words(function.returns) & (_UNHASHABLE | _MUTABLE_MAKERS):
        return Verdict("it returns a mutable object that every cached caller would share")
    verdict = Verdict(small=small)
    return _check_body(parsed, function, kinds, verdict)


def _check_body(
    parsed: Parsed, function: cst.FunctionDef, kinds: dict[str, str], verdict: Verdict
) -> Verdict:
    """Walk every node of the body (nested lambdas included) for impure operations."""
    source = parsed.source
    facts = source.module
    name = function.name.value
    parent = source.qualname.rpartition(".")[0]
    local = bound_names(function.body) | set(kinds)
    fresh = _fresh_locals(function, kinds)
    mutable = fresh | _mutable_locals(function)
    nodes = list(all_nodes(function.body))
    for node in nodes:
        problem = None
        if isinstance(node, cst.Global | cst.Nonlocal):
            problem = "it declares global/nonlocal names"
        elif isinstance(node, cst.Yield | cst.Await):
            problem = "a generator or coroutine cannot be cached"
        elif isinstance(node, cst.FunctionDef | cst.ClassDef):
            problem = "it defines a nested function or class"
        elif isinstance(node, cst.With):
            problem = "it enters a context manager (a lock, a file: side effects)"
        elif isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.AugAssign | cst.Del):
            problem = _write_problem(node, fresh, kinds)
        elif isinstance(node, cst.For | cst.CompFor) and root_name(node.iter) in kinds:
            if kinds[root_name(node.iter) or ""] == "object":
                problem = "it iterates a parameter that may be an unhashable container"
        elif isinstance(node, cst.ComparisonTarget) and _object_param(node.comparator, kinds):
            if isinstance(node.operator, cst.In | cst.NotIn):
                problem = "it tests membership in a parameter that may be an unhashable container"
        elif isinstance(node, cst.Subscript) and root_name(node) in kinds:
            if kinds[root_name(node) or ""] == "object":
                problem = "it subscripts a parameter that may be an unhashable container"
        elif isinstance(node, cst.Attribute) and root_name(node) in kinds:
            if kinds[root_name(node) or ""] == "object":
                problem = "it reads attributes of a parameter (a cache would go stale)"
        elif isinstance(node, cst.Attribute) and _impure_module(root_name(node), local, facts):
            problem = f"it uses `{dotted_name(node) or 'an attribute'}` of an impure module"
        elif isinstance(node, cst.Return) and node.value is not None:
            if _is_mutable_value(node.value, mutable):
                problem = "it returns a mutable object that every cached caller would share"
        elif isinstance(node, cst.Call):
            problem = _call_problem(node, name, parent, local, fresh, kinds, verdict, facts)
        if problem:
            return Verdict(problem)
    # Attribute names and keywords are not reads of a variable.
    labels = {id(n.attr) for n in nodes if isinstance(n, cst.Attribute)}
    labels |= {id(n.keyword) for n in nodes if isinstance(n, cst.Arg) and n.keyword}
    for node in nodes:
        if isinstance(node, cst.Name) and id(node) not in labels:
            if _is_global_read(node.value, local, name, facts):
                return Verdict(f"it reads module-level `{node.value}`, which may change")
    return verdict


def _call_problem(
    call: cst.Call,
    name: str,
    parent: str,
    local: set[str],
    fresh: set[str],
    kinds: dict[str, str],
    verdict: Verdict,
    facts: ModuleFacts,
) -> str | None:
    """Why a call makes the function impure (or unknown), or None; counts the self-calls."""
    func = call.func
    dotted = dotted_name(func)
    if isinstance(func, cst.Name):
        return _name_call_problem(call, func.value, name, local, kinds, verdict, facts)
    if not isinstance(func, cst.Attribute):
        return "it calls a computed callable, whose purity is unknown"
    method = func.attr.value
    if method in _IMPURE_METHODS:
        return f"it calls `.{method}()` (I/O, clock, randomness or logging)"
    if dotted is not None and parent and dotted == f"{parent}.{name}":
        verdict.self_calls += 1  # a staticmethod calling itself through its class
        return None
    root = root_name(func.value)
    if root is not None and root not in local and root in facts.imports:
        module = facts.imports[root].split(".")[0]
        return None if module in _PURE_MODULES else f"it calls `{dotted}` from `{module}`"
    if root in kinds:
        if kinds[root] == "object":
            return f"it calls a method of `{root}`, whose state a cache would not see change"
        if method in _MUTATING_METHODS:
            return f"it mutates its argument `{root}`"
    elif root is not None and root in fresh:
        return None  # a container built in this call: changing it is local
    elif method in _MUTATING_METHODS:
        return f"it calls `.{method}()` on `{root or 'a value'}` it did not create"
    elif root is not None and root not in local:
        return f"it calls `{dotted or method}` on module-level `{root}`, whose purity is unknown"
    if method in _VALUE_METHODS:
        return None
    return f"it calls `.{method}()`, whose purity is unknown"


def _name_call_problem(
    call: cst.Call,
    callee: str,
    name: str,
    local: set[str],
    kinds: dict[str, str],
    verdict: Verdict,
    facts: ModuleFacts,
) -> str | None:
    """A call of a plain name: itself, a pure builtin, a pure module's function; else refused."""
    if callee == name and callee not in local:
        verdict.self_calls += 1
        return None
    if callee in kinds:
        return f"it calls its parameter `{callee}`"
    if callee in facts.imports and callee not in local:
        module = facts.imports[callee].split(".")[0]
        return None if module in _PURE_MODULES else f"it calls `{callee}` from `{module}`"
    if callee in local or callee in facts.rebound:
        return f"it calls `{callee}`, whose purity is unknown"
    if callee in _PURE_BUILTINS:
        for arg in call.args:
            first = root_name(arg.value)
            if callee in _CONTAINER_READERS and first in kinds and kinds[first] == "object":
                return f"it passes `{first}` to `{callee}`: maybe an unhashable container"
        return None
    if isinstance(getattr(builtins, callee, None), type) and issubclass(
        getattr(builtins, callee), BaseException
    ):
        return None  # building an exception to raise
    return f"it calls `{callee}`, whose purity is unknown"


def _write_problem(node: cst.CSTNode, fresh: set[str], kinds: dict[str, str]) -> str | None:
    """Assignments may bind locals or write into containers this call created; nothing else."""
    if isinstance(node, cst.Del):
        targets = [node.target]
    else:
        targets = [node.target]  # type: ignore[attr-defined]
    for target in targets:
        for part in target_parts(target):
            if isinstance(part, cst.Name):
                if isinstance(node, cst.AugAssign) and part.value in kinds:
                    if kinds[part.value] != "value":
                        return f"`{part.value} op=` may mutate its argument in place"
                continue
            root = root_name(part)
            if root not in fresh:
                return f"it writes to `{root or 'an object'}`, which it did not create"
    return None


def _fresh_locals(function: cst.FunctionDef, kinds: dict[str, str]) -> set[str]:
    """Locals every assignment of which is a new container (a literal, comprehension, list())."""
    fresh: dict[str, bool] = {}
    for node in all_nodes(function.body):
        if isinstance(node, cst.Assign):
            is_new = _is_new_container(node.value)
            for target in node.targets:
                for bound in target_names(target.target):
                    fresh[bound] = fresh.get(bound, True) and is_new
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            for bound in target_names(node.target):
                fresh[bound] = fresh.get(bound, True) and _is_new_container(node.value)
        elif isinstance(node, cst.For | cst.CompFor | cst.AugAssign | cst.NamedExpr):
            for bound in target_names(node.target):
                fresh[bound] = False
        elif isinstance(node, cst.AsName):
            for bound in target_names(node.name):
                fresh[bound] = False
    return {name for name, is_new in fresh.items() if is_new and name not in kinds}


def _mutable_locals(function: cst.FunctionDef) -> set[str]:
    """Locals some assignment of which is a mutable value (returning them shares it)."""
    found: set[str] = set()
    for node in all_nodes(function.body):
        if isinstance(node, cst.Assign) and _is_mutable_value(node.value, found):
            for target in node.targets:
                found |= target_names(target.target)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            if _is_mutable_value(node.value, found):
                found |= target_names(node.target)
    return found


def _is_new_container(value: cst.BaseExpression) -> bool:
    if isinstance(
        value,
        cst.List | cst.Dict | cst.Set | cst.ListComp | cst.DictComp | cst.SetComp,
    ):
        return True
    if isinstance(value, cst.BinaryOperation):  # [0] * n
        return _is_new_container(value.left) or _is_new_container(value.right)
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
        return value.func.value in ("list", "dict", "set", "bytearray", "sorted")
    return False


def _is_mutable_value(value: cst.BaseExpression, fresh: set[str]) -> bool:
    """A returned value that is (or may well be) a fresh list/dict/set."""
    if _is_new_container(value):
        return True
    if isinstance(value, cst.Name):
        return value.value in fresh
    if isinstance(value, cst.Call):
        if isinstance(value.func, cst.Name):
            return value.func.value in _MUTABLE_MAKERS
        if isinstance(value.func, cst.Attribute):
            return value.func.attr.value in _MUTABLE_RESULT_METHODS
    if isinstance(value, cst.IfExp):
        return _is_mutable_value(value.body, fresh) or _is_mutable_value(value.orelse, fresh)
    return False


def _object_param(node: cst.CSTNode, kinds: dict[str, str]) -> bool:
    """A parameter (or a part of one) that is not annotated with a value type."""
    name = root_name(node)
    return name is not None and kinds.get(name) == "object"


def _impure_module(name: str | None, local: set[str], facts: ModuleFacts) -> bool:
    """`sys`, `os`, `time`...: an imported module outside the known-pure ones."""
    if name is None or name in local or name not in facts.imports:
        return False
    return facts.imports[name].split(".")[0] not in _PURE_MODULES


def _is_global_read(name: str, local: set[str], own: str, facts: ModuleFacts) -> bool:
    """A lower-case module-level name (not a CONSTANT, Class, import or builtin): may change."""
    if name in local or name == own or name in facts.imports:
        return False
    return name in facts.rebound and name.lstrip("_")[:1].islower()


def _annotation_words(annotation: cst.Annotation | None) -> set[str]:
    """Every identifier in an annotation, string annotations included."""
    if annotation is None:
        return set()
    words = names_in(annotation.annotation)
    for node in all_nodes(annotation):
        if isinstance(node, cst.SimpleString):
            words |= set(_WORD.findall(node.value[1:]))
    if isinstance(annotation.annotation, cst.SimpleString):
        words |= set(_WORD.findall(annotation.annotation.value[1:]))
    return words


def root_name(node: cst.CSTNode) -> str | None:
    """The name an attribute/subscript/call chain starts from: `a` for `a.b[c].d()`."""
    while True:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute | cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        else:
            return None
