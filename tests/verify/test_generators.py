"""Generators are captured (consumed items recorded, re-yielded unchanged) and replayed."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from perfpilot.tools.verify import store
from perfpilot.tools.verify.capture import CaptureTarget, run_capture
from perfpilot.tools.verify.model import VerdictKind
from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

WORDS = '''"""Word streams."""

STOP = [f"stop{i}" for i in range(400)] + ["a", "an", "the"]


def words(text, seen):
    """The lower-cased words of `text` that are not stop words; every word goes to `seen`."""
    for word in text.split():
        seen.append(word)
        if word.lower() in STOP:
            continue
        yield word.lower()
    return len(seen)


def first_long(stream, size):
    """The first word of `stream` at least `size` long ('' when none); the rest stays unread."""
    for word in stream:
        if len(word) >= size:
            return word
    return ""


def shouted(stream):
    """The words of `stream`, upper-cased."""
    for word in stream:
        yield word.upper()


def squares(n):
    """Squares up to n, then their total."""
    total = 0
    for i in range(n):
        total += i * i
        yield i * i
    return total
'''
MAIN = """import sys
from stream.words import first_long, shouted, squares, words

checksum = 0
seen = []
for i in range(120):
    line = " ".join(f"W{(i * k) % 37} the a stop{k % 500}" for k in range(30))
    checksum += sum(len(w) for w in words(line, seen))
    for w in words(line, seen):  # stops early: only the consumed items are the program's
        if w.startswith("w3"):
            checksum += 1
            break
    gen = squares(i % 7)
    checksum += sum(gen)
    source = (w for w in line.split())
    checksum += len(first_long(source, 3 + i % 3))
    checksum += sum(len(w) for w in shouted(source))  # the caller reads on where it stopped
print("checksum", checksum, len(seen))
sys.exit(5)
"""


@pytest.fixture
def stream(tmp_path: Path) -> Path:
    """A workspace whose generators were captured by really running its program."""
    root = tmp_path / "ws"
    (root / "stream").mkdir(parents=True)
    (root / "stream" / "__init__.py").write_text("")
    (root / "stream" / "words.py").write_text(WORDS)
    (root / "main.py").write_text(MAIN)
    (root / "pyproject.toml").write_text("[project]\nname = 'stream'\n")
    return root


def _capture(root: Path, out: Path) -> object:
    targets = [CaptureTarget(str(root / "stream" / "words.py"), n) for n in ("words", "squares")]
    with out.open("w") as handle:
        return run_capture(
            root, [sys.executable, "main.py"], targets, root, calls=64, stdout=handle
        )


def test_a_generator_call_is_recorded_with_the_items_the_program_consumed(
    stream: Path, tmp_path: Path
) -> None:
    plain = subprocess.run([sys.executable, "main.py"], cwd=stream, capture_output=True, text=True)
    out = tmp_path / "out.txt"
    run = _capture(stream, out)
    assert run.returncode == plain.returncode == 5
    assert out.read_text() == plain.stdout  # the program saw the same items
    by_name = {c.qualname: c for c in run.captures}
    assert by_name["words"].calls_seen == 240 and by_name["words"].recorded == 64
    _, records = store.load(stream, str(stream / "stream" / "words.py"), "words")
    outcomes = [pickle.loads(outcome) for _, outcome in records]
    kinds = {o["kind"] for o in outcomes}
    assert kinds == {"return", "closed"}  # run to the end, and stopped early by the program
    full = next(o for o in outcomes if o["kind"] == "return")
    assert full["consumed"] == len(full["items"]) > 0 and full["value"] == len(full["after"][0][1])
    early = next(o for o in outcomes if o["kind"] == "closed")
    assert early["items"][-1].startswith("w3") and len(early["items"]) < full["consumed"]
    _, squares = store.load(stream, str(stream / "stream" / "words.py"), "squares")
    for _, outcome in squares:  # squares(n): n items, then their total as the return value
        saved = pickle.loads(outcome)
        n = saved["after"][0][0]
        assert saved["items"] == [k * k for k in range(n)] and saved["value"] == sum(saved["items"])


@pytest.mark.parametrize(
    ("change", "replacement", "aspect"),
    [
        ("        yield word.lower()", "        yield word", "yielded items"),
        ("        seen.append(word)", "        seen.append(word.upper())", "argument mutation"),
    ],
    ids=["yielded items", "argument mutation"],
)
def test_a_fix_that_changes_what_a_generator_does_is_refused(
    stream: Path, tmp_path: Path, change: str, replacement: str, aspect: str
) -> None:
    _capture(stream, tmp_path / "out.txt")
    fixed = WORDS.replace(change, replacement)
    path = str(stream / "stream" / "words.py")
    verdict = verify_change(stream, path, "words", WORDS, fixed, VerifySettings(budget=2.0))
    assert verdict.kind is VerdictKind.DIFFERS, verdict.summary
    assert verdict.difference is not None and verdict.difference.aspect == aspect


def test_a_faster_generator_is_measured_faster(stream: Path, tmp_path: Path) -> None:
    _capture(stream, tmp_path / "out.txt")
    fixed = WORDS.replace(
        "    for word in text.split():\n", "    stop = set(STOP)\n    for word in text.split():\n"
    ).replace("if word.lower() in STOP:", "if word.lower() in stop:")
    path = str(stream / "stream" / "words.py")
    verdict = verify_change(stream, path, "words", WORDS, fixed, VerifySettings(budget=4.0))
    assert verdict.kind is VerdictKind.FASTER, verdict.summary
    assert verdict.calls == 64 and verdict.speed is not None and verdict.speed.speedup > 2


def test_a_generator_argument_is_tapped_and_the_caller_reads_on(
    stream: Path, tmp_path: Path
) -> None:
    plain = subprocess.run([sys.executable, "main.py"], cwd=stream, capture_output=True, text=True)
    out = tmp_path / "out.txt"
    path = str(stream / "stream" / "words.py")
    targets = [CaptureTarget(path, name) for name in ("first_long", "shouted")]
    with out.open("w") as handle:
        run = run_capture(stream, [sys.executable, "main.py"], targets, stream, stdout=handle)
    assert out.read_text() == plain.stdout  # the generators were passed on, item by item
    for capture in run.captures:
        assert capture.calls_seen == capture.recorded == 120, capture
    same = WORDS.replace(
        "    for word in stream:\n        if len(word) >= size:\n            return word\n"
        '    return ""',
        '    return next((word for word in stream if len(word) >= size), "")',
    )
    assert same != WORDS
    verdict = verify_change(stream, path, "first_long", WORDS, same, VerifySettings(budget=2.0))
    assert verdict.kind not in (VerdictKind.DIFFERS, VerdictKind.UNVERIFIED), verdict.summary
    assert verdict.calls == 120
    wrong = WORDS.replace("if len(word) >= size:", "if len(word) > size:")
    verdict = verify_change(stream, path, "first_long", WORDS, wrong, VerifySettings(budget=2.0))
    assert verdict.kind is VerdictKind.DIFFERS, verdict.summary
    louder = WORDS.replace("yield word.upper()", "yield word.upper() + '!'")
    verdict = verify_change(stream, path, "shouted", WORDS, louder, VerifySettings(budget=2.0))
    assert verdict.kind is VerdictKind.DIFFERS and verdict.difference is not None
    assert verdict.difference.aspect == "yielded items"
