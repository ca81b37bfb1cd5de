"""A corpus library's own test suite, run offline, and its counts (used by run.py)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field

from corpus_config import Library


@dataclass
class TestResult:
    """Counts from one run of a library's test suite."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failing: list[str] = field(default_factory=list)  # pytest node ids that failed

    def cell(self) -> str:
        """`passed/failed` as the table shows it (skipped in brackets when any)."""
        extra = f" ({self.skipped} skip)" if self.skipped else ""
        return f"{self.passed}/{self.failed}{extra}"


def run_tests(library: Library, only: list[str] | None = None) -> TestResult:
    """Run the library's own test suite offline (or only the given pytest node ids)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PIP_NO_INDEX": "1"}
    started = time.perf_counter()
    command = library.test_command()
    if only and "pytest" in command:
        command = [str(library.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *only]
    done = subprocess.run(command, cwd=library.root, env=env, capture_output=True, text=True)
    result = parse_test_output(done.stdout + done.stderr)
    result.failing = re.findall(r"^(?:FAILED|ERROR) (\S+::\S+)", done.stdout, re.MULTILINE)
    result.seconds = time.perf_counter() - started
    if done.returncode and not result.failed:
        result.failed = 1  # a crash or collection error counts as a failure, never as green
    return result


def parse_test_output(text: str) -> TestResult:
    """Read pytest's summary line or unittest's `Ran N tests` / `FAILED (...)` lines."""
    result = TestResult()
    summary = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    if summary:
        for count, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary[-1]):
            if word == "passed":
                result.passed = int(count)
            elif word == "skipped":
                result.skipped = int(count)
            else:
                result.failed += int(count)
        return result
    ran = re.search(r"Ran (\d+) tests?", text)
    if ran:
        failed = sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", text))
        skipped = sum(int(n) for n in re.findall(r"skipped=(\d+)", text))
        result.failed, result.skipped = failed, skipped
        result.passed = int(ran.group(1)) - failed - skipped
    return result
