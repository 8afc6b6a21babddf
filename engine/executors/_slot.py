"""The host's side of one run on a remote guest: how its frames are answered, its output, its deadline.

`RunSlot` is what `RemoteGuest` keeps per run in flight. The guest's frames for the run are handed
to it in the transport's read callback; until the program first calls, it handles `log` and `done`
itself, then opens the execution's dispatcher on the run (`HostDispatcher.open`) and feeds it every
later frame. The run's waiter is one future, woken by the outcome or by a loop timer at the
deadline, which moves by the time the run was held for approval (`Host.held`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from ..bridge.dispatcher import HostDispatcher
from ..bridge.serving import RunServer
from ..errors import BridgeError, ToolError
from ..kernel.protocol import FrameError, decode
from ..limits import Limits
from .base import Host

__all__ = ["MAX_PENDING_FRAMES", "RunSlot"]

logger = logging.getLogger("engine.executors.remote")

MAX_PENDING_FRAMES = 100_000
"""Frames of one run the host holds unread, or calls of one run it answers at once, at most (a
program has at most `max_concurrent_tool_calls` calls in flight; the rest is output and replies)."""


class RunSlot:
    """One run in flight on the host: how its frames are answered, the output it streamed, its outcome.

    Its frames are handed over in the transport's read callback. Until the program sends anything
    but `log` and `done`, the slot answers them itself (`log` is streamed, `done` is the outcome), so
    a run that calls no tool costs one future and a timer, no task. The first other frame (a call)
    opens the execution's dispatcher on the run (`HostDispatcher.open`: calls answered concurrently,
    `cancel`, approval `hold` frames) and every later frame is fed to it in order, in the same
    callback; another `Host` is served through `Host.serve` over a stream.

    The deadline is a loop timer that moves by the time the run was held for approval (`held`).
    """

    def __init__(
        self,
        limits: Limits,
        on_log: Callable[[str, str], None] | None,
        host: Host | None,
        send: Callable[[bytes], None],
    ) -> None:
        self.host = host
        """The execution's host; made when a program without one first calls (its calls then fail)."""
        self._limits = limits
        self._send = send
        self.server: RunServer | None = None
        self.frames: MemoryObjectSendStream[bytes] | None = None
        self.served: asyncio.Task[Any] | None = None
        self.on_log = on_log
        self.streamed: list[str] = []
        self.streamed_chars = 0
        self.limit = limits.max_output_chars
        self.dead: str | None = None
        """Why the guest died under this run, if it did."""
        self.outcome: tuple[bool, Any] | None = None
        """`(True, payload)` of the `done` frame, or `(False, exception)` (`BridgeError`: a broken run)."""
        self.expired = False
        """The deadline passed (what comes after it is not delivered unless a stop grace allows it)."""
        self.stop_grace = 0.0
        self._loop = asyncio.get_running_loop()
        self.woken: asyncio.Future[None] = self._loop.create_future()
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0

    # -- frames (called from the transport's callback) --------------------------------------------

    def feed(self, data: bytes) -> bool:
        """Take one frame of this run; False when the guest floods the host (it must be ended)."""
        if self.outcome is not None or (self.expired and self.stop_grace <= 0):
            return True  # a late frame of a run that is over: nothing after the deadline is delivered
        server = self.server
        if server is None and self.frames is None:
            try:
                frame: dict[str, Any] | None = decode(data)
            except FrameError:
                frame = None  # the host's `serve` reports it, as for any run
            kind = frame["k"] if frame is not None else None
            if kind == "log":
                assert frame is not None
                self.log(frame["text"], frame["stream"])
                return True
            if kind == "done":
                assert frame is not None
                self.finish(True, frame["payload"])
                return True
            server = self._serve()
        if server is not None:
            server.feed(data)
            # Far more calls in flight than a program could make (its calls past the limits are
            # answered at once): a guest flooding the host is ended.
            return server.in_flight <= MAX_PENDING_FRAMES
        assert self.frames is not None
        try:
            self.frames.send_nowait(data)
        except anyio.WouldBlock:
            return False
        except anyio.ClosedResourceError:
            pass
        return True

    def _serve(self) -> RunServer | None:
        if self.host is None:
            self.host = HostDispatcher(_NoTools(), limits=self._limits)
        if isinstance(self.host, HostDispatcher):
            self.server = self.host.open(self._send, self.log, self.finish)
            return self.server
        self.frames, receive = anyio.create_memory_object_stream[bytes](max_buffer_size=MAX_PENDING_FRAMES)
        send = self._send

        async def reply(data: bytes) -> None:
            send(data)

        self.served = self._loop.create_task(self.host.serve(receive, reply, self.log))
        self.served.add_done_callback(self._served)
        return None

    def _served(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        self.finish(exc is None, task.result() if exc is None else exc)

    def finish(self, ok: bool, value: Any) -> None:
        if self.outcome is None:
            self.outcome = (ok, value)
            self._wake()

    def log(self, text: str, stream: str) -> None:
        room = self.limit - self.streamed_chars
        if room <= 0 or not text:
            return
        text = text[:room]
        self.streamed.append(text)
        self.streamed_chars += len(text)
        if self.on_log is not None:
            try:
                self.on_log(text, stream)
            except Exception:  # a failing observer must not break the run
                logger.exception("on_log callback failed")

    def end(self, dead: str | None = None) -> None:
        """No more frames for this run (its guest died, or it is over)."""
        if dead is not None and self.dead is None:
            self.dead = dead
        if self.server is not None:
            self.server.close()  # a `BridgeError` if the guest died before `done`
        elif self.frames is not None:
            self.frames.close()  # `serve` ends: a `BridgeError` if the guest died before `done`
        elif dead is not None:
            self.finish(False, BridgeError("the guest closed the stream without a done frame"))

    # -- the deadline -----------------------------------------------------------------------------

    def arm(self, seconds: float, stop_grace: float) -> None:
        """Wake the run's waiter `seconds` from now, plus the time the run is held for approval."""
        self.stop_grace = stop_grace
        self._deadline = self._loop.time() + seconds
        self._timer = self._loop.call_at(self._deadline + self._held(), self._expire)

    def _held(self) -> float:
        return self.host.held() if self.host is not None else 0.0

    def _expire(self) -> None:
        if self.outcome is not None:
            return  # it came in time (its waiter has not run yet)
        # While a hold is on, `held()` grows with the clock: each wait is the time that was left.
        remaining = self._deadline + self._held() - self._loop.time()
        if remaining > 0:
            self._timer = self._loop.call_later(remaining, self._expire)
            return
        self._timer = None
        self.expired = True
        if self.stop_grace <= 0:
            self.abandon()  # no tool call of this run starts after its deadline
        self._wake()

    def grace(self) -> None:
        """Wait `stop_grace` more (the run was told to stop): a new waiter, a plain timer."""
        self.woken = self._loop.create_future()
        if self.outcome is not None:
            self._wake()
        else:
            self._timer = self._loop.call_later(self.stop_grace, self._wake)

    def _wake(self) -> None:
        if not self.woken.done():
            self.woken.set_result(None)

    def abandon(self) -> None:
        """Cancel every call of the run still in flight; nothing more is sent for it."""
        if self.server is not None:
            self.server.cancel()
        if self.served is not None and not self.served.done():
            self.served.cancel()

    async def settle(self) -> None:
        """Wait for the calls cancelled at the run's end to finish (the trace then says so)."""
        if self.server is not None and self.server.abandoned:
            await asyncio.wait(self.server.abandoned)

    def close(self) -> None:
        """The run is over: no timer, no more frames, no call still running."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.end()
        self.abandon()


class _NoTools:
    """The `ToolBackend` of a request without a host: every call fails clearly."""

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> Any:
        raise ToolError(server, tool, "this execution has no tools")

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        raise ToolError("search_tools", "search_tools", "this execution has no tools")
