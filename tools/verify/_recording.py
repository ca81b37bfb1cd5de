"""What the capture bootstrap's recorder does around a call (stdlib only; loaded by path from
_bootstrap.py): a tee for the call's output, the entry of its arguments (iterator arguments
tapped), and the driver of a generator call, which re-yields every item unchanged and keeps
the items the program consumed."""

from __future__ import annotations

import functools
import io
import os
import sys
import time
import types
from collections.abc import Callable, Iterator
from typing import Any, TextIO


def _load_pickling() -> types.ModuleType:
    """The sibling _pickling module, loaded by path so no user module can shadow it."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_pickling.py")
    spec = importlib.util.spec_from_file_location("_perfpilot_pickling", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_pickling = _load_pickling()
Tap, Tapped, TapPickler, dumps = (
    _pickling.Tap,
    _pickling.Tapped,
    _pickling.TapPickler,
    _pickling.dumps,
)


class Tee:
    """A stream that passes writes through and keeps a copy (what the call printed)."""

    def __init__(self, stream: TextIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.parts = []
        self.size = 0

    def write(self, text: str) -> int:
        if self.size < self._limit:
            self.parts.append(str(text)[: self._limit - self.size])
            self.size += len(self.parts[-1])
        return self._stream.write(text)

    def text(self) -> str:
        """What was written, up to the limit."""
        return "".join(self.parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class GeneratorRecording:
    """The part of the bootstrap's Recorder that enters arguments and drives generator calls.

    Relies on the Recorder's `local`, `seen`, `slot`, `keep`, `unpickled`, `per_call`,
    `spent` and `too_large`.
    """

    def wrap_generator(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """A generator wrapper: re-yields the items, records outermost calls the reservoir keeps."""
        recorder = self

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if getattr(recorder.local, "depth", 0):  # nested in an outer call being advanced
                return (yield from function(*args, **kwargs))
            index = recorder.seen
            recorder.seen += 1
            slot = recorder.slot(index)
            return (yield from recorder.drive(function, slot, index, args, kwargs))

        return wrapper

    def entry(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[bytes | Tapped, tuple[Any, ...], dict[str, Any]] | None:
        """The inputs of a call to record and the arguments to call with; None (counted) if not.

        An argument that is an iterator that cannot be pickled (a generator) is tapped: the
        call pulls its items through a Tap, and the items it pulled are its recorded value.
        """
        try:
            started = time.perf_counter()
            inputs: bytes | Tapped = dumps((args, kwargs))
            self.spent += time.perf_counter() - started
        except Exception as exc:
            tapped = self.tap(args, kwargs)
            if tapped is None:
                self.unpickled(exc, "arguments")
                return None
            inputs, args, kwargs = tapped
        if len(inputs) > self.per_call:
            self.too_large += 1
            return None
        return inputs, args, kwargs

    def tap(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Tapped, tuple[Any, ...], dict[str, Any]] | None:
        """The arguments with unpicklable iterators tapped, and their entry pickle; or None."""
        taps: list[Tap] = []

        def tapped(value: Any) -> Any:
            if not isinstance(value, Iterator):
                return value
            try:
                dumps(value)
                return value
            except Exception:
                taps.append(Tap(value, self.per_call // 8))
                return taps[-1]

        args = tuple(tapped(value) for value in args)
        kwargs = {name: tapped(value) for name, value in kwargs.items()}
        if not taps:
            return None
        buffer = io.BytesIO()
        try:
            TapPickler(buffer, taps).dump((args, kwargs))
        except Exception:
            for tap in taps:  # the call still runs, with the taps: stop keeping items
                tap.recording = False
            return None
        return Tapped(buffer.getvalue(), taps), args, kwargs

    def drive(
        self,
        function: Callable[..., Any],
        slot: int | None,
        index: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Advance one generator call step by step, passing items, sends and throws through.

        Nested calls of the same function made while it advances are part of this call. The
        items the program consumed are kept (references; pickled once at the end, so one
        shared object graph is pickled once) unless there are too many; a call the program
        drives with send() or throw() is passed through but not recorded (replay iterates).
        """
        entry = self.entry(args, kwargs) if slot is not None else None
        recording = entry is not None
        inputs = None
        if entry is not None:
            inputs, args, kwargs = entry
        local = self.local
        generator = function(*args, **kwargs)
        items: list[Any] = []
        out, err = Tee(sys.stdout, self.per_call), Tee(sys.stderr, self.per_call)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            depth = getattr(local, "depth", 0)
            local.depth = 1
            saved = sys.stdout, sys.stderr
            if recording:
                sys.stdout, sys.stderr = out, err
            try:
                item = generator.throw(thrown) if thrown is not None else generator.send(sent)
            except StopIteration as stop:
                sys.stdout, sys.stderr = saved
                if recording:
                    self.keep(
                        slot, index, inputs, "return", stop.value, args, kwargs, out, err, items
                    )
                return stop.value
            except BaseException as exc:
                sys.stdout, sys.stderr = saved
                if recording:
                    kind = type(exc)
                    problem = (kind.__module__, kind.__qualname__, str(exc))
                    self.keep(slot, index, inputs, "raise", problem, args, kwargs, out, err, items)
                raise
            finally:
                local.depth = depth
                sys.stdout, sys.stderr = saved
            if recording:
                items.append(item)
                if len(items) > self.per_call // 8:  # cannot fit the size cap anyway
                    self.too_large += 1
                    recording = False
            sent, thrown = None, None
            try:
                sent = yield item
            except GeneratorExit:  # the program stopped consuming: keep what it consumed
                generator.close()
                if recording:
                    self.keep(slot, index, inputs, "closed", None, args, kwargs, out, err, items)
                raise
            except BaseException as exc:
                thrown = exc
            if sent is not None or thrown is not None:
                recording = False
