"""The link layer under the bridge frames: sequence numbers, acks, resynchronisation, two encodings.

Bridge frames (`protocol.py`) say *what* crosses; this layer makes them cross a stream that may
drop and be reattached (the E2B process stream) without losing or repeating one. Every record is
a msgpack array `[kind, seq, ack, run, data]`:

| kind | direction     | meaning                                                                 |
| ---- | ------------- | ----------------------------------------------------------------------- |
| `h`  | guest -> host | hello: the guest is up; `data` = `{version, pid, mode}`                  |
| `f`  | both          | one bridge frame (`data`, bytes) belonging to run `run`                 |
| `r`  | host -> guest | resync: the host has every guest record up to `ack`; replay the rest    |
| `q`  | host -> guest | quit: finish and exit                                                   |

`f` records are numbered per direction (`seq` 1, 2, 3...) and carry `ack`, the highest sequence
number received from the other side, so each side can forget records the other has. A receiver
drops any record whose `seq` is not exactly the next one (a duplicate from a replay, or one after a
gap the sender will replay), so a replay after a reattach never repeats a frame. Control records
(`h`, `r`, `q`) have `seq` 0 and are never deduplicated.

Encodings: host -> guest records are length-prefixed (`protocol.pack_stream_frame`) on the guest's
stdin. Guest -> host records are lines `@<base64(record + crc32)>\\n` on a private duplicate of
the guest's stdout (`LineDecoder`), because the E2B SDK hands stdout over as UTF-8 text split into
arbitrary chunks. (The process pool's workers, on a local socket that keeps order and bytes, use
no link at all: `engine.executors._wire`.) The checksum lets the host drop a line
fragment left by a dropped stream instead of misreading it.

`LinkState` is the bookkeeping both ends keep (numbering, acks, the replay buffer, dropping
duplicates): the host (`engine.executors._remote`) and the guest (`engine.guest.serve`) use the
same class, so the two ends cannot disagree about it.

Standard library + msgpack only: ships to guests with the kernel.
"""

from __future__ import annotations

import base64
import binascii
import struct
import threading
import zlib
from collections import OrderedDict
from typing import Any

import msgpack

__all__ = [
    "CONTROL_SEQ",
    "LinkState",
    "LineDecoder",
    "Record",
    "decode_record",
    "encode_line",
    "encode_record",
    "pack_record",
    "unpack_record",
]

CONTROL_SEQ = 0
"""The `seq` of control records (`h`, `r`, `q`)."""

KINDS = frozenset({"h", "f", "r", "q"})

_CRC = struct.Struct(">I")
MAX_LINE = 96 * 1024 * 1024
"""The longest line the host accepts (a 64 MiB frame, base64-encoded, plus slack)."""

Record = tuple[str, int, int, int, Any]
"""`(kind, seq, ack, run, data)`."""


class LinkError(ValueError):
    """A record that is not well formed."""


def pack_record(kind: str, seq: int, ack: int, run: int, data: Any) -> bytes:
    """Encode one record as msgpack (no framing)."""
    packed: bytes = msgpack.packb([kind, seq, ack, run, data], use_bin_type=True)
    return packed


def unpack_record(data: bytes) -> Record:
    """Decode and check one record; raises `LinkError`."""
    try:
        value = msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=False, ext_hook=_no_ext)
    except LinkError:
        raise
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise LinkError(f"malformed record: {type(exc).__name__}") from None
    if type(value) is not list or len(value) != 5:
        raise LinkError("a record is a list of five")
    kind, seq, ack, run, payload = value
    if kind not in KINDS:
        raise LinkError(f"unknown record kind {kind!r}")
    for name, number in (("seq", seq), ("ack", ack), ("run", run)):
        if type(number) is not int or number < 0:
            raise LinkError(f"record field {name} must be a non-negative int")
    if kind == "f" and (seq == CONTROL_SEQ or type(payload) is not bytes):
        raise LinkError("a frame record needs a sequence number and bytes")
    return kind, seq, ack, run, payload


def _no_ext(code: int, data: bytes) -> Any:
    raise LinkError("msgpack extension types are not allowed in records")


def encode_record(kind: str, seq: int, ack: int, run: int, data: Any) -> bytes:
    """A host -> guest record, length-prefixed for the guest's stdin."""
    body = pack_record(kind, seq, ack, run, data)
    return struct.pack(">I", len(body)) + body


def decode_record(body: bytes) -> Record:
    """The inverse of `encode_record` once the length prefix is removed (see `FrameReader`)."""
    return unpack_record(body)


def encode_line(kind: str, seq: int, ack: int, run: int, data: Any) -> bytes:
    """A guest -> host record as one ASCII line: `@`, base64 of record + CRC-32, newline."""
    body = pack_record(kind, seq, ack, run, data)
    return b"@" + base64.b64encode(body + _CRC.pack(zlib.crc32(body))) + b"\n"


