"""PP101: memoize a pure function with `functools.cache` / `functools.lru_cache(maxsize=4096)`."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from perfpilot.skills.api import Opportunity, Parsed, Rewrite, Transform
from perfpilot.skills.cst_helpers import all_nodes, bound_names, dotted_name, parameter_names
from perfpilot.tools.model import Applicability

from . import purity

LRU_MAXSIZE = 4096
# Without a profile a non-recursive function is not worth a cache; with one, it must be hot.
MIN_CALLS = 1000
# Builtins too cheap to be worth caching a function that only calls them.
_CHEAP = frozenset(
    "isinstance issubclass len abs int float bool str repr hash ord chr callable round divmod"
    " pow type min max".split()
)


@dataclass
class MemoizePureFunction(Transform):
    """Add a cache decorator to a pure, hashable-argument function."""

    min_python: tuple[int, int] = (3, 9)  # functools.cache

    def find(self, parsed: Parsed) -> list[Opportunity]:
        """One opportunity per function: recursive, or hot in the profile, and provably pure."""
        verdict = purity.analyse(parsed, parsed.function)
        if verdict.refusal is not None:
            return []
        calls = parsed.source.calls
        if not verdict.self_calls and not (calls and calls >= MIN_CALLS and _does_work(parsed)):
            return []
        name = parsed.source.name
        often = f" ({calls:,} call{'s' if calls != 1 else ''} in the profile)" if calls else ""
        if verdict.self_calls:
            why = (
                f"`{name}` calls itself ({verdict.self_calls} call site"
                f"{'s' if verdict.self_calls > 1 else ''}){often}: overlapping subproblems"
                " are recomputed on every call; a cache computes each argument tuple once"
            )
        else:
            why = (
                f"`{name}` is pure and called often{often}: a cache answers repeated"
                " arguments without recomputing"
            )
        wanted = "cache" if verdict.small else "lru_cache"
        return [
            parsed.opportunity(
                parsed.function.name,
                key=f"memoize:{name}",
                title=f"Memoize `{name}` with functools.{wanted}",
                evidence=why,
                applicability=Applicability.UNSAFE,
                effect=0.8 if verdict.self_calls else 0.3,
            )
        ]

    def rewrite(self, parsed: Parsed, opportunity: Opportunity) -> Rewrite:
        """Add the cache decorator directly above the `def` (below `@staticmethod`)."""
        verdict = purity.analyse(parsed, parsed.function)
        if verdict.refusal is not None:
            return Rewrite.failed(verdict.refusal)
        decorator, imports = _decorator_code(parsed, verdict.small)
        if decorator is None:
            return Rewrite.failed("`functools` names something else in this module")
        function = parsed.function
        new_decorator = cst.Decorator(decorator=cst.parse_expression(decorator))
        new_function = function.with_changes(decorators=[*function.decorators, new_decorator])
        module = parsed.module.deep_replace(function, new_function)
        assert isinstance(module, cst.Module)
        return Rewrite(function_text=parsed.render(module), imports=imports)

    def guard(self, before: Parsed, after: Parsed, opportunity: Opportunity) -> str | None:
        """Exactly one cache decorator was added, nothing else changed, and it is still pure."""
        old, new = before.function, after.function
        if len(new.decorators) != len(old.decorators) + 1:
            return "the rewrite did not add exactly one decorator"
        added = new.decorators[-1]
        if not _is_cache_decorator(added):
            return "the added decorator is not functools.cache or lru_cache"
        for kept, original in zip(new.decorators[:-1], old.decorators):
            if not kept.deep_equals(original):
                return "the rewrite changed another decorator"
        if not new.body.deep_equals(old.body) or not new.params.deep_equals(old.params):
            return "the rewrite changed the function's body or parameters"
        verdict = purity.analyse(after, new, skip_last_decorator=True)
        return f"the function is not pure: {verdict.refusal}" if verdict.refusal else None


def _does_work(parsed: Parsed) -> bool:
    """A loop, or a call that is not a cheap builtin: else a cache lookup costs as much."""
    for node in all_nodes(parsed.function.body):
        if isinstance(node, cst.For | cst.While | cst.CompFor):
            return True
        if isinstance(node, cst.Call):
            callee = node.func.value if isinstance(node.func, cst.Name) else ""
            if callee not in _CHEAP and not callee[:1].isupper():  # not an exception
                return True
    return False


def _decorator_code(parsed: Parsed, small: bool) -> tuple[str | None, tuple[str, ...]]:
    """The decorator expression and the import it needs, using what the module already binds."""
    facts = parsed.source.module
    local = bound_names(parsed.function.body) | set(parameter_names(parsed.function))
    wanted = "cache" if small else "lru_cache"
    call = "" if small else f"(maxsize={LRU_MAXSIZE})"
    direct = facts.binding_for(f"functools.{wanted}")
    if direct is not None and direct not in local:
        return f"{direct}{call}", ()
    alias = facts.binding_for("functools")
    if alias is not None and alias not in local:
        return f"{alias}.{wanted}{call}", ()
    if "functools" in facts.imports or "functools" in facts.rebound:
        return None, ()
    return f"functools.{wanted}{call}", ("import functools",)


def _is_cache_decorator(decorator: cst.Decorator) -> bool:
    expression = decorator.decorator
    if isinstance(expression, cst.Call):
        expression = expression.func
    dotted = dotted_name(expression) or ""
    return dotted.rsplit(".", 1)[-1] in ("cache", "lru_cache")


TRANSFORM = MemoizePureFunction()
