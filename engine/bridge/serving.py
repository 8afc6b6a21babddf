"""One remote run's frames answered as they arrive: calls concurrently, replies by id, `cancel`, `log`, `done`.

`RunServer` is fed each encoded frame from the guest by whoever reads them (a transport's read
callback, or `HostDispatcher.serve`'s loop over a stream) and needs no task of its own: a `call`
starts one task that answers it and sends the reply; `cancel` cancels that task; `log` goes to
`on_log`; `done` (or a frame that breaks the protocol) ends the run through `on_end`, once. Calls
still in flight at the end are cancelled. With an approval gate, the `hold` frames the guest needs to
move its own deadline are sent as holds start and end. Replies and holds are sent by a plain
function, in the order they are made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import BridgeError
from ..kernel.protocol import FrameError, decode, encode, hold_frame
from .hooks import Gate

__all__ = ["RunServer"]


class RunServer:
    """Answers one remote run's frames, fed one at a time with `feed`.

    Args:
        answer: answers one decoded `call` frame with an encoded reply (the dispatcher's policy).
        send: sends one encoded frame to the guest, without waiting.
        on_log: receives `(text, stream)` of each `log` frame.
        on_end: called once with `(True, payload)` at `done`, or `(False, exception)`: a `BridgeError`
            when the guest broke the protocol, or the host's own fault while answering a call.
        gate: the execution's approval gate, whose holds are sent as `hold` frames.
    """

    def __init__(
        self,
        answer: Callable[[dict[str, Any]], Awaitable[bytes]],
        send: Callable[[bytes], None],
        on_log: Callable[[str, str], None],
        on_end: Callable[[bool, Any], None],
        gate: Gate | None = None,
    ) -> None:
        self._answer = answer
        self._send = send
        self._on_log = on_log
        self._on_end = on_end
        self._loop = asyncio.get_running_loop()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self.abandoned: list[asyncio.Task[None]] = []
        """Calls still in flight when the run ended, cancelled (await them to see them finish)."""
        self.over = False
        if gate is not None:
            # The guest mirrors the hold clock: its own deadline checks move with the host's.
            gate.listen(self._on_hold)

    @property
    def in_flight(self) -> int:
        """Calls answered now."""
        return len(self._in_flight)

    def feed(self, data: bytes) -> None:
        """Take one encoded frame from the guest (frames after the end are ignored)."""
        if self.over:
            return
        try:
            frame = decode(data)
        except FrameError as exc:
            self.end(False, BridgeError(f"malformed frame from the guest: {exc}"))
            return
        kind = frame["k"]
        if kind == "call":
            call_id = frame["id"]
            if call_id in self._in_flight:
                self.end(False, BridgeError(f"call id {call_id} is already in flight"))
                return
            self._in_flight[call_id] = self._loop.create_task(self._run_call(frame))
        elif kind == "cancel":
            task = self._in_flight.pop(frame["id"], None)
            if task is not None:
                task.cancel()
        elif kind == "log":
            self._on_log(frame["text"], frame["stream"])
        elif kind == "done":
            self.end(True, frame["payload"])
        else:
            self.end(False, BridgeError(f"unexpected {kind!r} frame from the guest"))

    async def _run_call(self, call: dict[str, Any]) -> None:
        call_id = call["id"]
        try:
            reply = await self._answer(call)
            if not self.over:
                self._send(reply)
        except Exception as exc:  # a fault of the host's own (the dispatcher answers the guest's): the run ends with it
            self.end(False, exc)
        finally:
            task = asyncio.current_task()
            if self._in_flight.get(call_id) is task:
                del self._in_flight[call_id]

    def _on_hold(self, held: float, on: bool) -> None:
        if not self.over:
            self._send(encode(hold_frame(held, on), check=False))

    def end(self, ok: bool, value: Any) -> None:
        """End the run (at `done`, on a broken frame, or when the guest's stream closed); once."""
        if self.over:
            return
        self.over = True
        if self._in_flight:
            # Cancelled a loop turn later: a call that arrived with the run's end has started by
            # then, so it is in the trace (as it left), never missing.
            self.abandoned = list(self._in_flight.values())
            self._in_flight.clear()
            self._loop.call_soon(_cancel, self.abandoned)
        self._on_end(ok, value)

    def close(self) -> None:
        """The guest's stream closed: a run without `done` is broken."""
        self.end(False, BridgeError("the guest closed the stream without a done frame"))

    def cancel(self) -> None:
        """Abandon the run now (its deadline passed): cancel every call in flight, send nothing more."""
        self.over = True
        tasks = list(self._in_flight.values())
        self._in_flight.clear()
        self.abandoned += tasks
        _cancel(tasks)


def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