def _decode_line(line: str) -> Record:
    if not line.startswith("@"):
        raise LinkError("not a record line")
    try:
        raw = base64.b64decode(line[1:], validate=True)
    except (binascii.Error, ValueError):
        raise LinkError("a record line is not base64") from None
    if len(raw) < _CRC.size:
        raise LinkError("a record line is too short")
    body, (crc,) = raw[: -_CRC.size], _CRC.unpack(raw[-_CRC.size :])
    if zlib.crc32(body) != crc:
        raise LinkError("a record line failed its checksum")
    return unpack_record(body)


class LineDecoder:
    """Reassembles guest -> host records from text chunks split anywhere.

    ```python
    decoder = LineDecoder()
    for record in decoder.feed(chunk):   # chunk: str (as the E2B SDK delivers) or bytes
        handle(record)
    decoder.reset()                      # after a reattach: drop a half line
    ```
    Lines that do not decode (a fragment from before a reattach) are dropped and counted in
    `dropped`; the sender replays what the receiver has not acknowledged.
    """

    def __init__(self) -> None:
        self._pending: list[str] = []
        self._pending_size = 0
        self.dropped = 0

    def feed(self, chunk: str | bytes) -> list[Record]:
        """Add a chunk; return every complete, valid record it finishes, in order."""
        text = chunk.decode("ascii", "replace") if isinstance(chunk, bytes | bytearray) else chunk
        records: list[Record] = []
        start = 0
        while True:
            end = text.find("\n", start)
            if end < 0:
                break
            piece = text[start:end]
            if self._pending:
                self._pending.append(piece)
                piece = "".join(self._pending)
                self._pending, self._pending_size = [], 0
            start = end + 1
            if not piece:
                continue
            try:
                records.append(_decode_line(piece))
            except LinkError:
                self.dropped += 1
        rest = text[start:]
        if rest:
            self._pending.append(rest)
            self._pending_size += len(rest)
            if self._pending_size > MAX_LINE:
                # No valid line is this long: resynchronise at the next newline.
                self._pending, self._pending_size = [], 0
                self.dropped += 1
        return records

    def reset(self) -> None:
        """Forget a partial line (the stream it belonged to is gone)."""
        self._pending, self._pending_size = [], 0


class LinkState:
    """One end's view of the link: what it sent and the other end has not acknowledged, and the
    last record it accepted. Thread-safe (a guest numbers records from several threads).

    ```python
    link = LinkState()
    seq = link.number(run, data)          # an `f` record to send: (seq, link.ack) go in its header
    link.acknowledged(ack)                # the other end has everything up to `ack`: forget it
    if link.accept(seq): handle(record)   # exactly the next one: not a duplicate, not past a gap
    for seq, run, data in link.unacked(after=ack): resend(...)   # a replay after a reattach
    ```
    """

    def __init__(self, *, replay_limit: int = 128 * 1024 * 1024) -> None:
        self._lock = threading.Lock()
        self._out_seq = 0
        self._in_seq = 0
        self._unacked: OrderedDict[int, tuple[int, bytes]] = OrderedDict()
        self._size = 0
        self._replay_limit = replay_limit

    @property
    def ack(self) -> int:
        """The highest sequence number accepted from the other end (sent back as `ack`)."""
        return self._in_seq

    @property
    def next_seq(self) -> int:
        """The `seq` the next `number` will give (for a sender that encodes before it numbers)."""
        return self._out_seq + 1

    def number(self, run: int, data: bytes) -> int:
        """Number one outgoing `f` record and keep it until acknowledged; return its `seq`."""
        with self._lock:
            self._out_seq += 1
            self._unacked[self._out_seq] = (run, data)
            self._size += len(data)
            # Past the bound the oldest records are forgotten: a replay that needs them fails
            # (the other end sees a gap and the link is reset), which beats unbounded memory.
            while self._size > self._replay_limit and len(self._unacked) > 1:
                _, (_, old) = self._unacked.popitem(last=False)
                self._size -= len(old)
            return self._out_seq

    def acknowledged(self, ack: int) -> None:
        """The other end has every record up to `ack`: forget them."""
        with self._lock:
            while self._unacked:
                seq = next(iter(self._unacked))
                if seq > ack:
                    break
                _, (_, data) = self._unacked.popitem(last=False)
                self._size -= len(data)

    def accept(self, seq: int) -> bool:
        """Whether an incoming `f` record is exactly the next one (then it is counted as received)."""
        with self._lock:
            if seq != self._in_seq + 1:
                return False  # a duplicate from a replay, or past a gap the sender will replay
            self._in_seq = seq
            return True

    def unacked(self, after: int = 0) -> list[tuple[int, int, bytes]]:
        """`(seq, run, data)` of every kept record numbered above `after`, in order."""
        with self._lock:
            return [(seq, run, data) for seq, (run, data) in self._unacked.items() if seq > after]
