"""The guest's main loop: reads link records from stdin, runs programs, writes records to a private fd.

Started once per sandbox (`python -m engine.guest` in a child process, or the shipped copy inside an
E2B sandbox). At start-up it takes the process's real stdin and stdout for itself (duplicated to
private descriptors) and points fd 0 at `/dev/null` and fd 1 at a pipe it reads back as program
output, so nothing a program prints, and nothing it reads, can touch the channel.

Records are handled on one asyncio loop: `run` frames start a run on the engine (`FullPythonEngine`
or, in a local child process, the restricted engine), `result`/`error` frames wake the tool call
waiting for them, `stop` frames stop a run, and `r` records replay what the host has not received.
Every run ends with exactly one `done` frame whose payload is the run's envelope as plain data.
The link's numbering, acks and replay buffer are the kernel's `LinkState`, as on the host.

Standard library + msgpack + the kernel: shipped to guests.
"""

from __future__ import annotations

import asyncio
import os
import select
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..kernel import protocol as _protocol
from ..kernel.link import CONTROL_SEQ, LinkError, LinkState, Record, decode_record, encode_line
from ..kernel.protocol import Send
from ..kernel.report import plain_error
from . import GUEST_VERSION
from . import output as _output

__all__ = ["Engine", "Guest", "take_stdio", "write_all"]


