"""`RemoteExecutor`: an executor whose programs run in one guest process (`_remote.RemoteGuest`),
started on first use and restarted after it dies, with a host-side timeout (cancel, then kill) and an
envelope for every failure. `E2BExecutor` is one; the process pool keeps a guest per worker instead.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Any

from ..envelope import Envelope
from ._payload import failed_envelope
from ._remote import GuestTransport, RemoteGuest
from .base import ExecutionRequest

__all__ = ["RemoteExecutor"]

logger = logging.getLogger("engine.executors.remote")


class RemoteExecutor:
    """An executor whose programs run in one guest process, started lazily and restarted when it dies.

    Subclasses supply `_transport()` (a fresh `GuestTransport` per guest) and may extend `aclose()`.
    """

    grace = 2.0
    """Seconds past a run's timeout before the host cancels it (the guest enforces the limit first)."""
    stop_grace = 2.0
    """Seconds a cancelled run gets to end before its guest is killed."""
    start_timeout = 30.0

    def __init__(self) -> None:
        self._guest: RemoteGuest | None = None
        self._start_lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        self.startup_seconds: float | None = None
        """How long the last guest took to start (transport up to hello), for benchmarks."""
        self.hello: dict[str, Any] = {}

    async def _transport(self) -> GuestTransport:
        raise NotImplementedError

    async def _ensure_guest(self) -> RemoteGuest:
        async with self._start_lock:
            if self._guest is not None and self._guest.dead is None:
                return self._guest
            if self._guest is not None:
                logger.info("restarting the guest: %s", self._guest.dead)
                await self._guest.kill(self._guest.dead or "restart")
            started = time.perf_counter()
            guest = RemoteGuest(await self._transport())
            try:
                self.hello = await guest.start(self.start_timeout)
            except BaseException:
                await guest.kill("it did not start")
                raise
            self.startup_seconds = time.perf_counter() - started
            self._guest = guest
            return guest

    @property
    def resyncs(self) -> int:
        """How many times the current guest's link was reattached and resynchronised."""
        return self._guest.resyncs if self._guest is not None else 0

    async def start(self) -> None:
        """Start the guest now instead of on the first run."""
        await self._ensure_guest()

    async def run(self, request: ExecutionRequest) -> Envelope:
        """Run one program in the guest and return its envelope. Never raises for a fault of the program."""
        if self._closed:
            raise RuntimeError("the executor is closed")
        started = time.perf_counter()
        try:
            guest = await self._ensure_guest()
        except Exception as exc:  # the SDK's, the OS's or ours: the run cannot start either way
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            message = f"the sandbox could not be started: {reason}"
            return failed_envelope("SandboxError", message, started, request.limits, [])
        return await guest.execute(next(self._ids), request, grace=self.grace, stop_grace=self.stop_grace)

    async def aclose(self) -> None:
        """Stop the guest and release the transport."""
        if self._closed:
            return
        self._closed = True
        guest, self._guest = self._guest, None
        if guest is not None:
            await guest.close()
