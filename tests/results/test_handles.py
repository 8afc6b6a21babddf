"""The handle registry on its own: ids, scope, expiry, the memory bound, and a durable store
(a real SQLite file) shared between two registries, guarded by the allow-list."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.results import HandleRegistry
from engine.store import SQLiteStore, open_store

pytestmark = pytest.mark.anyio


async def test_ids_are_opaque_and_distinct_and_a_part_can_be_opened() -> None:
    registry = HandleRegistry()
    value = {"rows": [{"n": i} for i in range(50)], "name": "x"}
    ids = {(await registry.keep(value, scope=None, servers=[], source="result"))["id"] for _ in range(200)}
    assert len(ids) == 200 and all(i.startswith("h_") and len(i) == 24 for i in ids)
    handle = next(iter(ids))
    assert await registry.open(handle, scope=None, allowed=None, path=["rows"], start=48) == [{"n": 48}, {"n": 49}]
    assert await registry.open(handle, scope=None, allowed=None, path=["rows", 3, "n"]) == 3
    with pytest.raises(LookupError, match="has no key 'nope'"):
        await registry.open(handle, scope=None, allowed=None, path=["nope"])
    with pytest.raises(LookupError, match="no index 99"):
        await registry.open(handle, scope=None, allowed=None, path=["rows", 99])


async def test_another_scope_cannot_open_it_and_cannot_tell_it_exists() -> None:
    registry = HandleRegistry()
    handle = (await registry.keep([1, 2], scope="alice", servers=[], source="result"))["id"]
    with pytest.raises(LookupError) as theirs:
        await registry.open(handle, scope="mallory", allowed=None)
    with pytest.raises(LookupError) as forged:
        await registry.open("h_" + "B" * 22, scope="mallory", allowed=None)
    assert str(theirs.value).replace(handle, "H") == str(forged.value).replace("h_" + "B" * 22, "H")


async def test_memory_is_bounded_and_reported() -> None:
    registry = HandleRegistry(max_bytes=10_000)
    handles = [(await registry.keep("x" * 3_000, scope=None, servers=[], source="result"))["id"] for _ in range(5)]
    stats = registry.stats()
    assert stats["bytes"] <= 10_000 and stats["handles"] == 3 and stats["evicted"] == 2
    with pytest.raises(LookupError):
        await registry.open(handles[0], scope=None, allowed=None)
    assert await registry.open(handles[-1], scope=None, allowed=None) == "x" * 3_000
    too_big = await registry.keep("y" * 20_000, scope=None, servers=[], source="result")
    assert too_big["kept"] is False and "id" not in too_big


async def test_expired_handles_are_dropped() -> None:
    registry = HandleRegistry(ttl=0.0)
    handle = (await registry.keep([1], scope=None, servers=[], source="result"))["id"]
    with pytest.raises(LookupError, match="unknown or expired"):
        await registry.open(handle, scope=None, allowed=None)
    assert registry.stats()["bytes"] == 0


async def test_a_durable_store_shares_handles_with_executions_allowed_their_servers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'handles.db'}"
    maker, other = HandleRegistry(open_store(url)), HandleRegistry(open_store(url))
    assert isinstance(maker._store, SQLiteStore) and maker.shared
    handle = (await maker.keep({"a": 1}, scope="s1", servers=["crm"], source="result"))["id"]
    assert await other.open(handle, scope="s2", allowed=["crm", "mail"]) == {"a": 1}
    assert await other.open(handle, scope="s2", allowed=None) == {"a": 1}
    with pytest.raises(PermissionError, match="crm"):
        await other.open(handle, scope="s2", allowed=["mail"])
    assert await other.open(handle, scope="s1", allowed=["mail"]) == {"a": 1}  # its own session


async def test_a_corrupt_record_in_the_store_is_refused(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'handles.db'}")
    registry = HandleRegistry(store)
    handle = "h_" + "C" * 22
    await store.put("result-handle:" + handle, b"\xc1garbage")
    with pytest.raises(LookupError, match="corrupt"):
        await registry.open(handle, scope=None, allowed=None)


@pytest.mark.parametrize(("handle", "kind"), [(42, TypeError), ("h_short", ValueError), ("../../etc", ValueError)])
async def test_malformed_handles_are_refused(handle: object, kind: type[Exception]) -> None:
    with pytest.raises(kind):
        await HandleRegistry().open(handle, scope=None, allowed=None)
