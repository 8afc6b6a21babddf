"""The event loop a program runs on: asyncio's, woken through a queue instead of a socket.

A program's loop has no I/O: the program cannot open a file or a socket, so its loop only ever
waits for timers (`asyncio.sleep`) and for other threads (a tool result from the host, a stop from
the watchdog). asyncio's stock loop waits for those in `epoll` and is woken by a byte written to a
socket pair. Measured on a 2-core VM, that wake-up made each hand-off from the host to the
program cost about 200 µs. `WorkerLoop` waits on a `queue.SimpleQueue` instead, which a
`call_soon_threadsafe` fills: the same hand-off costs a few microseconds.

`WorkerLoop` refuses file descriptors outright, so nothing can register one and wait forever.

`report_quietly` is every program loop's exception handler (`WorkerLoop` or not): what asyncio
would log on the host's stderr with the program's traceback (a task's exception never retrieved)
is dropped when it is the stop working, and otherwise one line on the engine's logger.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import selectors
from collections.abc import Mapping
from typing import Any

from .context import Interrupt, StopExecution

__all__ = ["WorkerLoop", "report_quietly"]

logger = logging.getLogger("engine.sandbox")

_STOPS = (StopExecution, Interrupt, asyncio.CancelledError)


def report_quietly(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A program loop's exception handler. asyncio's default logs the context whole: the program's
    traceback, the reprs of its tasks and values, engine paths. None of that belongs in the host's
    log; an exception that is a stop (an async generator closed after the run ended, say) is not
    even an error."""
    exc = context.get("exception")
    if isinstance(exc, _STOPS):
        return
    # asyncio's own message (fixed text), and the exception's type name only.
    message = str(context.get("message") or "unknown")[:200]
    logger.warning("a program's event loop reported: %s (%s)", message, type(exc).__name__ if exc else "no exception")


class _QueueSelector(selectors.BaseSelector):
    """A selector with no file descriptors: `select` waits for a wake-up or the timeout."""

    def __init__(self) -> None:
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()

    def wake(self) -> None:
        """Thread-safe: make the current or next `select` return at once."""
        self._wakeups.put(None)

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        raise NotImplementedError("a sandboxed program's event loop does no I/O")

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        raise KeyError(fileobj)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        wakeups = self._wakeups
        try:
            if timeout is None:
                wakeups.get()
            elif timeout > 0:
                wakeups.get(timeout=timeout)
            elif wakeups.empty():  # the usual poll between two callbacks: no exception raised
                return []
            else:
                wakeups.get_nowait()
        except queue.Empty:
            return []
        # Several threads may have woken us: one pass of the loop serves them all.
        while True:
            try:
                wakeups.get_nowait()
            except queue.Empty:
                return []

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return {}

    def close(self) -> None:
        pass


class WorkerLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop without the self-pipe: woken through `_QueueSelector.wake`."""

    def __init__(self) -> None:
        self._waker = _QueueSelector()
        super().__init__(self._waker)

    # The self-pipe exists only to wake `epoll`; this loop's selector is woken directly.
    def _make_self_pipe(self) -> None:
        self._ssock = self._csock = None

    def _close_self_pipe(self) -> None:
        pass

    def _write_to_self(self) -> None:
        self._waker.wake()
