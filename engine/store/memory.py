"""The in-memory store: a dict in this process, shared by every store opened on the same `memory://` name.

Wraps a plain dict of `key -> (value, expiry)` guarded by a thread lock, so stores used from
several event loops in one process agree. Ignores durability and other processes: the data is
gone when the process ends, and another process sees none of it. Expiry follows this process's
monotonic clock; expired entries are never returned and are dropped lazily (when read, and by an
occasional sweep on writes).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ._base import StoreBase, check_key, check_ttl, check_value

__all__ = ["MemoryStore"]

_SWEEP_EVERY = 256
"""Writes between two sweeps of expired entries: keeps a store of short-lived keys from growing."""


@dataclass
class _Space:
    """The data of one `memory://name`: what every store opened on that name reads and writes."""

    entries: dict[str, tuple[bytes, float | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    writes: int = 0

    def live(self, key: str, now: float) -> bytes | None:
        """The value under `key` unless it expired (then it is dropped). Call with `lock` held."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and expires_at <= now:
            del self.entries[key]
            return None
        return value

    def wrote(self, now: float) -> None:
        """Count a write; every `_SWEEP_EVERY` writes, drop every expired entry. Call with `lock` held."""
        self.writes += 1
        if self.writes % _SWEEP_EVERY == 0:
            expired = [k for k, (_, at) in self.entries.items() if at is not None and at <= now]
            for key in expired:
                del self.entries[key]


_SPACES: dict[str, _Space] = {}
_SPACES_LOCK = threading.Lock()


def _shared_space(name: str) -> _Space:
    with _SPACES_LOCK:
        return _SPACES.setdefault(name, _Space())


class MemoryStore(StoreBase):
    """Bytes under string keys in this process's memory.

    `MemoryStore()` has data of its own; `MemoryStore("name")` (what `open_store("memory://name")`
    builds; `open_store(None)` and `memory://` use the name `""`) shares its data with every other
    store of that name in this process. Closing a store never erases shared data.
    """

    def __init__(self, space: str | None = None) -> None:
        self._space = _Space() if space is None else _shared_space(space)
        self.url = "memory://" if space is None else f"memory://{space}"
        self._closed = False

    def _now(self) -> float:
        if self._closed:
            raise self._closed_error()
        return time.monotonic()

    async def get(self, key: str) -> bytes | None:
        """The value under `key`, or None if there is none or it expired."""
        key = check_key(key)
        now = self._now()
        with self._space.lock:
            return self._space.live(key, now)

    async def put(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Store `value` under `key`, replacing any value; it expires `ttl` seconds from now (None: never)."""
        key, value, seconds = check_key(key), check_value(value), check_ttl(ttl)
        now = self._now()
        with self._space.lock:
            self._space.entries[key] = (value, None if seconds is None else now + seconds)
            self._space.wrote(now)

    async def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Store `value` under `key` only if no live value is there; True when it was stored."""
        key, value, seconds = check_key(key), check_value(value), check_ttl(ttl)
        now = self._now()
        with self._space.lock:
            if self._space.live(key, now) is not None:
                return False
            self._space.entries[key] = (value, None if seconds is None else now + seconds)
            self._space.wrote(now)
            return True

    async def delete(self, key: str) -> bool:
        """Remove `key`; True when a live value was there (exactly one of several deleters sees True)."""
        key = check_key(key)
        now = self._now()
        with self._space.lock:
            found = self._space.live(key, now) is not None
            self._space.entries.pop(key, None)
            return found

    async def ping(self) -> None:
        """Check the store is open; memory is always reachable."""
        self._now()

    async def aclose(self) -> None:
        """Close this store; the data stays for the other stores of the same name."""
        self._closed = True
