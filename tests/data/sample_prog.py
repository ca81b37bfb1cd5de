"""Sample program profiled for perfpilot's loader tests (see tests/data/README.md)."""

import asyncio
import functools
import sys
import time


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def logged(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


@logged
def squares(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


class Shape:
    def area_sum(self, n):
        total = 0.0
        for i in range(n):
            total += (i % 7) * 1.5
        return total


def outer(n):
    def inner(m):
        return sorted(range(m, 0, -1))[0]

    return inner(n)


async def fetch(n):
    await asyncio.sleep(0)
    return fib(n)


def main(seconds):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        fib(22)
        squares(20000)
        Shape().area_sum(20000)
        outer(20000)
    asyncio.run(fetch(22))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
