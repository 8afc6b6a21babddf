"""What every store promises, run against each: memory, a real SQLite file, a real redis-server.

Two store objects opened on one URL stand for two hosts: what one writes the other reads, and of
two racing `add`s or `delete`s on one key exactly one wins.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest

from engine import StoreError
from engine.store import Store, open_store

pytestmark = pytest.mark.anyio

_names = itertools.count()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return f"memory://contract-{next(_names)}"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    redis_url: str = request.getfixturevalue("redis_url")
    return redis_url


@pytest.fixture
def key() -> Callable[[str], str]:
    """Keys unique to this test: the session's redis-server is shared by every test."""
    prefix = f"test-{next(_names)}-"
    return lambda name: f"{prefix}{name}"


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    async with open_store(url) as opened:
        yield opened


@pytest.fixture
async def other(url: str) -> AsyncIterator[Store]:
    """A second store on the same URL: another host."""
    async with open_store(url) as opened:
        yield opened


async def test_a_value_put_is_read_back_and_replaced(store: Store, key: Callable[[str], str]) -> None:
    assert await store.get(key("a")) is None
    await store.put(key("a"), b"one")
    assert await store.get(key("a")) == b"one"
    await store.put(key("a"), b"\x00two\xff")
    assert await store.get(key("a")) == b"\x00two\xff"
    await store.put(key("empty"), b"")
    assert await store.get(key("empty")) == b""


async def test_add_sets_only_an_absent_key(store: Store, key: Callable[[str], str]) -> None:
    assert await store.add(key("a"), b"first") is True
    assert await store.add(key("a"), b"second") is False
    assert await store.get(key("a")) == b"first"


async def test_delete_says_whether_the_key_was_there(store: Store, key: Callable[[str], str]) -> None:
    assert await store.delete(key("a")) is False
    await store.put(key("a"), b"x")
    assert await store.delete(key("a")) is True
    assert await store.delete(key("a")) is False
    assert await store.get(key("a")) is None
    assert await store.add(key("a"), b"again") is True


async def test_keys_are_text_of_any_script(store: Store, key: Callable[[str], str]) -> None:
    await store.put(key("clé ключ 鍵 🔑"), b"v")
    assert await store.get(key("clé ключ 鍵 🔑")) == b"v"
    assert await store.get(key("cle")) is None


async def test_a_large_value_round_trips(store: Store, key: Callable[[str], str]) -> None:
    value = bytes(range(256)) * 8192  # 2 MiB
    await store.put(key("big"), value)
    assert await store.get(key("big")) == value


async def test_expired_keys_are_gone(store: Store, key: Callable[[str], str]) -> None:
    await store.put(key("short"), b"x", ttl=0.2)
    await store.add(key("added"), b"x", ttl=0.2)
    await store.put(key("deleted"), b"x", ttl=0.2)
    await store.put(key("long"), b"y", ttl=600)
    await store.put(key("forever"), b"z")
    assert await store.get(key("short")) == b"x"
    await anyio.sleep(0.3)
    assert await store.get(key("short")) is None
    assert await store.get(key("added")) is None
    assert await store.delete(key("deleted")) is False, "an expired key is not there to delete"
    assert await store.add(key("added"), b"new") is True, "an expired key is absent for add"
    assert await store.get(key("added")) == b"new"
    assert await store.get(key("long")) == b"y"
    assert await store.get(key("forever")) == b"z"


async def test_put_without_ttl_clears_an_earlier_ttl(store: Store, key: Callable[[str], str]) -> None:
    await store.put(key("a"), b"x", ttl=0.2)
    await store.put(key("a"), b"y")
    await anyio.sleep(0.3)
    assert await store.get(key("a")) == b"y"


async def test_a_value_put_by_one_host_is_read_by_the_other(
    store: Store, other: Store, key: Callable[[str], str]
) -> None:
    await store.put(key("a"), b"from one")
    assert await other.get(key("a")) == b"from one"
    assert await other.add(key("a"), b"from other") is False
    assert await other.delete(key("a")) is True
    assert await store.get(key("a")) is None


async def _round(first: Store, second: Store, name: str, action: str) -> list[bool]:
    """Four tasks (two per host) start together on key `name`; what each was told."""
    if action == "delete":
        await first.put(name, b"claim me")
    start = anyio.Event()
    wins: list[bool] = []

    async def contender(store: Store, value: bytes) -> None:
        await start.wait()
        wins.append(await (store.delete(name) if action == "delete" else store.add(name, value)))

    async with anyio.create_task_group() as group:
        for index, store in enumerate((first, second, first, second)):
            group.start_soon(contender, store, b"%d" % index)
        start.set()
    return wins


async def _race(first: Store, second: Store, rounds: int, action: str, key: Callable[[str], str]) -> None:
    """`rounds` times, four contenders on one key: exactly one wins each time."""
    for round_ in range(rounds):
        name = key(f"race-{round_}")
        wins = await _round(first, second, name, action)
        assert sorted(wins) == [False, False, False, True], f"round {round_}: {wins}"
        if action == "add":
            assert await first.get(name) == await second.get(name) is not None


async def test_exactly_one_of_concurrent_deleters_on_two_hosts_sees_true(
    store: Store, other: Store, key: Callable[[str], str]
) -> None:
    with anyio.fail_after(60):
        await _race(store, other, 25, "delete", key)


async def test_exactly_one_of_concurrent_adders_on_two_hosts_sees_true(
    store: Store, other: Store, key: Callable[[str], str]
) -> None:
    with anyio.fail_after(60):
        await _race(store, other, 25, "add", key)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.get(""), "must not be empty"),
        (lambda s: s.get(7), "must be a str, got int"),
        (lambda s: s.put("k", "text"), "must be bytes, got str: encode it first"),
        (lambda s: s.add("k", bytearray(b"x")), "must be bytes, got bytearray"),
        (lambda s: s.put("k", None), "must be bytes, got NoneType"),
        (lambda s: s.put("k", b"x", ttl=0), "positive number of seconds"),
        (lambda s: s.put("k", b"x", ttl=-1), "positive number of seconds"),
        (lambda s: s.put("k", b"x", ttl=float("nan")), "positive number of seconds"),
        (lambda s: s.put("k", b"x", ttl="5"), "must be a number of seconds"),
        (lambda s: s.delete("x" * 2000), "at most 1024 bytes"),
        (lambda s: s.get("\ud800"), "valid text"),
        (lambda s: s.put("k", bytes(64 * 1024 * 1024 + 1)), "at most 67108864 bytes"),
    ],
)
async def test_bad_arguments_are_store_errors_that_say_what_is_wrong(
    store: Store, call: Callable[[Store], object], message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        await call(store)  # type: ignore[misc]


async def test_a_closed_store_says_so_and_closing_twice_is_harmless(url: str, key: Callable[[str], str]) -> None:
    store = open_store(url)
    await store.put(key("a"), b"x")
    await store.aclose()
    await store.aclose()
    with pytest.raises(StoreError, match="is closed"):
        await store.get(key("a"))
    async with open_store(url) as again:
        assert await again.get(key("a")) == b"x", "closing one store keeps the shared data"
