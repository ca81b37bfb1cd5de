"""`check`'s per-file work on every core: a forked process pool, results in file order.

Scanning a file (tree-sitter index, libcst parse of each function, every skill) is pure CPU
and independent per file, so on a large tree it scales with cores. The pool is forked, so the
workers inherit the loaded skills instead of pickling them; it is used only on Linux-like
systems, from the CLI (a single-threaded process), and only when there are files enough to
pay for the start of the workers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from perfpilot.skills.fixing import FileReport

MIN_FILES_PER_WORKER = 8  # below this, forking costs more than it saves

# What the forked workers inherit: the function that handles one file.
_work: Callable[[str], FileReport] | None = None


def worker_count(files: int, jobs: int) -> int:
    """How many processes to use for `files` files with at most `jobs` (1: no pool)."""
    wanted = min(jobs, files // MIN_FILES_PER_WORKER)
    if wanted <= 1 or sys.platform == "win32":
        return 1  # a check of a few hot files never imports multiprocessing
    import multiprocessing

    return wanted if "fork" in multiprocessing.get_all_start_methods() else 1


def _run_one(index: int, path: str) -> tuple[int, FileReport]:
    assert _work is not None
    return index, _work(path)


def reports_in_pool(
    files: Sequence[str],
    work: Callable[[str], FileReport],
    workers: int,
    progress: Callable[[int, int, str], None] | None,
) -> Iterator[FileReport]:
    """`work(path)` for every file on `workers` forked processes, yielded in file order."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    global _work
    _work = work
    results: dict[int, FileReport] = {}
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: set[Any] = {pool.submit(_run_one, i, path) for i, path in enumerate(files)}
        done_count = 0
        next_index = 0
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index, report = future.result()
                    results[index] = report
                    done_count += 1
                    if progress is not None:
                        progress(done_count, len(files), files[index])
                while next_index in results:
                    yield results.pop(next_index)
                    next_index += 1
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        finally:
            _work = None
