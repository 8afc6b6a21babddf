"""`open_store` turns a URL into the right store, and a bad URL into a StoreError that lists the accepted forms."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import StoreError
from engine.store import MemoryStore, RedisStore, SQLiteStore, open_store

pytestmark = pytest.mark.anyio


def test_none_and_memory_urls_give_memory_stores() -> None:
    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store("memory://"), MemoryStore)
    assert open_store("memory://named").url == "memory://named"


def test_sqlite_urls_name_relative_and_absolute_files(tmp_path: Path) -> None:
    relative = open_store("sqlite:///data/store.db")
    assert isinstance(relative, SQLiteStore)
    assert relative.path == os.path.abspath("data/store.db")
    absolute = open_store(f"sqlite:///{tmp_path}/store.db")
    assert isinstance(absolute, SQLiteStore)
    assert absolute.path == str(tmp_path / "store.db")


def test_redis_urls_give_host_port_database_and_password() -> None:
    store = open_store("redis://:s3cret@example.org:6380/2?timeout=1.5")
    assert isinstance(store, RedisStore)
    assert (store.host, store.port, store.db) == ("example.org", 6380, 2)
    assert store.url == "redis://:***@example.org:6380/2"
    plain = open_store("redis://localhost")
    assert isinstance(plain, RedisStore)
    assert (plain.host, plain.port, plain.db, plain.url) == ("localhost", 6379, 0, "redis://localhost:6379/0")
    user = open_store("redis://alice:p%40ss@[::1]:7000/0")
    assert user.url == "redis://alice:***@[::1]:7000/0"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgres://host/db", "the scheme postgres:// is not supported"),
        ("rediss://host:6379/0", "TLS"),
        ("store.db", "no scheme"),
        ("", "no scheme"),
        ("sqlite://", "names no file"),
        ("sqlite:///", "names no file"),
        ("sqlite://host/file.db", "has no host"),
        ("sqlite:///:memory:", "use memory://"),
        ("redis://:6379/0", "names no host"),
        ("redis://host:99999/0", "out of range"),
        ("redis://host:port/0", "port"),
        ("redis://host:6379/zero", "is not a number"),
        ("redis://host:6379/0?db=3", "option 'db' is unknown"),
        ("redis://host:6379/0?timeout=soon", "is not a number of seconds"),
        ("redis://host:6379/0#frag", "fragment"),
        ("memory://x/y", "no path"),
    ],
)
def test_a_bad_url_is_a_store_error_naming_the_problem_and_the_accepted_forms(url: str, reason: str) -> None:
    with pytest.raises(StoreError, match=reason) as caught:
        open_store(url)
    assert "Accepted forms: memory://" in str(caught.value)
    assert "sqlite:///relative/path.db" in str(caught.value) and "redis://host:port/db" in str(caught.value)


def test_a_bad_timeout_is_refused() -> None:
    with pytest.raises(StoreError, match="timeout must be a positive number"):
        open_store("redis://host:6379/0?timeout=0")
    with pytest.raises(StoreError, match="timeout must be a positive number"):
        open_store("sqlite:///x.db", timeout=-1)


def test_a_url_that_is_not_text_is_refused() -> None:
    with pytest.raises(StoreError, match="must be a str or None, got bytes"):
        open_store(b"memory://")  # type: ignore[arg-type]


def test_the_password_is_never_in_a_message_or_repr() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("redis://:hunter2@host:6379/x")
    assert "hunter2" not in str(caught.value) and ":***@" in str(caught.value)
    with pytest.raises(StoreError) as caught:
        open_store("redis://bob:hunter2@host:6379/0?nope=1")
    assert "hunter2" not in str(caught.value)
    store = open_store("redis://bob:hunter2@host:6379/0")
    assert "hunter2" not in repr(store) and "hunter2" not in store.url


async def test_memory_stores_of_one_name_share_and_others_do_not() -> None:
    async with open_store("memory://share-a") as one, open_store("memory://share-a") as two:
        await one.put("k", b"v")
        assert await two.get("k") == b"v"
        async with open_store("memory://share-b") as elsewhere:
            assert await elsewhere.get("k") is None
    assert await MemoryStore().get("k") is None, "a store made directly has data of its own"
