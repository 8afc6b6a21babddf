"""How a run's outcome gets back to the host: a short blocked wait first, the event loop after.

A program's outcome normally reaches the host through its event loop (`call_soon_threadsafe`, a
byte on the loop's self-pipe, two turns of the loop). For a program that ends within a fraction of
a millisecond that trip is most of the run's cost: measured on a 2-core VM, an empty program spent
about 120 µs between its worker finishing and its caller resuming. `Handback` lets the host thread
wait for such a run blocked on a lock instead (the GIL released, the worker at full speed), for at
most `QUICK_WAIT`; the worker then hands its outcome over directly.

The wait is short and ends early whenever the program needs the host loop: anything the worker
posts to it (a tool call, streamed output) calls `release` first, which ends the wait. After the
wait, everything goes through the loop as before. Whatever the timing, the outcome is handed over
exactly once: either to the waiting host (`offer` returns True) or through the loop. A run handed
back directly never suspends its caller, so the executor gives the host loop a turn of its own
now and then."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

__all__ = ["QUICK_WAIT", "Handback"]

T = TypeVar("T")

QUICK_WAIT = 0.0003
"""Seconds the host thread waits, blocked, for a run to end before it waits on its event loop.

The cost of a longer wait falls on the host loop (nothing else on it runs meanwhile), so only an
executor with no other run in flight waits at all (see `RestrictedExecutor`)."""


class Handback(Generic[T]):
    """One run's outcome, handed from the worker thread to the host thread."""

    __slots__ = ("waits", "_mutex", "_signal", "_outcome", "_waiting")

    def __init__(self, waits: bool) -> None:
        self.waits = waits
        """Whether the host will call `wait` (else every outcome goes through the loop)."""
        self._mutex = threading.Lock()
        self._signal = threading.Lock()
        self._signal.acquire()
        self._outcome: T | None = None
        self._waiting = waits
        """The host is (or is about to be) blocked in `wait`: the worker hands over directly."""

    def offer(self, outcome: T) -> bool:
        """Worker side: hand `outcome` to the host blocked in `wait`. False: the host is not
        waiting any more (or never was); deliver it through the loop instead."""
        with self._mutex:
            if not self._waiting:
                return False
            self._waiting = False
            self._outcome = outcome
        self._signal.release()
        return True

    def release(self) -> None:
        """Worker side, before posting anything to the host loop: end the host's blocked wait
        without an outcome (it goes on to wait on its loop, which then runs what was posted)."""
        with self._mutex:
            if not self._waiting:
                return
            self._waiting = False
        self._signal.release()

    def wait(self, timeout: float) -> T | None:
        """Host side: block up to `timeout` seconds for the outcome; None: wait on the loop for it.
        Call at most once, and only if the `Handback` `waits`."""
        self._signal.acquire(timeout=timeout)
        with self._mutex:
            self._waiting = False
            return self._outcome
