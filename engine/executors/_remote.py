"""The host side of out-of-process executors: one guest process, its link, its runs, and their envelopes.

`RemoteGuest` speaks the link protocol (`engine.kernel.link`) over a `GuestTransport`, the few
byte-moving methods a concrete executor supplies (pipes of a local child, or the E2B process API).
It only moves bytes and demultiplexes runs; it never interprets a run's frames. It owns:

- ONE ordered writer: every record to the guest goes through one queue and one task, because the
  transport's writes (E2B `send_stdin` calls) could reorder if issued concurrently;
- the link state (the kernel's `LinkState`, as in the guest): when the transport says its stream
  dropped (or a write failed), the writer reattaches, asks the guest to replay (`r`), and replays
  what the guest has not acknowledged; both sides drop records they already have, so no call is
  lost or repeated;
- the runs: each run's frames are handled, in order, in the transport's read callback: `log` and
  `done` by the run's slot itself until the program first calls, then by the execution's host
  dispatcher opened on the run (`HostDispatcher.open`: calls answered concurrently, `cancel`,
  approval `hold` frames; another `Host` is served by `Host.serve` over a stream); a run waits on
  one future with a loop timer for its deadline (moved by the time held for approval); past it,
  it gets a `stop` frame, then its guest is killed.

`_oneguest.RemoteExecutor` is the `Executor` over one such guest (E2B's); the process pool keeps
a `RemoteGuest` per worker (`process.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import msgpack

from ..envelope import Envelope
from ..errors import BridgeError
from ..guest import GUEST_VERSION
from ..kernel.link import CONTROL_SEQ, LineDecoder, LinkError, LinkState, Record, encode_record
from ..kernel.protocol import FrameError, encode, stop_frame
from . import _wire
from ._payload import RunFrames, envelope_from_payload, failed_envelope
from ._slot import MAX_PENDING_FRAMES, RunSlot
from .base import ExecutionRequest

__all__ = ["GuestDied", "GuestTransport", "RemoteGuest", "TransportBroken"]

logger = logging.getLogger("engine.executors.remote")

_RESYNC = object()
_STOP = object()


_RUN_FRAMES = RunFrames()

class TransportBroken(Exception):
    """A write failed or the guest's output stream dropped; the guest may still be alive."""


class GuestDied(Exception):
    """The guest process is gone (exited, was killed, or could not be reattached)."""


class GuestTransport(Protocol):
    """Moves bytes to and from one guest process. Implemented per executor."""

    async def start(
        self, on_data: Callable[[str | bytes], None], on_broken: Callable[[], None], on_exit: Callable[[str], None]
    ) -> None:
        """Start the guest; deliver its output chunks to `on_data`, a dropped stream to `on_broken`,
        its end (with a reason) to `on_exit`."""
        ...

    async def write(self, data: bytes) -> None:
        """Write bytes to the guest's stdin, in order. Raises `TransportBroken`."""
        ...

    async def reattach(self) -> bool:
        """Reattach the output stream after a drop; False when the guest is gone."""
        ...

    async def kill(self) -> None:
        """Kill the guest (and everything it started)."""
        ...


