"""The process pool's local wire: records over a worker's socket pair, a fixed header and the body.

A record is `>IcQ` — the length of everything after the length, the kind (`h` the worker's hello,
`f` a bridge frame, `q` the host asking the worker to quit), the run it belongs to — then its body
(a frame's bytes, the hello's msgpack map, nothing for `q`). A local socket keeps bytes in order
and intact and does not drop while both ends live, so unlike the E2B link (`kernel.link`: sequence
numbers, acknowledgements, replay, base64 and a checksum per line) there is nothing to number,
acknowledge, replay or check. A record that cannot be parsed is a broken peer: `WireError`, and
the host ends that worker. Used by the host (`_remote.RemoteGuest` in local mode) and the worker
(`_childlink.Channel`); not shipped to remote guests.
"""

from __future__ import annotations

import struct

from ..kernel.protocol import MAX_FRAME_SIZE

__all__ = ["FRAME", "HELLO", "QUIT", "Reader", "WireError", "encode"]

FRAME, HELLO, QUIT = b"f", b"h", b"q"
_KINDS = frozenset({FRAME, HELLO, QUIT})
_HEAD = struct.Struct(">IcQ")
_AFTER_LENGTH = _HEAD.size - 4
MAX_RECORD = MAX_FRAME_SIZE + _AFTER_LENGTH
"""The largest record either end accepts: a frame at the protocol's own limit."""

Record = tuple[bytes, int, bytes]
"""`(kind, run, body)`."""


class WireError(ValueError):
    """Bytes that are not a record: the peer is broken (the stream cannot be followed any more)."""


def encode(kind: bytes, run: int, body: bytes = b"") -> bytes:
    """One record; `run` is a non-negative int below 2**64 (the pool's run ids are)."""
    return _HEAD.pack(len(body) + _AFTER_LENGTH, kind, run) + body


class Reader:
    """Reassembles records from a byte stream split anywhere."""

    def __init__(self, max_record: int = MAX_RECORD) -> None:
        self._buffer = bytearray()
        self._max = max_record
        self._broken: str | None = None

    def feed(self, chunk: bytes) -> list[Record]:
        """Add a chunk; return every record it completes, in order. Raises `WireError`, then again
        for every later chunk (nothing after a bad record is read, or kept)."""
        if self._broken is not None:
            raise WireError(self._broken)
        try:
            return self._feed(chunk)
        except WireError as exc:
            self._broken = str(exc)
            self._buffer = bytearray()
            raise

    def _feed(self, chunk: bytes) -> list[Record]:
        buffer = self._buffer
        if buffer:
            buffer += chunk
            data: bytes | bytearray = buffer
        else:
            data = chunk  # the common case: whole records in one read, no copy into the buffer
        records: list[Record] = []
        start, size_all = 0, len(data)
        head = _HEAD.size
        while size_all - start >= head:
            size, kind, run = _HEAD.unpack_from(data, start)
            if size > self._max or size < _AFTER_LENGTH:
                raise WireError(f"a record of {size} bytes (at most {self._max})")
            if kind not in _KINDS:
                raise WireError(f"unknown record kind {kind!r}")
            end = start + 4 + size
            if end > size_all:
                break
            records.append((kind, run, bytes(data[start + head : end])))
            start = end
        if data is buffer:
            del buffer[:start]
        elif start < size_all:
            buffer += data[start:]
        return records
