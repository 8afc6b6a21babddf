"""Per-execution state shared by the runner, the guards and the facades.

Exposes `RunState` (what one execution owns: its limits, stop flag, captured output, tasks) and
`StopExecution`, the exception that ends a program. Guards and facades are shared objects; they
find the execution they serve through `current()`, a thread-local set by the worker thread for
the duration of one run. Code that runs on any other thread (a finalizer collected on the host
thread, for instance) finds no run and is stopped at once.
"""

from __future__ import annotations

import asyncio
import ctypes
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

from ..limits import Limits

__all__ = ["ABANDONED", "DISCARDED", "Interrupt", "OutputBuffer", "RunState", "StopExecution", "check_stop", "current",
           "raise_stop"]


ABANDONED = "_abandoned_"
"""Key set in the globals of a program that was abandoned (a `_` name: no program can bind it)."""
DISCARDED = "_discarded_"
"""Key set in a code session's fresh globals when its old ones were discarded for `ABANDONED`."""


class _NoPublicConstructor(type):
    """Metaclass that makes `Cls(...)` fail: only `Cls._create(...)` builds an instance."""

    def __call__(cls, *args: object, **kwargs: object) -> Any:
        raise TypeError(f"{cls.__name__} has no public constructor")

    def _create(cls, *args: object, **kwargs: object) -> Any:
        return super().__call__(*args, **kwargs)


class StopExecution(BaseException, metaclass=_NoPublicConstructor):
    """The program was stopped by the engine (a limit was hit, or the run was cancelled).

    It derives from `BaseException` so that `except Exception` in agent code does not catch it,
    and it has no public constructor so that agent code cannot raise (or fake) it. Agent code that
    catches it anyway (`except BaseException`, bare `except`) is instrumented to re-raise it on
    entry to the handler, because the run's stop flag stays set.
    """


class Interrupt(BaseException):
    """Injected into a worker thread (`PyThreadState_SetAsyncExc`) when a stopped program keeps
    running in Python code that has no stop checks (the facades' pure-Python library code). The
    program never sees this class by name; if it catches it, its handler's stop check re-raises."""


# Two prototypes of the same C function (one takes the exception class, one NULL to clear): each
# its own function object, since `ctypes.pythonapi.X` is cached and shares its `argtypes`.
_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)
_clear_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)


def raise_stop(reason: str) -> NoReturn:
    """Raise a fresh `StopExecution` carrying `reason`."""
    raise StopExecution._create(reason)


class OutputBuffer:
    """Captured `print` output of one execution, capped at `limit` characters."""

    __slots__ = ("chunks", "chars", "limit", "sink", "truncated")

    MARKER = "... [output truncated: over {limit} characters]"

    def __init__(self, limit: int) -> None:
        self.chunks: list[str] = []
        self.chars = 0
        self.limit = limit
        self.truncated = False
        self.sink: Callable[[str], None] | None = None
        """Also receives every kept piece of output as it is printed (streaming to the host)."""

    def write(self, text: str) -> None:
        if self.truncated or not text:
            # Empty pieces add nothing; kept, `print(end="")` in a loop would grow the chunk list
            # (and flood a streaming sink) without ever reaching the character limit.
            return
        room = self.limit - self.chars
        if len(text) > room:
            text = text[: max(room, 0)]
            self.chunks.append(text)
            self.chars = self.limit
            self.truncated = True
            if self.sink is not None and text:
                self.sink(text)
            return
        self.chunks.append(text)
        self.chars += len(text)
        if self.sink is not None:
            self.sink(text)

    def lines(self) -> list[str]:
        """The output as a list of lines (a trailing newline does not add an empty line)."""
        text = "".join(self.chunks)
        if text.endswith("\n"):
            text = text[:-1]
        out = text.split("\n") if text else []
        if self.truncated:
            out.append(self.MARKER.format(limit=self.limit))
        return out


