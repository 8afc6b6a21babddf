"""Result handles: a large value kept on the host under an opaque id, opened later without the model.

```python
registry = HandleRegistry()                                   # per code mode (per client)
entry = await registry.keep(value, scope="s1", servers={"crm"}, source="result")
entry["id"]                                                   # "h_Vq3...": 128 random bits
part = await registry.open(entry["id"], scope="s1", allowed=None, path=["orders"], start=0, stop=100)
```

A handle belongs to the code session (`scope`: the execution's `session_id`, None for executions
without one) that made it: another session gets "unknown handle", exactly as for a forged or
expired id, so a handle's existence is not revealed. With a durable store (SQLite, Redis) the value
is kept in the store instead, and any execution given the id may open it, provided it is allowed
every server the value came from (its tenant's allow-list). Ids are 128 random bits: not guessable.

Memory is bounded: in memory, handles past `max_bytes` (or `max_handles`) evict the oldest;
`stats()` reports what is held. Every handle expires `ttl` seconds after it was made.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import msgpack

from ..store import MemoryStore, Store
from .truncate import truncate

__all__ = ["DEFAULT_TTL", "HandleRegistry", "describe_shape"]

DEFAULT_TTL = 3600.0
"""Seconds a handle lives."""

_ID = re.compile(r"h_[A-Za-z0-9_-]{22}")
_PREFIX = "result-handle:"
_PREVIEW_BYTES = 600
_UNKNOWN = "unknown or expired result handle {!r} (handles last {:g} s and belong to the code session that made them)"


@dataclass
class _Entry:
    scope: str | None
    servers: tuple[str, ...]
    data: bytes
    expires: float


def describe_shape(value: Any, depth: int = 2) -> str:
    """A one-line type sketch: `dict{orders: list[20000] of dict, total: int}`."""
    if isinstance(value, dict):
        if depth <= 0:
            return f"dict[{len(value)} keys]"
        keys = list(value.items())[:8]
        inner = ", ".join(f"{str(k)[:30]}: {describe_shape(v, depth - 1)}" for k, v in keys)
        more = f", … {len(value) - 8} more" if len(value) > 8 else ""
        return f"dict{{{inner}{more}}}"
    if isinstance(value, list | tuple):
        first = f" of {describe_shape(value[0], depth - 1)}" if value and depth > 0 else ""
        return f"list[{len(value)}]{first}"
    if isinstance(value, str):
        return f"str[{len(value)}]"
    return type(value).__name__


class HandleRegistry:
    """The handles of one code mode; see the module docstring."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        max_bytes: int = 256 * 1024 * 1024,
        max_handles: int = 1000,
    ) -> None:
        # A memory store is this process's anyway: handles stay in our own bounded table.
        self._store = None if store is None or isinstance(store, MemoryStore) else store
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.max_handles = max_handles
        self._held: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self.evicted = 0

    @property
    def shared(self) -> bool:
        """Whether handles live in a durable store, where any execution given the id may open them."""
        return self._store is not None

    def stats(self) -> dict[str, Any]:
        """What is held in memory: `{handles, bytes, max_bytes, evicted}` (after dropping expired ones)."""
        self._expire(time.monotonic())
        return {"handles": len(self._held), "bytes": self._bytes, "max_bytes": self.max_bytes,
                "evicted": self.evicted, "store": self._store.url if self._store is not None else None}

    async def keep(self, value: Any, *, scope: str | None, servers: Collection[str], source: str) -> dict[str, Any]:
        """Keep `value` (plain data) and return its envelope entry: `{id, source, bytes, shape,
        preview, expires_in, open}`; with `kept` False (and no id) when it could not be kept."""
        # Encoding and the preview are CPU work on up to tens of MB: off the event loop.
        data, entry = await anyio.to_thread.run_sync(_describe, value, source)
        if len(data) > self.max_bytes:
            entry.update(kept=False, reason=f"{len(data)} bytes is over the handle memory of {self.max_bytes}")
            return entry
        handle = "h_" + secrets.token_urlsafe(16)
        record = _Entry(scope, tuple(sorted(servers)), data, time.monotonic() + self.ttl)
        if self._store is not None:
            body = msgpack.packb({"scope": scope, "servers": list(record.servers), "data": data}, use_bin_type=True)
            await self._store.put(_PREFIX + handle, body, ttl=self.ttl)
        else:
            self._hold(handle, record)
        entry.update(kept=True, expires_in=self.ttl)
        return {"id": handle, **entry}

    async def open(
        self,
        handle: object,
        *,
        scope: str | None,
        allowed: Collection[str] | None,
        path: Sequence[Any] = (),
        start: int | None = None,
        stop: int | None = None,
    ) -> Any:
        """The value of `handle` (or the part at `path`, sliced by `start`/`stop`).

        Raises:
            TypeError: `handle` is not a string, or `path`/`start`/`stop` have the wrong type.
            ValueError: `handle` is not a handle id at all.
            LookupError: unknown, expired, another session's, or a path that is not there.
            PermissionError: a shared handle from a server this execution is not allowed.
        """
        value, _ = await self.open_with_servers(handle, scope=scope, allowed=allowed, path=path, start=start, stop=stop)
        return value

    async def open_with_servers(
        self,
        handle: object,
        *,
        scope: str | None,
        allowed: Collection[str] | None,
        path: Sequence[Any] = (),
        start: int | None = None,
        stop: int | None = None,
    ) -> tuple[Any, tuple[str, ...]]:
        """`open`, and the servers the value came from: a value made from it comes from them too.

        Raises:
            The same as `open`.
        """
        if not isinstance(handle, str):
            kind = type(handle).__name__
            raise TypeError(f"results.open() handle must be a str (the envelope's handles[].id), got {kind}")
        if not _ID.fullmatch(handle):
            shown = handle[:60]
            raise ValueError(f"results.open(): {shown!r} is not a result handle (they look like 'h_' + 22 characters)")
        value, servers = await self._load(handle, scope, allowed)
        return _select(value, path, start, stop), servers

    async def _load(
        self, handle: str, scope: str | None, allowed: Collection[str] | None
    ) -> tuple[Any, tuple[str, ...]]:
        now = time.monotonic()
        self._expire(now)
        record = self._held.get(handle)
        if record is not None:
            if record.scope != scope:
                raise LookupError(_UNKNOWN.format(handle, self.ttl))
            return await anyio.to_thread.run_sync(_unpack, record.data), record.servers
        if self._store is None:
            raise LookupError(_UNKNOWN.format(handle, self.ttl))
        body = await self._store.get(_PREFIX + handle)
        if body is None:
            raise LookupError(_UNKNOWN.format(handle, self.ttl))
        try:
            saved = msgpack.unpackb(body, raw=False)
            servers = [str(s) for s in saved["servers"]]
            data = saved["data"]
            if not isinstance(data, bytes):
                raise TypeError("data")
        except Exception as exc:  # a shared store may hold anything under our key
            raise LookupError(f"result handle {handle!r} is corrupt in the store") from exc
        if saved.get("scope") != scope and allowed is not None:
            refused = sorted(set(servers) - set(allowed))
            if refused:
                raise PermissionError(
                    f"result handle {handle!r} holds data of server(s) {refused} this execution may not use"
                )
        return await anyio.to_thread.run_sync(_unpack, data), tuple(servers)

    def _hold(self, handle: str, record: _Entry) -> None:
        self._held[handle] = record
        self._bytes += len(record.data)
        while self._held and (self._bytes > self.max_bytes or len(self._held) > self.max_handles):
            _, old = self._held.popitem(last=False)
            self._bytes -= len(old.data)
            self.evicted += 1

    def _expire(self, now: float) -> None:
        # Entries are in creation order and share one ttl: expired ones are at the front.
        while self._held:
            handle, record = next(iter(self._held.items()))
            if record.expires > now:
                break
            del self._held[handle]
            self._bytes -= len(record.data)


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)


