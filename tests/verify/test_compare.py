"""Replay's comparison of C objects with identity equality (seen on markdown and jinja2)."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as etree

from perfpilot.tools.verify._compare import difference


def _tree(text: str) -> etree.Element:
    root = etree.Element("div", {"class": "x"})
    child = etree.SubElement(root, "p")
    child.text = text
    return root


class Processor:
    """A parser's object holding C objects, as markdown's tree processors do."""

    def __init__(self, text: str) -> None:
        self.root = _tree(text)
        self.parent_map = {child: self.root for child in self.root}
        self.lock = threading.Lock()


def test_equal_elements_built_twice_agree() -> None:
    # Two replays build two Element trees: equal trees are the same behaviour.
    assert difference(_tree("a"), _tree("a")) is None
    assert difference(Processor("a"), Processor("a")) is None


def test_elements_that_differ_are_found() -> None:
    assert difference(_tree("a"), _tree("b")) is not None
    found = difference(Processor("a"), Processor("b"))
    assert found is not None and found.startswith(".root")


def test_dict_keyed_by_identity_compares_items_in_order() -> None:
    first, second = Processor("a"), Processor("a")
    assert difference(first.parent_map, second.parent_map) is None
    other = Processor("b")
    assert difference(first.parent_map, other.parent_map) is not None


def test_shared_objects_are_compared_once() -> None:
    # A state graph where every level refers twice to the next: 2**40 paths, 40 objects.
    def chain(depth: int) -> list[object]:
        node: list[object] = []
        for _ in range(depth):
            node = [node, node]
        return node

    assert difference(chain(40), chain(40)) is None


def test_the_path_to_a_difference_is_named_from_the_top() -> None:
    # Paths are built on the way back up from the difference (none for the equal parts).
    first, second = Processor("a"), Processor("a")
    second.root[0].attrib["id"] = "x"
    assert difference(first, second) == ".root['_children'][0]['attrib']: 0 keys vs 1"
    assert difference({"a": [1, (2, 3)]}, {"a": [1, (2, 4)]}) == "['a'][1][1]"
    assert difference({"a": [1, 2]}, {"a": [1, 2, 3]}) == "['a']: length 2 vs 3"
    assert difference(1.0, "1") == "value: type float vs str"
