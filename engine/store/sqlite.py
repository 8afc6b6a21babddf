"""The SQLite store: one file, shared by every store and process on this machine that opens it.

Wraps the standard library's `sqlite3`: one connection per store, used from worker threads
(`anyio.to_thread`) one call at a time under a lock, so the event loop never waits on the disk.
The file is in WAL mode (readers do not block the writer) and holds one table, `engine_store`
(key, value, expires_at as Unix time). Every write is a single SQL statement, so `add` and
`delete` are atomic across connections and processes: SQLite's write lock orders them, and a
busy file is waited on up to `timeout` seconds. Expired rows are never returned; they are
deleted when read and by an occasional sweep.

Ignores: sharing across machines (SQLite over a network file system is not safe: use Redis), and
clock jumps (expiry uses the wall clock, as every process on the machine must agree on it).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from ..errors import StoreError
from ._base import StoreBase, check_key, check_timeout, check_ttl, check_value

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_TABLE = "engine_store"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at REAL)",
    f"CREATE INDEX IF NOT EXISTS {_TABLE}_expiry ON {_TABLE} (expires_at) WHERE expires_at IS NOT NULL",
)
_UPSERT = (
    f"INSERT INTO {_TABLE} (key, value, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
)
# The conflict branch replaces only an expired row, so an `add` changes a row exactly when the key
# was absent or dead; `rowcount` says which, within the one statement that holds the write lock.
_ADD = _UPSERT + f" WHERE {_TABLE}.expires_at IS NOT NULL AND {_TABLE}.expires_at <= ?"
_SWEEP_EVERY = 256


class SQLiteStore(StoreBase):
    """Bytes under string keys in an SQLite file (created with its table if missing).

    `path` is relative to the working directory at construction. The file is opened at the first
    call (or by `async with` / `ping`), so constructing never touches the disk. `timeout` is how
    long a call waits for another connection's write lock before failing with `StoreError`.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        given = os.fspath(path)
        if not given:
            raise StoreError("an SQLite store needs a file path")
        self.path = os.path.abspath(given)
        self.url = f"sqlite:///{given}"
        self._timeout = check_timeout(timeout)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._closed = False
        self._writes = 0

    # -- plumbing -------------------------------------------------------------------------------

    async def _run(self, work: Callable[[sqlite3.Connection, float], T]) -> T:
        """Run `work(connection, now)` in a worker thread, under the lock, with errors as `StoreError`."""
        if self._closed:
            raise self._closed_error()
        return await anyio.to_thread.run_sync(self._locked, work)

    def _locked(self, work: Callable[[sqlite3.Connection, float], T]) -> T:
        with self._lock:
            if self._closed:
                raise self._closed_error()
            try:
                if self._connection is None:
                    self._connection = self._open()
                return work(self._connection, time.time())
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    def _open(self) -> sqlite3.Connection:
        if os.path.isdir(self.path):
            raise StoreError(f"cannot open the store at {self.url}: the path is a folder, not a file")
        # isolation_level=None: autocommit, so each statement below is its own transaction.
        connection = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        try:
            mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StoreError(f"the store at {self.url} cannot use WAL mode (journal mode {mode!r})")
            # WAL with synchronous=NORMAL survives a crash of any process; only a power cut can lose
            # the last commits, and never corrupts the file.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA[0])
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({_TABLE})")]
            if columns != ["key", "value", "expires_at"]:
                raise StoreError(
                    f"the store at {self.url} has a table {_TABLE} with other columns ({', '.join(columns)}): "
                    "it belongs to something else; use another file"
                )
            connection.execute(_SCHEMA[1])
            connection.execute(f"DELETE FROM {_TABLE} WHERE expires_at <= ?", (time.time(),))
        except BaseException:
            connection.close()
            raise
        return connection

    def _translate(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        lowered = text.lower()
        if "locked" in lowered or "busy" in lowered:
            return StoreError(
                f"the store at {self.url} is locked by another connection (waited {self._timeout:g} s): {text}"
            )
        if "readonly" in lowered or "read-only" in lowered:
            return StoreError(
                f"the store at {self.url} is read-only: this process needs write access to the file and its folder"
            )
        if "unable to open" in lowered:
            return StoreError(
                f"cannot open the store at {self.url}: its folder does not exist or is not writable ({text})"
            )
        if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
            return StoreError(f"the store at {self.url} is not an SQLite database or is corrupt: {text}")
        if "disk" in lowered and "full" in lowered:
            return StoreError(f"the store at {self.url} cannot grow: the disk is full")
        return StoreError(f"the store at {self.url} failed: {text}")

    def _wrote(self, connection: sqlite3.Connection, now: float) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            connection.execute(f"DELETE FROM {_TABLE} WHERE expires_at <= ?", (now,))

    # -- the Store API --------------------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        """The value under `key`, or None if there is none or it expired."""
        key = check_key(key)

        def work(connection: sqlite3.Connection, now: float) -> bytes | None:
            row = connection.execute(f"SELECT value, expires_at FROM {_TABLE} WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            value, expires_at = row
            if expires_at is not None and expires_at <= now:
                connection.execute(f"DELETE FROM {_TABLE} WHERE key = ? AND expires_at <= ?", (key, now))
                return None
            return bytes(value)

        return await self._run(work)

    async def put(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        """Store `value` under `key`, replacing any value; it expires `ttl` seconds from now (None: never)."""
        key, value, seconds = check_key(key), check_value(value), check_ttl(ttl)

        def work(connection: sqlite3.Connection, now: float) -> None:
            connection.execute(_UPSERT, (key, value, None if seconds is None else now + seconds))
            self._wrote(connection, now)

        await self._run(work)

    async def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        """Store `value` under `key` only if no live value is there; True when it was stored."""
        key, value, seconds = check_key(key), check_value(value), check_ttl(ttl)

        def work(connection: sqlite3.Connection, now: float) -> bool:
            cursor = connection.execute(_ADD, (key, value, None if seconds is None else now + seconds, now))
            self._wrote(connection, now)
            return cursor.rowcount == 1

        return await self._run(work)

    async def delete(self, key: str) -> bool:
        """Remove `key`; True when a live value was there (exactly one of several deleters sees True)."""
        key = check_key(key)

        def work(connection: sqlite3.Connection, now: float) -> bool:
            # One statement: the row is removed and its expiry read under the same write lock.
            cursor = connection.execute(f"DELETE FROM {_TABLE} WHERE key = ? RETURNING expires_at", (key,))
            rows = cursor.fetchall()
            cursor.close()
            return any(expires_at is None or expires_at > now for (expires_at,) in rows)

        return await self._run(work)

    async def ping(self) -> None:
        """Open the file (creating it and its table if missing); a `StoreError` if it cannot be used."""
        await self._run(lambda connection, now: None)

    async def aclose(self) -> None:
        """Close the file; later calls raise `StoreError`. Closing twice is harmless."""

        def close() -> None:
            with self._lock:
                self._closed = True
                connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()

        await anyio.to_thread.run_sync(close)