class Engine(Protocol):
    """Runs programs inside the guest: full Python (`FullPythonEngine`) or the restricted policy."""

    mode: str

    async def run(self, run_id: int, frame: Mapping[str, Any], send: Send, flush: Callable[[str, str], None]) -> Any:
        """Run one `run` frame's program; return its envelope (plain data)."""
        ...

    def stop(self, run_id: int) -> None:
        """Stop a run the host gave up on."""
        ...

    def hold(self, run_id: int, held: float, on: bool) -> None:
        """Mirror the host's hold clock of a run (`kernel.hold`): its deadline moves by `held`."""
        ...


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd`. The channel may be one socket for both directions, its reading
    end non-blocking (the loop reads it): a write that would block waits until the host has read,
    never drops a record."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[written:]


def take_stdio() -> tuple[int, int]:
    """Take fd 0 and fd 1 for the channel; leave programs `/dev/null` and a captured pipe instead.

    Returns the private (input, output) descriptors.
    """
    channel_in = os.dup(0)
    channel_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 1)
    os.close(write_end)
    threading.Thread(target=_output.drain_fd, args=(read_end, "stdout"), name="guest-fd1", daemon=True).start()
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    sys.stdout = _output.RoutingStream("stdout")
    sys.stderr = _output.RoutingStream("stderr")
    return channel_in, channel_out


class Guest:
    """One guest process: the link state and the records' handlers."""

    def __init__(
        self,
        engine: Engine,
        channel_in: int,
        channel_out: int,
        *,
        hello: dict[str, Any] | None = None,
    ) -> None:
        self._hello = dict(hello or {})
        self.engine = engine
        self._in = channel_in
        self._out = channel_out
        self._lock = threading.Lock()
        self._frames = _protocol.FrameReader()
        self._link = LinkState()
        self._pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[bytes]]] = {}
        self._runs: dict[int, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed: asyncio.Event | None = None

    # -- writing ----------------------------------------------------------------------------------

    def _record(self, kind: str, run: int, data: Any) -> None:
        with self._lock:  # numbering and writing in one step: records leave in sequence order
            seq = self._link.number(run, data) if kind == "f" else CONTROL_SEQ
            write_all(self._out, encode_line(kind, seq, self._link.ack, run, data))

    def send_frame(self, run: int, frame: dict[str, Any]) -> None:
        """Encode and send one bridge frame of `run` (thread-safe)."""
        self._record("f", run, _protocol.encode(frame))

    def _replay(self, ack: int) -> None:
        with self._lock:
            for seq, run, data in self._link.unacked(after=ack):
                write_all(self._out, encode_line("f", seq, self._link.ack, run, data))

    # -- reading ----------------------------------------------------------------------------------

    def _readable(self) -> None:
        """The channel has bytes: read them on the loop (no reader thread, no hand-off per record)."""
        try:
            chunk = os.read(self._in, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        try:
            bodies = self._frames.feed(chunk) if chunk else None
        except _protocol.FrameError:
            bodies = None
        if bodies is None:
            assert self._loop is not None
            self._loop.remove_reader(self._in)
            self._eof()
            return
        for body in bodies:
            try:
                record = decode_record(body)
            except LinkError as exc:
                _diagnose(f"dropped a bad record: {exc}")
                continue
            self._on_record(record)

    def _eof(self) -> None:
        assert self._closed is not None
        self._closed.set()

    def _on_record(self, record: Record) -> None:
        kind, seq, ack, run, data = record
        self._link.acknowledged(ack)
        if kind == "r":
            self._replay(ack)
        elif kind == "q":
            self._eof()
        elif kind == "f" and self._link.accept(seq):
            self._on_frame(run, data)

    def _on_frame(self, run: int, data: bytes) -> None:
        try:
            frame = _protocol.decode(data)
        except _protocol.FrameError as exc:
            _diagnose(f"dropped a bad frame: {exc}")
            return
        kind = frame["k"]
        if kind == "run":
            run_id = frame["id"]
            if run_id not in self._runs:
                self._runs[run_id] = asyncio.get_running_loop().create_task(self._execute(run_id, frame))
        elif kind in ("result", "error"):
            waiting = self._pending.pop(frame["id"], None)
            if waiting is not None:
                loop, future = waiting
                loop.call_soon_threadsafe(_resolve, future, data)
        elif kind == "stop":
            self.engine.stop(frame["id"])
        elif kind == "hold":
            self.engine.hold(run, float(frame["held"]), frame["on"])

    # -- runs -------------------------------------------------------------------------------------

    def _sender(self, run_id: int) -> Send:
        async def send(data: bytes) -> bytes:
            call_id = _protocol.decode(data)["id"]
            loop = asyncio.get_running_loop()
            future: asyncio.Future[bytes] = loop.create_future()
            self._pending[call_id] = (loop, future)
            try:
                self._record("f", run_id, bytes(data))
                return await future
            except asyncio.CancelledError:
                if self._pending.pop(call_id, None) is not None:
                    self.send_frame(run_id, _protocol.cancel_frame(call_id))
                raise
            finally:
                self._pending.pop(call_id, None)

        return send

    def _flusher(self, run_id: int) -> Callable[[str, str], None]:
        def flush(text: str, stream: str) -> None:
            self.send_frame(run_id, _protocol.log_frame(text, stream, run_id))

        return flush

    async def _execute(self, run_id: int, frame: Mapping[str, Any]) -> None:
        try:
            payload = await self.engine.run(run_id, frame, self._sender(run_id), self._flusher(run_id))
        except Exception as exc:  # an engine fault still ends the run with a done frame
            payload = _internal(f"{type(exc).__name__}: {exc}")
        try:
            self.send_frame(run_id, _protocol.done_frame(run_id, payload))
        except _protocol.FrameError as exc:
            self.send_frame(run_id, _protocol.done_frame(run_id, _internal(f"unsendable envelope: {exc}")))
        finally:
            self._runs.pop(run_id, None)

    async def serve(self) -> None:
        """Say hello, then handle records until stdin closes or the host says quit."""
        self._loop = asyncio.get_running_loop()
        self._closed = asyncio.Event()
        self._record("h", 0, {**self._hello, "version": GUEST_VERSION, "pid": os.getpid(), "mode": self.engine.mode})
        os.set_blocking(self._in, False)
        self._loop.add_reader(self._in, self._readable)
        await self._closed.wait()
        for run_id in list(self._runs):
            self.engine.stop(run_id)


def _resolve(future: asyncio.Future[bytes], data: bytes) -> None:
    if not future.done():
        future.set_result(data)


def _internal(message: str) -> dict[str, Any]:
    return {"error_info": plain_error("InternalError", message)}


def _diagnose(message: str) -> None:
    try:
        os.write(2, f"engine guest: {message}\n".encode())
    except OSError:
        pass
