"""The SQLite store on real files: a file that is not a database, a corrupt one, a locked one, a read-only one.

Each failure is a StoreError that names the file and the problem; a good file is unharmed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine import StoreError
from engine.store import SQLiteStore, open_store

pytestmark = pytest.mark.anyio


async def test_the_file_is_created_in_wal_mode_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with open_store(f"sqlite:///{path}") as store:
        await store.put("k", b"kept")
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    async with open_store(f"sqlite:///{path}") as store:
        assert await store.get("k") == b"kept"


async def test_two_processes_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path) as store:
        await store.put("from-test", b"hello")
        program = (
            "import anyio\n"
            "from engine.store import open_store\n"
            "async def main():\n"
            f"    async with open_store({f'sqlite:///{path}'!r}) as store:\n"
            "        assert await store.get('from-test') == b'hello'\n"
            "        assert await store.add('from-child', b'hi')\n"
            "anyio.run(main)\n"
        )
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert await store.get("from-child") == b"hi"


async def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    text = b"these are my notes, not a database\n" * 100
    path.write_bytes(text)
    store = open_store(f"sqlite:///{path}")
    with pytest.raises(StoreError, match="is not an SQLite database or is corrupt") as caught:
        await store.get("k")
    assert str(path) in str(caught.value)
    assert path.read_bytes() == text, "the file is left as it was"
    await store.aclose()


async def test_a_corrupt_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with open_store(f"sqlite:///{path}") as store:
        for index in range(200):
            await store.put(f"key-{index}", os.urandom(500))
    with sqlite3.connect(path) as check:
        check.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page, after the 100-byte header
    data[4096 * 2 : 4096 * 4] = os.urandom(4096 * 2)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="is not an SQLite database or is corrupt"):
        async with open_store(f"sqlite:///{path}") as store:
            await store.get("key-1")


async def test_a_table_of_another_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE engine_store (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(StoreError, match="belongs to something else"):
        async with open_store(f"sqlite:///{path}"):
            pass


async def test_a_missing_folder_and_a_folder_are_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder does not exist"):
        await open_store(f"sqlite:///{tmp_path}/missing/store.db").ping()
    with pytest.raises(StoreError, match="is a folder"):
        await open_store(f"sqlite:///{tmp_path}").ping()


async def test_a_file_locked_by_another_connection_is_a_store_error_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with open_store(f"sqlite:///{path}") as store:
        await store.put("k", b"before")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        async with open_store(f"sqlite:///{path}?timeout=0.2") as store:
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreError, match=r"is locked by another connection \(waited 0.2 s\)"):
                await store.put("k", b"during")
            holder.execute("ROLLBACK")
            await store.put("k", b"after")
            assert await store.get("k") == b"after"
    finally:
        holder.close()


def _make_read_only(path: Path) -> None:
    """Make `path` unwritable, also for root (who ignores file modes): then the file is made immutable."""
    os.chmod(path, 0o444)
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"running as root and chattr +i is not permitted here: {done.stderr.strip()}")


def _make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    os.chmod(path, 0o644)


async def test_a_read_only_file_is_a_store_error_and_stays_unharmed(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with open_store(f"sqlite:///{path}") as store:
        await store.put("k", b"old")
    before = path.read_bytes()
    _make_read_only(path)
    try:
        store = open_store(f"sqlite:///{path}")
        with pytest.raises(StoreError, match="is read-only"):
            await store.put("k", b"new")
            await store.delete("k")
        await store.aclose()
        assert path.read_bytes() == before
    finally:
        _make_writable(path)
    async with open_store(f"sqlite:///{path}") as store:
        assert await store.get("k") == b"old"
