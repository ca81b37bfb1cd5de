"""getattr-default (PP116): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.tools.model import Applicability
from tests.skills.harness import Case, guard_verdict, run_case, skill_named

# The objects the behaviour checks read from: an attribute, a dict item, a property that
# raises AttributeError itself, a __getattr__ that refuses, and None as a real value.
OBJECTS = """\


        class Holder:
            name = "attr"
            nothing = None

            @property
            def broken(self):
                raise AttributeError("inside the property")

            def __getattr__(self, key):
                if key == "dynamic":
                    return "computed"
                raise AttributeError(key)
"""
PROBES = (
    "[look(o, n) for o in (Holder(), {'name': 'item'}, [], 3)"
    " for n in ('name', 'nothing', 'broken', 'dynamic', 'missing')]"
)

CASES = [
    Case(
        # jinja2 3.1.4 Environment.getattr: on dict items (the usual template context)
        # every `item.name` raised and caught an AttributeError before the `obj[name]`.
        "jinja2-environment-getattr",
        """\
        def look(obj, attribute):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
            try:
                return obj[attribute]
            except (TypeError, LookupError, AttributeError):
                return "undefined"
        """
        + OBJECTS,
        """\
        _LOOK_MISSING = object()


        def look(obj, attribute):
            value = getattr(obj, attribute, _LOOK_MISSING)
            if value is not _LOOK_MISSING:
                return value
            try:
                return obj[attribute]
            except (TypeError, LookupError, AttributeError):
                return "undefined"
        """
        + OBJECTS,
        call=PROBES,
    ),
    Case(
        "return-with-constant-default",
        """\
        def look(obj, attribute):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                return None
        """
        + OBJECTS,
        """\
        def look(obj, attribute):
            return getattr(obj, attribute, None)
        """
        + OBJECTS,
        call=PROBES,
    ),
    Case(
        "assignment-with-parameter-default",
        """\
        def label(obj, fallback):
            try:
                text = obj.name
            except AttributeError:
                text = fallback
            return text.upper()
        """,
        """\
        def label(obj, fallback):
            text = getattr(obj, "name", fallback)
            return text.upper()
        """,
        call="label(type('N', (), {'name': 'x'})(), 'd'), label(3, 'd')",
    ),
    Case(
        "handler-with-code-is-unsafe",
        """\
        def look(obj, attribute, log):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                log.append(attribute)
            return len(log)
        """,
        """\
        _LOOK_MISSING = object()


        def look(obj, attribute, log):
            value = getattr(obj, attribute, _LOOK_MISSING)
            if value is not _LOOK_MISSING:
                return value
            log.append(attribute)
            return len(log)
        """,
        applicability=Applicability.UNSAFE,
        call="[look(o, 'real', log) for log in ([],) for o in (1, 1j)], ",
    ),
    Case(
        "assignment-handler-with-code-in-a-method",
        """\
        class Cache:
            def size(self, obj):
                try:
                    n = obj.size
                except AttributeError:
                    n = len(obj)
                    n += 1
                return n
        """,
        """\
        _SIZE_MISSING = object()


        class Cache:
            def size(self, obj):
                n = getattr(obj, "size", _SIZE_MISSING)
                if n is _SIZE_MISSING:
                    n = len(obj)
                    n += 1
                return n
        """,
        applicability=Applicability.UNSAFE,
        call="Cache().size([1, 2]), Cache().size(type('S', (), {'size': 9})())",
    ),
    # Should not fire.
    Case(
        "object-is-an-attribute-chain",
        """\
        def f(self):
            try:
                return self.owner.name
            except AttributeError:
                return None
        """,
    ),
    Case(
        "other-exceptions-caught-too",
        """\
        def f(obj):
            try:
                return obj.name
            except (AttributeError, KeyError):
                return None
        """,
    ),
    Case(
        "more-than-one-statement-in-try",
        """\
        def f(obj):
            try:
                x = obj.name
                return x.upper()
            except AttributeError:
                return None
        """,
    ),
    Case(
        "bare-raise-in-handler",
        """\
        def f(obj, log):
            try:
                return obj.name
            except AttributeError:
                log.append(1)
                raise
        """,
    ),
    Case(
        "exception-bound",
        """\
        def f(obj):
            try:
                return obj.name
            except AttributeError as exc:
                return str(exc)
        """,
    ),
    Case(
        "default-is-a-call-evaluated-eagerly",
        """\
        def f(obj):
            try:
                return obj.name
            except AttributeError:
                return make_default()
        """,
        # It still fires, as the handler-with-code shape, not as an eager default.
        """\
        _F_MISSING = object()


        def f(obj):
            value = getattr(obj, "name", _F_MISSING)
            if value is not _F_MISSING:
                return value
            return make_default()
        """,
        applicability=Applicability.UNSAFE,
    ),
    Case(
        "getattr-shadowed",
        """\
        from mylib import getattr


        def f(obj):
            try:
                return getattr(obj, "x")
            except AttributeError:
                return None
        """,
    ),
    Case(
        "else-clause",
        """\
        def f(obj):
            try:
                x = obj.name
            except AttributeError:
                return None
            else:
                return x
        """,
    ),
    Case(
        "assignment-left-unbound-by-handler",
        """\
        def f(obj):
            x = 0
            try:
                x = obj.name
            except AttributeError:
                pass
            return x
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("getattr-default"), case, tmp_path)


def test_guard_refuses_a_rewrite_that_keeps_the_try() -> None:
    before = """\
    def f(obj):
        try:
            return obj.name
        except AttributeError:
            return None
    """
    kept = """\
    def f(obj):
        getattr(obj, "other", None)
        try:
            return obj.name
        except AttributeError:
            return None
    """
    assert guard_verdict("getattr-default", before, kept) is not None
