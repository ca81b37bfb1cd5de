"""SKILL.md front matter read without PyYAML: the same result as PyYAML, or none at all."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from perfpilot.skills.front_matter import simple_yaml
from perfpilot.skills.registry import BUILTIN_DIR, split_front_matter


def typed(value: object) -> object:
    """The value with every scalar's type kept (1 and 1.0 and True differ)."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    return (type(value).__name__, value)


def front_of(text: str) -> str:
    lines = text.splitlines(keepends=True)
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    return "".join(lines[1:end])


def test_every_builtin_skill_reads_as_pyyaml_reads_it() -> None:
    fronts = [front_of(p.read_text()) for p in sorted(BUILTIN_DIR.glob("*/SKILL.md"))]
    assert len(fronts) >= 20
    for front in fronts:
        simple = simple_yaml(front)
        assert simple is not None, front  # the fast path really serves the built-ins
        assert typed(simple) == typed(yaml.safe_load(front))


CASES = [
    "name: a\ndescription: b\n",
    "name: a\nmetadata:\n  code: PP101\n  effect: 0.3\n  measured-fixes: 7\n",
    "description: >-\n  one\n  two # not a comment\nmetadata:\n  kind: offense\n",
    "metadata:\n  when: >-\n    x\n    y\n  # a comment\n  code: PP102\n",
    "metadata:\n  trigger: \"for|while +=\"\n  other: 'single'\n",
    "a: yes\n",
    "a: No\n",
    "a: null\n",
    "a: ~\n",
    "a: 0755\n",
    "a: 0x1F\n",
    "a: 1_000\n",
    "a: 1e3\n",
    "a: .inf\n",
    "a: 2026-12-05\n",
    "a: 12:30\n",
    "a: +1\n",
    "a: -0.5\n",
    "a: b # comment\n",
    "a: b: c\n",
    "a: [1, 2]\n",
    "a: {b: 1}\n",
    "a: 'it''s'\n",
    'a: "tab\\there"\n',
    "a: >\n  kept newline\n",
    "a: |\n  literal\n",
    "a: >-\n  one\n\n  two\n",
    "a: >-\n  one\n    more indented\n  two\n",
    "a: plain\n  continued\n",
    "a: 1\na: 2\n",
    "a:\n  b:\n    c: 1\n",
    "a:\n",
    "- item\n",
    "a: &anchor x\nb: *anchor\n",
    "a: !!str 1\n",
    "a: b\r\nc: d\r\n",
    "a:\tb\n",
    "? a\n: b\n",
]


@pytest.mark.parametrize("front", CASES)
def test_outside_the_subset_it_says_nothing_rather_than_something_else(front: str) -> None:
    simple = simple_yaml(front)
    if simple is not None:
        assert typed(simple) == typed(yaml.safe_load(front)), (simple, yaml.safe_load(front))


def test_a_value_yaml_would_not_read_as_a_string_goes_to_pyyaml(tmp_path: object) -> None:
    text = "---\nname: a\ndescription: b\nmetadata:\n  flag: yes\n---\n# Body\n"
    front, body = split_front_matter(text, BUILTIN_DIR / "a" / "SKILL.md")
    assert front["metadata"] == {"flag": True} and body == "# Body\n"


def test_discovering_the_builtin_skills_does_not_import_pyyaml() -> None:
    script = (
        "import sys\nfrom perfpilot.skills.registry import discover\n"
        "found = discover(packages=False, lazy=True)\n"
        "print(len(found.skills), not found.problems, 'yaml' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    count, clean, imported = done.stdout.split()
    assert int(count) >= 20 and clean == "True" and imported == "False", done.stderr
