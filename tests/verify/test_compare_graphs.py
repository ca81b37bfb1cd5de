"""Replay compares Elements by content, linked trees once per pair; private methods (real runs)."""

from __future__ import annotations

import sys
from pathlib import Path

from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

TREES = '''"""An HTML-ish tree builder and a parse tree with parent links."""

import xml.etree.ElementTree as etree


class Node:
    def __init__(self, parent, value):
        self.parent = parent
        self.value = value
        self.children = []

    def __weight(self, scale):
        """A private (name-mangled) method."""
        return self.value * scale

    def weight(self):
        return self.__weight(2)


def tag_words(root, words, parents):
    """Append a <span> per word to `root`, noting its parent in `parents`; return how many."""
    for word in words:
        span = etree.SubElement(root, "span")
        span.text = word
        parents[span] = root
    return len(words)


def build(depth, width):
    """A tree of Nodes whose children point back at their parent."""
    root = Node(None, 0)
    level = [root]
    for d in range(depth):
        nxt = []
        for node in level:
            for w in range(width):
                child = Node(node, d * width + w)
                node.children.append(child)
                nxt.append(child)
        level = nxt
    return root
'''
MAIN = """import xml.etree.ElementTree as etree
from trees.build import build, tag_words

total = 0
for i in range(40):
    root = etree.Element("div")
    total += tag_words(root, [f"w{i}{k}" for k in range(i % 5 + 1)], {})
    tree = build(4, 6)
    total += len(tree.children) + tree.children[i % 6].weight()
print(total)
"""


def _workspace(root: Path) -> Path:
    (root / "trees").mkdir(parents=True)
    (root / "trees" / "__init__.py").write_text("")
    (root / "trees" / "build.py").write_text(TREES)
    (root / "main.py").write_text(MAIN)
    (root / "pyproject.toml").write_text("[project]\nname = 'trees'\n")
    names = ("tag_words", "build", "Node.__weight")
    targets = [CaptureTarget(str(root / "trees" / "build.py"), n) for n in names]
    run = run_capture(root, [sys.executable, "main.py"], targets, root, calls=16)
    assert [c.recorded for c in run.captures] == [16, 16, 16], run
    return root


