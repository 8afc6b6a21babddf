"""The Redis store: a Redis server, shared by every host that reaches it.

Wraps one RESP2 connection (`engine.store._resp`) over anyio TCP, used by one call at a time
under a lock. Uses only GET, SET (with PX for the ttl and NX for `add`), DEL, AUTH, SELECT and
PING, so any Redis-compatible server since Redis 2.6.12 works. `add` and `delete` are single
commands, atomic on the server: of several hosts adding or deleting one key, exactly one sees True.

Every connect and every reply is bounded by `timeout`. A connection found dropped (server
restarted, idle connection closed) is reopened once and the command sent again. If a connection
breaks after the server ran an `add` or `delete` but before its answer arrived, the resent command
answers False: a claim can be lost that way, never granted twice. Replies are size-capped, so a
hostile server cannot make this process allocate without bound.

Ignores: TLS (`rediss://`), Unix sockets, Sentinel and Cluster; persistence is the server's
configuration (`appendonly`), not ours. The password never appears in `url`, `repr` or messages.
"""

from __future__ import annotations

import math
import socket

import anyio

from ..errors import StoreError
from ._base import MAX_VALUE_BYTES, StoreBase, check_key, check_timeout, check_ttl, check_value
from ._resp import ConnectionLost, ErrorReply, ProtocolError, Reply, RespConnection

__all__ = ["RedisStore"]

_TEXT_LIMIT = 200
"""How much of a server's error text goes into a message."""


