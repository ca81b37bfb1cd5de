"""Fix-all in batches: the same fixes and the same behaviour as one at a time, validated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpilot.skills import batch_fix, fixing
from perfpilot.skills.registry import discover
from perfpilot.tools import validate

FUNCTIONS = 6

MODULE = '"""Parsers."""\n\nimport re\n' + "".join(
    f'''

def parse_{i}(lines):
    """Keys of kind {i}."""
    found = []
    for line in lines:
        match = re.match(r"(?P<key>[a-z]+)_{i}=(?P<value>\\d+)", line)
        if match:
            found.append(match["key"])
    return found
'''
    for i in range(FUNCTIONS)
)
LINES = [f"abc_{i % FUNCTIONS}={i}" for i in range(40)] + ["nothing", "x_1=oops"]


def run(text: str) -> list[list[str]]:
    namespace: dict[str, object] = {}
    exec(compile(text, "parsers.py", "exec"), namespace)  # noqa: S102 - our own generated code
    return [namespace[f"parse_{i}"](LINES) for i in range(FUNCTIONS)]  # type: ignore[operator]


def fix_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batched: bool) -> tuple[object, int]:
    path = tmp_path / "parsers.py"
    path.write_text(MODULE)
    calls = [0]
    real = validate.validate_edit

    def counting(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch_fix, "validate_edit", counting)
    monkeypatch.setattr("perfpilot.skills.runner.validate_edit", counting)
    if not batched:
        monkeypatch.setattr(fixing, "batch_round", lambda *a, **k: batch_fix.Batch(None))
    skills = discover(tmp_path).with_transforms()
    # precompile-regex is held back by its corpus figure: this tests batching, not offering.
    result = fixing.fix_text(
        MODULE, str(path), None, skills, root=str(tmp_path), include_unproven=True
    )
    monkeypatch.undo()
    return result, calls[0]


def test_batched_fix_all_matches_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_by_one, sequential_validations = fix_all(tmp_path, monkeypatch, batched=False)
    batched, batched_validations = fix_all(tmp_path, monkeypatch, batched=True)
    assert sorted(batched.applied) == sorted(one_by_one.applied)  # type: ignore[attr-defined]
    assert len([t for t in batched.applied if t.startswith("PP105")]) == FUNCTIONS  # type: ignore[attr-defined]
    for i in range(FUNCTIONS):
        assert f"_PARSE_{i}_RE.match(line)" in batched.text  # type: ignore[attr-defined]
        assert batched.text.count(f"_PARSE_{i}_RE = re.compile(") == 1  # type: ignore[attr-defined]
    assert "re.match(" not in batched.text  # type: ignore[attr-defined]
    assert run(batched.text) == run(one_by_one.text) == run(MODULE)  # type: ignore[attr-defined]
    # One validation of the whole file per round instead of one per fix.
    assert sequential_validations >= FUNCTIONS
    assert batched_validations < sequential_validations / 2
