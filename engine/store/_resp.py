"""A minimal RESP2 connection: commands out as arrays of bulk strings, bounded replies in.

Written from the protocol description (https://redis.io/docs/latest/develop/reference/protocol-spec/):
a reply is a type byte, a line ended by CRLF, and for bulk strings and arrays a counted body.
Only RESP2's five types are read: `+` simple string, `-` error, `:` integer, `$` bulk string
(`$-1` is nil), `*` array (`*-1` is nil). Anything else is a `ProtocolError`.

The server is not trusted with our memory: a line longer than `MAX_LINE`, a bulk string longer
than `max_bulk`, bulk strings adding up to more than `max_bulk` in one reply, an array longer
than `MAX_ARRAY` or nested deeper than `MAX_DEPTH` is refused before it is read. Timeouts and
reconnection are the caller's (`engine.store.redis`).
"""

from __future__ import annotations

import anyio
from anyio.abc import SocketStream

__all__ = ["ConnectionLost", "ErrorReply", "ProtocolError", "Reply", "RespConnection", "encode_command"]

MAX_LINE = 64 * 1024
MAX_ARRAY = 1024
MAX_DEPTH = 4
_CHUNK = 64 * 1024

Reply = bytes | int | str | None | list["Reply"]
"""A decoded reply: bulk string -> bytes, simple string -> str, integer -> int, nil -> None, array -> list."""


class ProtocolError(Exception):
    """The server sent something that is not a valid RESP2 reply, or one larger than allowed."""


class ConnectionLost(Exception):
    """The connection closed or broke before the reply was complete."""


class ErrorReply(Exception):
    """The server answered with an error (`-ERR ...`); the connection is still usable."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def encode_command(*args: bytes) -> bytes:
    """`args` as a RESP array of bulk strings, the form Redis accepts for every command."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n" % len(arg))
        parts.append(arg)
        parts.append(b"\r\n")
    return b"".join(parts)


class RespConnection:
    """One TCP connection to a Redis server: send a command, read its reply."""

    def __init__(self, stream: SocketStream, *, max_bulk: int) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._max_bulk = max_bulk
        self._left = max_bulk

    async def send(self, *args: bytes) -> None:
        """Write one command. A broken connection is `ConnectionLost`."""
        try:
            await self._stream.send(encode_command(*args))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise ConnectionLost(f"sending failed: {exc or type(exc).__name__}") from exc

    async def read_reply(self) -> Reply:
        """Read one reply. An error reply is raised as `ErrorReply` after it is fully read."""
        self._left = self._max_bulk  # what all the bulk strings of this reply may add up to
        reply = await self._read(0)
        if isinstance(reply, ErrorReply):
            raise reply
        return reply

    async def aclose(self) -> None:
        await self._stream.aclose()

    # -- reading --------------------------------------------------------------------------------

    async def _fill(self) -> None:
        try:
            chunk = await self._stream.receive(_CHUNK)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise ConnectionLost(f"the server closed the connection ({type(exc).__name__})") from exc
        self._buffer += chunk

    async def _line(self) -> bytes:
        """The next line, without its CRLF."""
        searched = 0
        while True:
            end = self._buffer.find(b"\r\n", max(0, searched - 1))
            if end >= 0:
                if end > MAX_LINE:
                    raise ProtocolError(f"a reply line is longer than {MAX_LINE} bytes")
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 2]
                return line
            searched = len(self._buffer)
            if searched > MAX_LINE:
                raise ProtocolError(f"a reply line is longer than {MAX_LINE} bytes")
            await self._fill()

    async def _exactly(self, size: int) -> bytes:
        """The next `size` bytes and the CRLF after them."""
        while len(self._buffer) < size + 2:
            await self._fill()
        if self._buffer[size : size + 2] != b"\r\n":
            raise ProtocolError("a bulk string is not followed by CRLF")
        with memoryview(self._buffer) as view:  # one copy of a large value, not two
            data = bytes(view[:size])
        del self._buffer[: size + 2]
        return data

    async def _read(self, depth: int) -> Reply | ErrorReply:
        line = await self._line()
        if not line:
            raise ProtocolError("an empty reply line")
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            return ErrorReply(rest.decode("utf-8", "replace"))
        if kind == b":":
            return _integer(rest, "integer")
        if kind == b"$":
            size = _integer(rest, "bulk length")
            if size == -1:
                return None
            if not 0 <= size <= self._max_bulk:
                raise ProtocolError(f"a bulk string of {size} bytes (at most {self._max_bulk} are accepted)")
            if size > self._left:
                raise ProtocolError(f"a reply of more than {self._max_bulk} bytes in all")
            self._left -= size
            return await self._exactly(size)
        if kind == b"*":
            count = _integer(rest, "array length")
            if count == -1:
                return None
            if not 0 <= count <= MAX_ARRAY:
                raise ProtocolError(f"an array of {count} elements (at most {MAX_ARRAY} are accepted)")
            if depth >= MAX_DEPTH:
                raise ProtocolError(f"arrays nested deeper than {MAX_DEPTH}")
            items: list[Reply] = []
            for _ in range(count):
                item = await self._read(depth + 1)
                if isinstance(item, ErrorReply):
                    items.append(None)  # an error inside an array (EXEC) is not needed by any command we send
                else:
                    items.append(item)
            return items
        raise ProtocolError(f"an unknown reply type {bytes(kind)!r}")


def _integer(text: bytes, what: str) -> int:
    # Digits only (with a sign): int() would also accept spaces, underscores and other scripts' digits.
    body = text[1:] if text[:1] in (b"-", b"+") else text
    if not body or not body.isdigit() or len(body) > 20:
        raise ProtocolError(f"a malformed {what} {text[:40]!r}")
    return int(text)