class RedisStore(StoreBase):
    """Bytes under string keys in a Redis database.

    The connection is opened at the first call (or by `async with` / `ping`), then kept. `timeout`
    bounds connecting and each reply, in seconds.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        db: int = 0,
        *,
        password: str | None = None,
        username: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if not host:
            raise StoreError("a Redis store needs a host")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise StoreError(f"a Redis port is a number from 1 to 65535, got {port!r}")
        if isinstance(db, bool) or not isinstance(db, int) or db < 0:
            raise StoreError(f"a Redis database is a number from 0 up, got {db!r}")
        self.host, self.port, self.db = host, port, db
        self._password, self._username = password, username
        self._timeout = check_timeout(timeout)
        shown_host = f"[{host}]" if ":" in host else host
        credentials = f"{username or ''}:***@" if password is not None else ""
        self.url = f"redis://{credentials}{shown_host}:{port}/{db}"
        self._connection: RespConnection | None = None
        self._lock = anyio.Lock()
        self._closed = False

    # -- the Store API --------------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        """The value under `key`, or None if there is none or it expired."""
        reply = await self._call(b"GET", check_key(key).encode())
        if reply is None or isinstance(reply, bytes):
            return reply
        raise self._unexpected("GET", reply)

    async def put(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Store `value` under `key`, replacing any value; it expires `ttl` seconds from now (None: never)."""
        reply = await self._call(*_set(key, value, ttl))
        if reply != "OK":
            raise self._unexpected("SET", reply)

    async def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Store `value` under `key` only if no live value is there; True when it was stored."""
        reply = await self._call(*_set(key, value, ttl), b"NX")
        if reply == "OK":
            return True
        if reply is None:
            return False
        raise self._unexpected("SET NX", reply)

    async def delete(self, key: str) -> bool:
        """Remove `key`; True when a value was there (exactly one of several deleters sees True)."""
        reply = await self._call(b"DEL", check_key(key).encode())
        if isinstance(reply, int) and not isinstance(reply, bool) and reply in (0, 1):
            return reply == 1
        raise self._unexpected("DEL", reply)

    async def ping(self) -> None:
        """Reach the server (connecting if needed); a `StoreError` if it cannot be used."""
        reply = await self._call(b"PING")
        if reply != "PONG":
            raise self._unexpected("PING", reply)

    async def aclose(self) -> None:
        """Close the connection; later calls raise `StoreError`. Closing twice is harmless."""
        self._closed = True
        await self._drop()

    # -- plumbing -------------------------------------------------------------------------------

    async def _call(self, *command: bytes) -> Reply:
        """Send `command` and return its reply, reconnecting once if the kept connection was dropped."""
        name = command[0].decode()
        async with self._lock:
            for attempt in (1, 2):
                if self._closed:
                    raise self._closed_error()
                reused = self._connection is not None
                connection = self._connection or await self._connect()
                try:
                    with anyio.fail_after(self._timeout):
                        await connection.send(*command)
                        return await connection.read_reply()
                except ErrorReply as exc:
                    raise StoreError(f"the store at {self.url} refused {name}: {_clip(exc.text)}") from None
                except ConnectionLost as exc:
                    await self._drop()
                    if reused and attempt == 1:
                        continue  # the kept connection had been closed under us: open a new one, once
                    raise StoreError(f"lost the connection to the store at {self.url} during {name}: {exc}") from None
                except TimeoutError:
                    await self._drop()
                    raise StoreError(
                        f"the store at {self.url} did not answer {name} within {self._timeout:g} s"
                    ) from None
                except ProtocolError as exc:
                    await self._drop()
                    raise StoreError(f"the store at {self.url} sent a bad reply to {name}: {exc}") from None
                except BaseException:
                    # Cancelled mid-command: the reply may still come, so the connection is out of step.
                    await self._drop()
                    raise
            raise AssertionError("unreachable")  # pragma: no cover

    async def _connect(self) -> RespConnection:
        try:
            with anyio.fail_after(self._timeout):
                stream = await anyio.connect_tcp(self.host, self.port)
        except TimeoutError:
            raise StoreError(
                f"cannot reach the store at {self.url}: no answer within {self._timeout:g} s"
            ) from None
        except OSError as exc:
            raise StoreError(f"cannot reach the store at {self.url}: {_reason(exc)}") from None
        connection = RespConnection(stream, max_bulk=MAX_VALUE_BYTES)
        try:
            with anyio.fail_after(self._timeout):
                if self._password is not None:
                    credentials = [self._username.encode()] if self._username else []
                    await self._handshake(connection, "AUTH", b"AUTH", *credentials, self._password.encode())
                if self.db:
                    await self._handshake(connection, "SELECT", b"SELECT", str(self.db).encode())
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await connection.aclose()
            if isinstance(exc, TimeoutError):
                raise StoreError(
                    f"the store at {self.url} did not answer the handshake within {self._timeout:g} s"
                ) from None
            if isinstance(exc, ConnectionLost | ProtocolError):
                raise StoreError(f"cannot reach the store at {self.url}: {exc}") from None
            raise
        self._connection = connection
        return connection

    async def _handshake(self, connection: RespConnection, name: str, *command: bytes) -> None:
        await connection.send(*command)
        try:
            reply = await connection.read_reply()
        except ErrorReply as exc:
            if name == "AUTH":
                # Never the password: the server's text names the failure, not the secret.
                raise StoreError(f"the store at {self.url} refused the password: {_clip(exc.text)}") from None
            raise StoreError(f"the store at {self.url} refused {name}: {_clip(exc.text)}") from None
        if reply != "OK":
            raise self._unexpected(name, reply)

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with anyio.CancelScope(shield=True):
                await connection.aclose()

    def _unexpected(self, name: str, reply: Reply) -> StoreError:
        return StoreError(f"the store at {self.url} gave an unexpected reply to {name}: {_clip(repr(reply))}")


def _set(key: str, value: bytes, ttl: float | None) -> tuple[bytes, ...]:
    """The SET command for `put` and `add`: the ttl in whole milliseconds, at least one."""
    encoded_key, checked, seconds = check_key(key).encode(), check_value(value), check_ttl(ttl)
    if seconds is None:
        return (b"SET", encoded_key, checked)
    milliseconds = max(1, math.ceil(seconds * 1000))
    return (b"SET", encoded_key, checked, b"PX", str(milliseconds).encode())


def _clip(text: str) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in text[:_TEXT_LIMIT])
    return printable + ("..." if len(text) > _TEXT_LIMIT else "")


def _reason(exc: OSError) -> str:
    """Why a connect failed, in words: anyio wraps each attempt's error as the cause."""
    causes: list[BaseException] = [exc]
    cause = exc.__cause__
    if isinstance(cause, BaseExceptionGroup):
        causes[:0] = list(cause.exceptions)
    elif cause is not None:
        causes.insert(0, cause)
    for error in causes:
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, socket.gaierror):
            return "unknown host"
        if isinstance(error, OSError) and error.strerror:
            return error.strerror.lower()
    return str(exc) or type(exc).__name__