class RunState:
    """Everything one execution owns. Created on the host, used on the worker thread."""

    def __init__(self, limits: Limits, program_globals: dict[str, Any]) -> None:
        self.limits = limits
        self.globals = program_globals
        self.output = OutputBuffer(limits.max_output_chars)
        self.stop_reason: str | None = None
        """Set (once) by the watchdog or the host: why the program must stop."""
        self.stopped = False
        self.stopped_at = 0.0
        """`time.monotonic()` of the first stop request."""
        self.on_abandon: Callable[[], None] | None = None
        """Called (once, from the watchdog) when a stopped program did not unwind in time."""
        self.thread_id: int | None = None
        self._lock = threading.Lock()
        self._active = False
        self._interrupted = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        """Tasks created on behalf of the program; cancelled and awaited when it ends."""
        self.cancel_main: Callable[[], None] | None = None
        self.peak_memory = 0
        self.stop_type = "TimeoutError"
        """The error type reported for the stop (`TimeoutError`, `MemoryError`, `CancelledError`)."""
        self.cpu_clock: int | None = None
        """The worker thread's CPU clock (`time.pthread_getcpuclockid`), for the watchdog."""
        self.cpu_start = 0.0
        self.extras: dict[str, Any] = {}
        """Per-execution objects created on demand (the private `random` facade)."""
        self.keep_globals = False
        self.seed: int | None = None
        """The seed of the program's `random` (None: drawn from the OS)."""
        self.held: Callable[[], float] | None = None
        """Seconds the run has been held for approval (`Host.held`); the watchdog moves the
        wall-clock deadline by them. None: never held."""
        """A code session's globals outlive the run; others are emptied on the worker thread."""

    def stop(self, reason: str, error_type: str = "TimeoutError") -> None:
        """Ask the program to stop. Thread-safe; the first reason wins."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_type = error_type
            self.stopped_at = time.monotonic()
        self.stopped = True
        # The instrumented program polls this global on loop back-edges, function entries,
        # except and finally blocks: one dict lookup, no call.
        self.globals["_stop_"] = True
        loop, cancel = self.loop, self.cancel_main
        if loop is not None and cancel is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(cancel)
            except RuntimeError:  # the loop closed in between: the program is over anyway
                pass

    def begin(self, thread_id: int) -> None:
        """The worker thread starts running this program."""
        with self._lock:
            self.thread_id = thread_id
            self._active = True

    def finish(self) -> None:
        """The worker thread is done with this program: no more interrupts, none pending.
        Call it until it returns (a pending interrupt may fire inside it)."""
        with self._lock:
            self._active = False
            thread_id = self.thread_id
        if thread_id is not None and self._interrupted:
            _clear_async_exc(thread_id, None)

    def interrupt(self) -> None:
        """Raise `Interrupt` in the worker thread, once, if it is still running this program."""
        with self._lock:
            if not self._active or self._interrupted or self.thread_id is None:
                return
            self._interrupted = True
            _set_async_exc(self.thread_id, Interrupt)

    def abandon(self) -> None:
        """The program did not stop in time (stuck in native code): its thread is given up on.
        Its globals are marked, so a code session holding them is discarded, never run again
        beside the thread that may still be using them (`CodeSessions.get`)."""
        self.globals[ABANDONED] = True
        callback, self.on_abandon = self.on_abandon, None
        if callback is not None:
            callback()


def _ignore_stops(unraisable: Any) -> None:
    """`sys.unraisablehook` filter: a program's generator finalizer that is stopped raises
    `StopExecution` where nobody can catch it; that is the stop working, not an error to print
    on the host's stderr. Everything else goes to the previous hook."""
    if isinstance(unraisable.exc_value, StopExecution):
        return
    _previous_hook(unraisable)


_previous_hook: Callable[[Any], None] = sys.unraisablehook


def install_unraisable_filter() -> None:
    """Chain `_ignore_stops` in front of the current `sys.unraisablehook` (once)."""
    global _previous_hook
    if sys.unraisablehook is not _ignore_stops:
        _previous_hook = sys.unraisablehook
        sys.unraisablehook = _ignore_stops


_local = threading.local()


def current() -> RunState:
    """The execution the calling thread is running, or stop the caller if there is none."""
    run: RunState | None = getattr(_local, "run", None)
    if run is None:
        raise_stop("sandboxed code ran outside its execution")
    return run


def set_current(run: RunState | None) -> None:
    """Bind (or unbind) the calling worker thread to `run`."""
    _local.run = run


def check_stop() -> None:
    """Raise `StopExecution` if the current execution must stop (used inside host-side loops)."""
    run = current()
    if run.stopped:
        raise_stop(run.stop_reason or "stopped")
