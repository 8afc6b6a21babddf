"""A `process` worker's end of its channel: records in and out, the frames it reads, its program loop.

`Channel` writes records (thread-safe: the watchdog's thread may end a run) and reads the records
the host sent, over the pool's local wire (`_wire`); `peek` reads a frame's kind and id without
decoding the rest (a tool's reply is decoded once, by the program's side of the bridge);
`RunFrame` keeps a run's limits and specs as the bytes they came in, so the worker decodes each
distinct value once; `ProgramLoop` is the event loop a program runs on in a worker, watching the
channel too. Used by `_child.py`; not shipped to remote guests.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import threading
from collections.abc import Callable
from typing import Any

import msgpack

from ..guest.serve import write_all
from ..kernel import protocol as _protocol
from . import _wire

__all__ = ["Channel", "ProgramLoop", "RunFrame", "diagnose", "pack", "peek", "unpack_map"]


def peek(data: bytes) -> tuple[Any, Any]:
    """The kind (`k`) and `id` of an encoded frame, without decoding the rest (a tool's reply is
    decoded once, by the program's own side of the bridge)."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=len(data))
    unpacker.feed(data)
    kind = ident = None
    for _ in range(unpacker.read_map_header()):
        key = unpacker.unpack()
        if key == "k":
            kind = unpacker.unpack()
        elif key == "id":
            ident = unpacker.unpack()
        else:
            unpacker.skip()
        if kind is not None and ident is not None:
            break
    return kind, ident


def _no_ext(code: int, data: bytes) -> Any:
    raise ValueError("msgpack extension types are not plain data")


def pack(frame: dict[str, Any]) -> bytes:
    # No walk for extension types (`kernel.protocol.encode`'s): a program's values reach a frame
    # only as plain data (`to_plain`, the output's text), and the host re-checks every frame.
    try:
        data: bytes = msgpack.packb(frame, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _protocol.FrameError(f"can't serialize frame: {exc}") from None
    return data


def unpack_map(raw: bytes) -> dict[str, Any]:
    value = msgpack.unpackb(raw, raw=False, strict_map_key=False, ext_hook=_no_ext)
    if type(value) is not dict:
        raise ValueError(f"expected a map, got {type(value).__name__}")
    return value


class RunFrame:
    """A `run` frame, its limits and specs kept as the bytes they came in (decoded once per value)."""

    __slots__ = ("id", "code", "session_id", "limits", "specs", "seed")

    def __init__(
        self, id: int, code: str, session_id: str | None, limits: bytes, specs: bytes, seed: int | None = None
    ) -> None:
        self.id, self.code, self.session_id, self.limits, self.specs = id, code, session_id, limits, specs
        self.seed = seed

    @classmethod
    def parse(cls, data: bytes) -> RunFrame:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, ext_hook=_no_ext, max_buffer_size=len(data))
        unpacker.feed(data)
        fields: dict[Any, Any] = {}
        for _ in range(unpacker.read_map_header()):
            key = unpacker.unpack()
            if key in ("limits", "specs"):
                start = unpacker.tell()
                unpacker.skip()
                fields[key] = data[start : unpacker.tell()]
            else:
                fields[key] = unpacker.unpack()
        run_id, code, session_id = fields.get("id"), fields.get("code"), fields.get("session_id")
        if type(run_id) is not int or type(code) is not str or not (session_id is None or type(session_id) is str):
            raise ValueError("a run frame needs an int id, a str code and a str or None session_id")
        if "limits" not in fields or "specs" not in fields:
            raise ValueError("a run frame needs limits and specs")
        seed = fields.get("seed")
        if not (seed is None or type(seed) is int):
            raise ValueError("a run frame's seed is an int or absent")
        return cls(run_id, code, session_id, fields["limits"], fields["specs"], seed)


class Channel:
    """The worker's end of its channel: records out (whole, thread-safe), records in (de-framed).

    The local wire (`_wire`): a socket pair keeps order and bytes, so nothing is numbered or kept
    for a replay."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in = fd_in
        self._out = fd_out
        self._lock = threading.Lock()
        self._reader = _wire.Reader()

    def record(self, kind: bytes, run: int, body: bytes) -> None:
        """Write one record whole (the watchdog's thread may write too: one at a time)."""
        # A program's `print` or tool call writes here on the program's own stack, possibly at its
        # recursion limit, where any call may raise. Encoded first: a failure there leaves no trace
        # (the program sees the error).
        encoded = _wire.encode(kind, run, body)
        with self._lock:
            try:
                write_all(self._out, encoded)
            except BaseException as exc:
                # Possibly part of a record on the wire (a recursion or memory error, an interrupt):
                # the stream cannot be followed any more. End the worker now; the host fails the
                # run at once and replaces the worker.
                diagnose(f"a record could not be written ({type(exc).__name__}); the worker ends")
                os._exit(70)

    def frame(self, run: int, frame: dict[str, Any]) -> None:
        """Send one frame built by `kernel.protocol`'s constructors."""
        self.record(_wire.FRAME, run, pack(frame))

    def read(self) -> list[_wire.Record] | None:
        """The records that arrived (possibly none); None once the host closed the channel (or broke it)."""
        try:
            chunk = os.read(self.fd_in, 1 << 16)
        except BlockingIOError:
            return []
        except OSError:
            return None
        if not chunk:
            return None
        try:
            return self._reader.feed(chunk)
        except _wire.WireError as exc:
            diagnose(f"the host sent a bad record: {exc}")
            return None  # the stream cannot be followed any more


class ProgramLoop(asyncio.SelectorEventLoop):
    """A program's event loop in a worker: asyncio's, watching the channel too, woken through a
    pipe (a confined worker may not create the socket pair asyncio's self-pipe is)."""

    def __init__(self, channel: int, readable: Callable[[], None]) -> None:
        super().__init__(selectors.EpollSelector())
        self.add_reader(self._wake[0], self._drain_wake)
        self.add_reader(channel, readable)

    def _make_self_pipe(self) -> None:
        self._ssock = self._csock = None
        self._wake = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)  # watched once `__init__` can

    def _close_self_pipe(self) -> None:
        self.remove_reader(self._wake[0])
        os.close(self._wake[0])
        os.close(self._wake[1])

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake[0], 4096):
                pass
        except OSError:
            pass

    def _write_to_self(self) -> None:
        try:
            os.write(self._wake[1], b"\0")
        except OSError:
            pass  # full: a wake-up is pending anyway


def diagnose(message: str) -> None:
    """A line on the worker's stderr, where the host reads a worker's last words."""
    try:
        os.write(2, f"engine worker {os.getpid()}: {message}\n".encode())
    except OSError:
        pass
