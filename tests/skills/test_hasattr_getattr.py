"""hasattr-getattr (PP117): before/after pairs, behaviour checks and should-not-fire cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.skills.harness import Case, guard_verdict, run_case, skill_named

CASES = [
    Case(
        # jinja2 3.1.4 utils._PassArg.from_obj, called twice per template call; the comment
        # on the read goes with the new line.
        "jinja2-pass-arg-from-obj",
        """\
        class PassArg:
            @classmethod
            def from_obj(cls, obj):
                if hasattr(obj, "jinja_pass_arg"):
                    return obj.jinja_pass_arg  # type: ignore

                return None
        """,
        """\
        class PassArg:
            @classmethod
            def from_obj(cls, obj):
                return getattr(obj, "jinja_pass_arg", None)  # type: ignore
        """,
        call="[PassArg.from_obj(o) for o in (len, type('F', (), {'jinja_pass_arg': 2})())]",
    ),
    Case(
        "if-else-with-parameter-default",
        """\
        def size(obj, fallback):
            if hasattr(obj, "size"):
                return getattr(obj, "size")
            else:
                return fallback
        """,
        """\
        def size(obj, fallback):
            return getattr(obj, "size", fallback)
        """,
        call="size(3, -1), size(type('S', (), {'size': 7})(), -1)",
    ),
    Case(
        "conditional-expression",
        """\
        def label(obj):
            name = obj.name if hasattr(obj, 'name') else "?"
            return name.upper()
        """,
        """\
        def label(obj):
            name = getattr(obj, 'name', "?")
            return name.upper()
        """,
        call="label(1), label(type('N', (), {'name': 'x'})())",
    ),
    # Should not fire.
    Case(
        "different-attribute",
        """\
        def f(obj):
            if hasattr(obj, "a"):
                return obj.b
            return None
        """,
    ),
    Case(
        "default-is-a-call",
        """\
        def f(obj):
            if hasattr(obj, "a"):
                return obj.a
            return make()
        """,
    ),
    Case(
        "more-code-in-the-branch",
        """\
        def f(obj, log):
            if hasattr(obj, "a"):
                log.append(1)
                return obj.a
            return None
        """,
    ),
    Case(
        "falls-through-to-more-code",
        """\
        def f(obj, log):
            if hasattr(obj, "a"):
                return obj.a
            log.append(1)
            return None
        """,
    ),
    Case(
        "object-is-an-expression",
        """\
        def f(self):
            if hasattr(self.owner, "a"):
                return self.owner.a
            return None
        """,
    ),
    Case(
        "hasattr-shadowed",
        """\
        def f(obj, hasattr):
            if hasattr(obj, "a"):
                return obj.a
            return None
        """,
    ),
    Case(
        "default-parameter-deleted",
        """\
        def f(obj, fallback):
            del fallback
            if hasattr(obj, "a"):
                return obj.a
            return fallback
        """,
    ),
    Case(
        "elif",
        """\
        def f(obj, flag):
            if flag:
                return 0
            elif hasattr(obj, "a"):
                return obj.a
            return None
        """,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_case(case: Case, tmp_path: Path) -> None:
    run_case(skill_named("hasattr-getattr"), case, tmp_path)


def test_guard_refuses_a_rewrite_that_keeps_hasattr() -> None:
    before = """\
    def f(obj):
        if hasattr(obj, "a"):
            return obj.a
        return None
    """
    kept = """\
    def f(obj):
        if hasattr(obj, "a"):
            return getattr(obj, "a", None)
        return None
    """
    assert guard_verdict("hasattr-getattr", before, kept) is not None