def test_elements_and_parent_linked_trees_are_compared_by_content(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    path = str(root / "trees" / "build.py")
    quick = VerifySettings(budget=1.5)
    # Same behaviour, new objects: neither "nondeterministic" (addresses) nor a replay timeout.
    same = TREES.replace(
        'span = etree.SubElement(root, "span")',
        'span = etree.Element("span")\n        root.append(span)',
    )
    verdict = verify_change(root, path, "tag_words", TREES, same, quick)
    assert verdict.kind in (VerdictKind.FASTER, VerdictKind.NOT_FASTER), verdict.summary
    verdict = verify_change(
        root, path, "build", TREES, TREES.replace("nxt = []", "nxt = [] "), quick
    )
    assert verdict.kind in (VerdictKind.FASTER, VerdictKind.NOT_FASTER), verdict.summary
    private = TREES.replace("return self.value * scale", "return scale * self.value")
    verdict = verify_change(root, path, "Node.__weight", TREES, private, quick)
    assert verdict.kind in (VerdictKind.FASTER, VerdictKind.NOT_FASTER), verdict.summary
    # A changed element text, or a changed value deep in the linked tree, is a difference.
    louder = TREES.replace("span.text = word", "span.text = word.upper()")
    verdict = verify_change(root, path, "tag_words", TREES, louder, quick)
    assert verdict.kind is VerdictKind.DIFFERS and "argument mutation" in verdict.summary
    off = TREES.replace("Node(node, d * width + w)", "Node(node, d * width + w + (d == 3))")
    verdict = verify_change(root, path, "build", TREES, off, quick)
    assert verdict.kind is VerdictKind.DIFFERS and ".value" in verdict.summary, verdict.summary


KINDS = '''"""Token kinds compared with `is`, as pygments and sqlparse do."""


class Kind:
    def __init__(self, name):
        self.name = name


WORD = Kind("word")
SPACE = Kind("space")


def count_words(tokens):
    """How many tokens are words."""
    return sum(1 for kind, _ in tokens if kind is WORD)
'''
KINDS_MAIN = """from lex.kinds import SPACE, WORD, count_words

total = 0
for i in range(30):
    tokens = [(WORD if k % 3 else SPACE, f"t{k}") for k in range(i + 3)]
    total += count_words(tokens)
print(total)
"""


def test_module_singletons_replay_as_themselves(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "lex").mkdir(parents=True)
    (root / "lex" / "__init__.py").write_text("")
    (root / "lex" / "kinds.py").write_text(KINDS)
    (root / "main.py").write_text(KINDS_MAIN)
    (root / "pyproject.toml").write_text("[project]\nname = 'lex'\n")
    path = str(root / "lex" / "kinds.py")
    run_capture(root, [sys.executable, "main.py"], [CaptureTarget(path, "count_words")], root)
    quick = VerifySettings(budget=1.5)
    same = KINDS.replace(
        "sum(1 for kind, _ in tokens if kind is WORD)", "[k for k, _ in tokens].count(WORD)"
    )
    verdict = verify_change(root, path, "count_words", KINDS, same, quick)
    assert verdict.kind in (VerdictKind.FASTER, VerdictKind.NOT_FASTER), verdict.summary
    assert not any("did not reproduce" in note for note in verdict.notes), verdict.notes
    # Pickled by value, WORD would come back as a look-alike and both versions would count 0.
    wrong = KINDS.replace("if kind is WORD)", "if kind is SPACE)")
    verdict = verify_change(root, path, "count_words", KINDS, wrong, quick)
    assert verdict.kind is VerdictKind.DIFFERS, verdict.summary


SENTINELS = '''"""Actions in a table, one a bare `object()` sentinel, as in sqlparse's lexer."""

from lex.marks import SPECIAL

MISSING = object()


def classify(table, char):
    """The action for `char`: the sentinel means "ask again", MISSING means none."""
    action = table.get(char, MISSING)
    if action is SPECIAL:
        return "special"
    if action is MISSING:
        return "missing"
    return action
'''
SENTINELS_MAIN = """from lex.marks import SPECIAL
from lex.table import MISSING, classify

OWN = object()  # the script's own sentinel: replay cannot import `__main__`, so by value
TABLE = {"a": SPECIAL, "b": "plain", "c": MISSING, "e": OWN}
print([classify(TABLE, ch) for ch in "abcdeabcde"])
"""


def test_object_sentinels_replay_as_themselves(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "lex").mkdir(parents=True)
    (root / "lex" / "__init__.py").write_text("")
    (root / "lex" / "marks.py").write_text("SPECIAL = object()\n")
    (root / "lex" / "table.py").write_text(SENTINELS)
    (root / "main.py").write_text(SENTINELS_MAIN)
    (root / "pyproject.toml").write_text("[project]\nname = 'lex'\n")
    path = str(root / "lex" / "table.py")
    run_capture(root, [sys.executable, "main.py"], [CaptureTarget(path, "classify")], root)
    quick = VerifySettings(budget=1.5)

    verdict = verify_change(root, path, "classify", SENTINELS, SENTINELS, quick)

    assert verdict.kind in (VerdictKind.FASTER, VerdictKind.NOT_FASTER), verdict.summary
    # By value, SPECIAL (another module's) and MISSING (the function's own, re-created in the
    # fresh copy the replay runs) came back as look-alikes: "special" and "missing" were lost.
    assert not any("did not reproduce" in note for note in verdict.notes), verdict.notes
    wrong = SENTINELS.replace('return "special"', 'return "SPECIAL"')
    verdict = verify_change(root, path, "classify", SENTINELS, wrong, quick)
    assert verdict.kind is VerdictKind.DIFFERS, verdict.summary
