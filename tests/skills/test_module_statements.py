"""A module parsed a top-level statement at a time gives the whole parse's nodes and positions."""

from __future__ import annotations

import ast
import inspect

import pytest

from perfpilot.skills import class_facts
from perfpilot.skills.module_statements import statement_bodies

TRICKY = '''\
"""Docstring."""
# a comment at the top
import os; import re

@decorator(
    "arg",
)
# a comment between decorator and def
@other
class A(Base, metaclass=Meta):
    X = """a string
with lines that look like code:
def not_a_function():
    pass
"""

    def method(self): return self.X

if os.name == "nt":
    value = 1
elif os.name == "posix":
    value = 2
else:
    value = (
        3
    )
try:
    import json
except* ImportError:
    json = None
finally:
    pass

for item in range(3): print(item)
else:
    done = True

def f(a,
      b): \\
    return a + b

match value:
    case 1:
        pass
    case _:
        pass
x = 1  # trailing comment
'''


def _whole(text: str) -> str:
    return ast.dump(ast.parse(text), include_attributes=True)


def _chunked(text: str) -> str:
    body = [statement for chunk in statement_bodies(text) for statement in chunk]
    return ast.dump(ast.Module(body=body, type_ignores=[]), include_attributes=True)


@pytest.mark.parametrize(
    "text",
    [TRICKY, inspect.getsource(class_facts), "", "# only a comment\n", "x = 1"],
    ids=["tricky", "class_facts.py", "empty", "comment", "no-newline"],
)
def test_statements_give_the_whole_parse(text: str) -> None:
    assert _chunked(text) == _whole(text)


def test_a_syntax_error_anywhere_raises_as_a_whole_parse_does() -> None:
    with pytest.raises(SyntaxError):
        list(statement_bodies("x = 1\ndef broken(:\n    pass\ny = 2\n"))


def test_a_statement_at_a_time() -> None:
    assert len(list(statement_bodies(TRICKY))) == 9