def _describe(value: Any, source: str) -> tuple[bytes, dict[str, Any]]:
    data = msgpack.packb(value, use_bin_type=True)
    entry: dict[str, Any] = {"source": source, "bytes": len(data), "shape": describe_shape(value)}
    entry["preview"] = truncate(value, _PREVIEW_BYTES).value
    return data, entry


def _select(value: Any, path: Sequence[Any], start: int | None, stop: int | None) -> Any:
    if isinstance(path, str) or not isinstance(path, list | tuple):
        raise TypeError(f"results.open() path must be a list of keys and indexes, got {type(path).__name__}")
    for bound in (start, stop):
        if bound is not None and type(bound) is not int:
            raise TypeError(f"results.open() start and stop must be ints or None, got {type(bound).__name__}")
    where = "result"
    for step in path:
        if isinstance(value, dict):
            if not isinstance(step, str) or step not in value:
                keys = ", ".join(repr(k) for k in list(value)[:10])
                raise LookupError(f"results.open(): {where} has no key {step!r} (keys: {keys})")
            value = value[step]
            where += f"[{step!r}]"
        elif isinstance(value, list):
            if type(step) is not int or not -len(value) <= step < len(value):
                raise LookupError(f"results.open(): {where} is a list of {len(value)} items, no index {step!r}")
            value = value[step]
            where += f"[{step}]"
        else:
            raise LookupError(f"results.open(): {where} is a {type(value).__name__}, it has no {step!r}")
    if start is None and stop is None:
        return value
    if isinstance(value, list | str | bytes):
        return value[start:stop]
    if isinstance(value, dict):
        return dict(list(value.items())[start:stop])
    raise LookupError(f"results.open(): {where} is a {type(value).__name__}; start/stop slice lists, strings and dicts")