class RemoteGuest:
    """One guest process seen from the host: its link state and its runs."""

    def __init__(self, transport: GuestTransport, *, local: bool = False) -> None:
        self._transport = transport
        self._local = local
        """The pool's local wire (`_wire`: a socket pair, nothing numbered) instead of the link."""
        self._wire = _wire.Reader()
        self._decoder = LineDecoder()
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._link = LinkState()
        self._written = 0
        self._runs: dict[int, RunSlot] = {}
        self._hello: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._writer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.dead: str | None = None
        """Why the guest is gone, once it is."""
        self.retiring = False
        """The guest asked not to be given another run (its `done` payload said `retire`)."""
        self.resyncs = 0

    # -- life -------------------------------------------------------------------------------------

    async def start(self, timeout: float) -> dict[str, Any]:
        """Start the guest and wait for its hello; returns the hello's data."""
        await self._transport.start(self._on_data, self._on_broken, self._on_exit)
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        hello = await asyncio.wait_for(asyncio.shield(self._hello), timeout)
        if hello.get("version") != GUEST_VERSION:
            await self.kill("version mismatch")
            raise GuestDied(
                f"the sandbox's guest runtime is version {hello.get('version')!r}, "
                f"this engine speaks {GUEST_VERSION!r}: "
                "rebuild the sandbox template (sandbox_images/e2b/build.py) or let the executor ship the guest"
            )
        return hello

    async def kill(self, reason: str) -> None:
        """Kill the guest and fail every run in flight."""
        self._on_exit(reason)
        with contextlib.suppress(Exception):
            await self._transport.kill()

    async def close(self) -> None:
        """Ask the guest to quit, then kill it."""
        if self.dead is None:
            self._queue.put_nowait(("q",))
            with contextlib.suppress(asyncio.TimeoutError, GuestDied):
                await asyncio.wait_for(self._drain(), 1.0)
        await self.kill("the executor was closed")

    async def _drain(self) -> None:
        while not self._queue.empty() and self.dead is None:
            await asyncio.sleep(0.01)

    # -- the transport's callbacks ----------------------------------------------------------------

    def _on_data(self, chunk: str | bytes) -> None:
        if self._local:
            assert isinstance(chunk, bytes)
            self._on_local(chunk)
            return
        try:
            records = self._decoder.feed(chunk)
        except LinkError as exc:
            self._on_exit(f"the guest sent a malformed record: {exc}")
            return
        for record in records:
            self._on_record(record)

    def _gone(self) -> bool:
        return self.dead is not None

    def _on_local(self, chunk: bytes) -> None:
        if self.dead is not None:
            return  # a worker that broke its channel, or is gone: nothing it sends is read
        try:
            records = self._wire.feed(chunk)
        except _wire.WireError as exc:  # the stream cannot be followed past a bad record
            self._on_exit(f"the worker sent a malformed record: {exc}")
            return
        for kind, run, body in records:
            if self._gone():  # a record before this one ended the worker
                return
            if kind == _wire.FRAME:
                slot = self._runs.get(run)
                if slot is not None and not slot.feed(body):  # as in `_on_record`
                    self._on_exit(f"the guest sent more than {MAX_PENDING_FRAMES} frames the host had not read")
            elif kind == _wire.HELLO and not self._hello.done():
                try:
                    hello = msgpack.unpackb(body, raw=False, strict_map_key=False)
                except Exception as exc:  # msgpack raises several unrelated types for bad input
                    self._on_exit(f"the worker's hello is malformed: {type(exc).__name__}")
                    return
                if isinstance(hello, dict):
                    self._hello.set_result(hello)

    def _on_broken(self) -> None:
        if self.dead is None:
            self._queue.put_nowait(_RESYNC)

    def _on_exit(self, reason: str) -> None:
        if self.dead is not None:
            return
        self.dead = reason
        _fail(self._hello, GuestDied(reason))
        for slot in self._runs.values():
            slot.end(dead=reason)
        self._queue.put_nowait(_STOP)

    # -- reading ----------------------------------------------------------------------------------

    def _on_record(self, record: Record) -> None:
        kind, seq, ack, run, data = record
        self._link.acknowledged(ack)
        if kind == "h":
            if not self._hello.done() and isinstance(data, dict):
                self._hello.set_result(data)
        elif kind == "f" and self._link.accept(seq):
            slot = self._runs.get(run)
            # No slot: a late frame of a run that is over. A slot that cannot take more: far more
            # frames than a program's calls could need, faster than the host answers them; a guest
            # flooding the host is ended, not buffered.
            if slot is not None and not slot.feed(data):
                self._on_exit(f"the guest sent more than {MAX_PENDING_FRAMES} frames the host had not read")

    # -- writing ----------------------------------------------------------------------------------

    def send_frame(self, run: int, data: bytes) -> None:
        """Send (or queue) one encoded bridge frame for the guest, tagged with its run."""
        if self.dead is not None:
            return
        if self._local:
            self._send_local(run, data)
            return
        seq = self._link.number(run, data)
        send_now = getattr(self._transport, "send_now", None)
        if send_now is not None and self._queue.empty():
            # A local socket keeps order by itself: write now, no writer task in between.
            try:
                send_now(encode_record("f", seq, self._link.ack, run, data))
                self._written = max(self._written, seq)
                return
            except TransportBroken:
                pass  # the writer task finds out the rest (and the guest's end) on its own
        self._queue.put_nowait((seq, run, data))

    def _send_local(self, run: int, data: bytes) -> None:
        send_now = getattr(self._transport, "send_now", None)
        if send_now is not None and self._queue.empty():
            try:
                send_now(_wire.encode(_wire.FRAME, run, data))
            except TransportBroken as exc:  # nothing to replay on the local wire: the worker is lost
                self._on_exit(f"the worker's channel broke: {exc}")
            return
        self._queue.put_nowait((0, run, data))

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            if item is _STOP:
                return
            try:
                if item is _RESYNC:
                    await self._resync()
                elif isinstance(item, tuple) and item[0] == "q":
                    quit_record = _wire.encode(_wire.QUIT, 0) if self._local else (
                        encode_record("q", CONTROL_SEQ, self._link.ack, 0, None)
                    )
                    await self._transport.write(quit_record)
                elif isinstance(item, tuple):
                    seq, run, data = item
                    if self._local:
                        await self._transport.write(_wire.encode(_wire.FRAME, run, data))
                    elif seq > self._written:
                        await self._write(seq, run, data)
            except TransportBroken:
                try:
                    await self._resync()
                except GuestDied as exc:
                    self._on_exit(str(exc))
            except GuestDied as exc:
                self._on_exit(str(exc))
            except Exception as exc:  # a transport fault we do not know: the guest is unusable
                logger.exception("guest writer failed")
                self._on_exit(f"the link to the guest failed: {type(exc).__name__}: {exc}")

    async def _write(self, seq: int, run: int, data: bytes) -> None:
        await self._transport.write(encode_record("f", seq, self._link.ack, run, data))
        self._written = max(self._written, seq)

    async def _resync(self, attempts: int = 3) -> None:
        if self._local:  # nothing to replay on the local wire: a broken channel is a lost worker
            raise GuestDied("the worker's channel broke")
        for _ in range(attempts):
            if self.dead is not None:
                raise GuestDied(self.dead)
            self.resyncs += 1
            if not await self._transport.reattach():
                raise GuestDied("the guest's stream dropped and the guest could not be reattached")
            self._decoder.reset()
            try:
                await self._transport.write(encode_record("r", CONTROL_SEQ, self._link.ack, 0, None))
                for seq, run, data in self._link.unacked():
                    await self._write(seq, run, data)
                return
            except TransportBroken:
                continue
        raise GuestDied(f"the link to the guest could not be resynchronised after {attempts} attempts")

    # -- runs -------------------------------------------------------------------------------------

    async def execute(self, run_id: int, request: ExecutionRequest, *, grace: float, stop_grace: float) -> Envelope:
        """Run one request on this guest; always returns an envelope (kills the guest on a hard timeout)."""
        limits = request.limits
        started = time.perf_counter()
        if self.dead is not None:
            return failed_envelope("SandboxCrashed", f"the sandbox process died: {self.dead}", started, limits, [])

        def reply(data: bytes) -> None:
            self.send_frame(run_id, data)

        slot = RunSlot(limits, request.on_log, request.host, reply)
        self._runs[run_id] = slot
        try:
            try:
                self.send_frame(run_id, _RUN_FRAMES.encode(run_id, request))
            except FrameError as exc:
                message = f"the run could not be sent: {exc}"
                return failed_envelope("ValueError", message, started, limits, [], slot.host)
            slot.arm(limits.timeout + grace, stop_grace)
            await slot.woken
            if slot.expired:
                self.send_frame(run_id, encode(stop_frame(run_id)))
                if stop_grace > 0:
                    slot.grace()
                    await slot.woken
                if slot.outcome is None or stop_grace <= 0:
                    # Nothing that came after the deadline is delivered.
                    message = f"the program exceeded its wall-clock limit of {limits.timeout:g} s and was killed"
                    slot.close()  # no tool call of this run starts after its deadline
                    await self.kill("a run did not stop at its deadline")
                    return failed_envelope("TimeoutError", message, started, limits, slot.streamed, slot.host)
            assert slot.outcome is not None
            await slot.settle()
            ok, payload = slot.outcome
            if not ok:
                raise payload
            if isinstance(payload, dict) and payload.get("retire"):
                self.retiring = True  # e.g. a worker whose only thread is stuck in a program
            return envelope_from_payload(payload, started, limits, slot.streamed, slot.host)
        except BridgeError as exc:
            if slot.dead is not None:
                message = f"the sandbox process died: {slot.dead}"
                return failed_envelope("SandboxCrashed", message, started, limits, slot.streamed, slot.host)
            await self.kill(f"the guest broke the protocol: {exc}")
            return failed_envelope("BridgeError", str(exc), started, limits, slot.streamed, slot.host)
        except asyncio.CancelledError:
            self.send_frame(run_id, encode(stop_frame(run_id)))
            raise
        finally:
            slot.close()
            if slot.served is not None:
                with contextlib.suppress(BaseException):  # its outcome is read above, or no longer wanted
                    await slot.served
            self._runs.pop(run_id, None)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
        # Marks the exception retrieved: a waiter may already have given up on this future
        # (a hard timeout), and asyncio would otherwise log it as never retrieved.
        future.exception()
