"""Every skill over a sample of the standard library: each fix offered parses, compiles, lints."""

from __future__ import annotations

import importlib.util
import sys
import sysconfig
from pathlib import Path

import pytest

from perfpilot.skills.registry import discover
from tests.conftest import REPO

SAMPLE = 40


def corpus_module():  # type: ignore[no-untyped-def]
    """benchmarks/skills_corpus.py, the script that runs the whole standard library."""
    spec = importlib.util.spec_from_file_location(
        "skills_corpus", REPO / "benchmarks" / "skills_corpus.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["skills_corpus"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_skills_on_a_stdlib_sample_produce_only_valid_fixes() -> None:
    corpus = corpus_module()
    files = corpus.corpus_files(Path(sysconfig.get_paths()["stdlib"]), SAMPLE)
    assert len(files) == SAMPLE
    skills = discover(packages=False).with_transforms()
    result = corpus.run_corpus(files, skills)
    # A transform that raised, produced code that does not parse, or broke its own guard.
    assert not result.bugs, "\n".join(result.bugs)
    offered = sum(sum(counts.values()) for counts in result.offered.values())
    assert offered >= 5, (result.found, result.refused)
    # Fixes are offered by more than one skill: the run really exercises the skills.
    assert sum(1 for counts in result.offered.values() if sum(counts.values())) >= 3
