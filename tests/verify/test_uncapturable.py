"""`verify` on a function whose calls cannot be recorded says so instead of advising a capture."""

from __future__ import annotations

from pathlib import Path

from perfpilot.tools.verify.verify_fix import VerifySettings, verify_change

MODULE = """\
import asyncio


def tokens(text):
    for word in text.split():
        if word in ["a", "an", "the"]:
            continue
        yield word


async def fetch(words):
    await asyncio.sleep(0)
    return [w for w in words if w in ["a", "an"]]


def count(words):
    make = lambda: (yield 1)  # a nested generator does not make `count` one
    return sum(1 for w in words if w in ["a", "an"]) + 0 * len(list(make()))
"""


def _verdict(tmp_path: Path, qualname: str) -> str:
    module = tmp_path / "words.py"
    module.write_text(MODULE)
    fixed = MODULE.replace('["a", "an", "the"]', '{"a", "an", "the"}').replace(
        '["a", "an"]', '{"a", "an"}'
    )
    verdict = verify_change(tmp_path, str(module), qualname, MODULE, fixed, VerifySettings())
    assert verdict.kind.value == "unverified"
    return verdict.summary


def test_a_coroutine_is_named_as_such_and_a_generator_gets_the_capture_command(
    tmp_path: Path,
) -> None:
    assert "perfpilot capture --functions words.py::tokens" in _verdict(tmp_path, "tokens")
    assert _verdict(tmp_path, "fetch") == (
        "unverified: `fetch` cannot be replayed: it is an async function"
    )


def test_a_plain_function_without_captures_gets_the_capture_command(tmp_path: Path) -> None:
    summary = _verdict(tmp_path, "count")
    assert "no recorded calls of `count`" in summary
    assert "perfpilot capture --functions words.py::count" in summary
