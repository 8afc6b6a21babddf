"""Durable key-value stores: bytes under string keys, with optional expiry, shared through a URL.

What paused executions, approval decisions, learned output shapes and result handles are kept in.
`open_store(url)` picks the store by the URL's scheme:

```
None, memory://          MemoryStore   this process only (memory://name: a named space of its own)
sqlite:///relative.db    SQLiteStore   one file, shared by the processes of this machine
sqlite:////abs/path.db
redis://host:port/db     RedisStore    a Redis server, shared by every host that reaches it
redis://:password@host:port/db  (and redis://user:password@...)
```

Every store opened on the same URL sees the same data. `add` (set if absent) and `delete` are
atomic across those stores: of several hosts racing on one key, exactly one sees True. Any
failure is an `engine.StoreError` naming the store, never its password. A `?timeout=SECONDS`
query bounds waiting on the store (default 5 s). docs/stores.md has the guarantees and limits.
"""

from __future__ import annotations

from typing import Protocol, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import StoreError
from ._base import MAX_KEY_BYTES, MAX_VALUE_BYTES, check_timeout
from .memory import MemoryStore
from .redis import RedisStore
from .sqlite import SQLiteStore

__all__ = ["MAX_KEY_BYTES", "MAX_VALUE_BYTES", "MemoryStore", "RedisStore", "SQLiteStore", "Store", "open_store"]

ACCEPTED_FORMS = (
    "memory:// (or None), sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "redis://host:port/db, redis://:password@host:port/db"
)


class Store(Protocol):
    """Bytes under string keys, with optional expiry. Shared by every client that opens the same URL."""

    url: str
    """Where the store lives, without any password."""

    async def get(self, key: str) -> bytes | None:
        """The value under `key`, or None if there is none or it expired."""
        ...

    async def put(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Store `value` under `key`, replacing any value; it expires `ttl` seconds from now (None: never)."""
        ...

    async def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Atomic set-if-absent: True when `value` was stored, False when a live value was already there."""
        ...

    async def delete(self, key: str) -> bool:
        """Atomic removal: True when the key existed. Of several concurrent deleters, exactly one sees True."""
        ...

    async def ping(self) -> None:
        """Reach the store; a `StoreError` if it cannot be used."""
        ...

    async def aclose(self) -> None:
        """Release the connection or file; later calls raise `StoreError`."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


def open_store(url: str | None, *, timeout: float | None = None) -> Store:
    """The store `url` names (see the module docstring); `StoreError` if the URL is not one of them.

    Nothing is opened yet: the first call (or `async with`, or `ping`) connects or opens the file.
    `timeout` (seconds) overrides the URL's `?timeout=`; the default is 5.
    """
    if url is None:
        return MemoryStore("")
    if not isinstance(url, str):
        raise StoreError(f"a store URL must be a str or None, got {type(url).__name__}")
    shown = _redacted(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _bad(shown, str(exc)) from None
    if parts.fragment:
        raise _bad(shown, "it has a #fragment")
    options = _options(parts.query, shown)
    seconds = check_timeout(timeout if timeout is not None else options.get("timeout", 5.0))
    scheme = parts.scheme
    if scheme == "memory":
        if parts.path or options:
            raise _bad(shown, "a memory store URL is memory:// or memory://name, with no path or options")
        return MemoryStore(parts.netloc)
    if scheme == "sqlite":
        if parts.netloc:
            raise _bad(shown, f"an SQLite URL has no host ({parts.netloc!r}): write sqlite:///path.db")
        path = parts.path[1:]
        if not path:
            raise _bad(shown, "it names no file: write sqlite:///relative/path.db or sqlite:////absolute/path.db")
        if path == ":memory:":
            raise _bad(shown, "an SQLite store in memory would be shared with nobody: use memory://")
        return SQLiteStore(path, timeout=seconds)
    if scheme == "redis":
        if not parts.hostname:
            raise _bad(shown, "it names no host: write redis://host:port/db")
        database = parts.path.strip("/") or "0"
        if not database.isdigit() or not database.isascii() or len(database) > 6:
            raise _bad(shown, f"the database {database!r} is not a number: write redis://host:port/0")
        return RedisStore(
            parts.hostname,
            port if port is not None else 6379,
            int(database),
            password=unquote(parts.password) if parts.password is not None else None,
            username=unquote(parts.username) if parts.username else None,
            timeout=seconds,
        )
    reason = "it has no scheme" if not scheme else f"the scheme {scheme}:// is not supported"
    if scheme == "rediss":
        reason = "TLS (rediss://) is not supported"
    raise _bad(shown, reason)


def _options(query: str, shown: str) -> dict[str, float]:
    options: dict[str, float] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "timeout":
            raise _bad(shown, f"the option {name!r} is unknown (the one option is ?timeout=SECONDS)")
        try:
            options[name] = float(value)
        except ValueError:
            raise _bad(shown, f"?timeout={value} is not a number of seconds") from None
    return options


def _bad(shown: str, reason: str) -> StoreError:
    return StoreError(f"the store URL {shown!r} is not valid: {reason}. Accepted forms: {ACCEPTED_FORMS}")


def _redacted(url: str) -> str:
    """`url` with the password of `scheme://user:password@host` replaced, for messages."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    authority, slash, tail = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}{slash}{tail}"
