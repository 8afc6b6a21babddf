"""How long a run has been held: paused for a person's approval, time its wall-clock limit skips.

A run whose tool call waits for approval is not running: its program is parked on a call the
host has not answered. The host owns the clock (`hold` / `release`); a guest in another process
mirrors it from `hold` frames (`mirror`). Every deadline check of a run adds `seconds()` to the
deadline, so a pause never counts against the limit, however long it is. CPU time needs no such
care: a parked program uses none.

Only durations cross the wire, never clock readings, so the two processes' clocks never meet.
This module imports only the standard library: it ships to guests with the kernel.
"""

from __future__ import annotations

import time

__all__ = ["HoldClock"]


class HoldClock:
    """Seconds held so far, the current hold included."""

    __slots__ = ("_base", "_since")

    def __init__(self) -> None:
        self._base = 0.0
        self._since: float | None = None

    @property
    def on(self) -> bool:
        """True while the run is held."""
        return self._since is not None

    def hold(self) -> None:
        """Start a hold (no effect while one is on)."""
        if self._since is None:
            self._since = time.monotonic()

    def release(self) -> None:
        """End the hold (no effect when none is on)."""
        since = self._since
        if since is not None:
            self._base += time.monotonic() - since
            self._since = None

    def mirror(self, seconds: float, on: bool) -> None:
        """Take the state a `hold` frame reports: `seconds` held before now, and whether still held."""
        self._base = seconds
        self._since = time.monotonic() if on else None

    def seconds(self) -> float:
        """Seconds held so far. Safe to call from another thread (it may lag by one update)."""
        since = self._since
        return self._base + (time.monotonic() - since if since is not None else 0.0)
