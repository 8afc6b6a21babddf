"""Replay from the durable log: when the paused program is gone, `resume_execution` runs it again,
answering from the log, and never sends a write twice.

Real stores: a SQLite file (a "restart": the client that paused is closed and a new one resumes)
and a real `redis-server` shared by two clients open at once (the resume reaches another host).
The ledger server counts its reads and writes.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import anyio
import pytest

from engine import MCPClient
from engine.errors import ApprovalError, StoreError
from engine.store import open_store

from .ledger import Ledger, ledger
from .test_pause import PROGRAM

pytestmark = pytest.mark.anyio


def client_for(book: Ledger, store: str, **options: Any) -> MCPClient:
    config = {"mcpServers": {"ledger": book.server}}
    return MCPClient(config, code_mode=True, tool_policy={"ledger.write": "ask"}, store=store, **options)


async def test_a_restart_with_sqlite_replays_the_log_and_sends_only_the_approved_write(tmp_path: Path) -> None:
    book = ledger()
    store = f"sqlite:///{tmp_path / 'approvals.db'}"
    async with client_for(book, store) as first:
        out = await first.execute_code(PROGRAM)
        assert out["status"] == "paused", out
    assert book.reads == 1 and book.received == []  # the first host is gone, its program with it
    pending = {p["arguments"]["key"]: p["id"] for p in out["pending"]}
    async with client_for(book, store) as second:
        done = await second.resume_execution(out["execution_id"], approve=[pending["b"]], reject=[pending["a"]])
    assert done["status"] == "ok", done
    assert book.received == [("b", "2")]  # exactly the approved write, once
    assert book.reads == 1  # the read was answered from the log, not sent again
    assert done["result"][1] == "wrote b" and done["result"][0].startswith("ToolError")


async def test_two_clients_sharing_redis_resume_once_between_them(redis_url: str) -> None:
    book = ledger()
    async with client_for(book, redis_url) as here, client_for(book, redis_url) as there:
        out = await here.execute_code(PROGRAM)
        assert out["status"] == "paused", out
        done = await there.resume_execution(out["execution_id"], approve="all")
        assert done["status"] == "ok", done
        assert sorted(book.received) == [("a", "1"), ("b", "2")]
        with pytest.raises(ApprovalError, match="already resumed by another host"):
            await here.resume_execution(out["execution_id"], approve="all")
        with pytest.raises(ApprovalError, match="no paused execution"):
            await there.resume_execution(out["execution_id"], approve="all")
    assert sorted(book.received) == [("a", "1"), ("b", "2")]  # no write twice
    assert book.reads == 1


async def test_a_replay_that_diverges_stops_naming_the_first_difference(tmp_path: Path) -> None:
    book = ledger()
    store = f"sqlite:///{tmp_path / 'approvals.db'}"
    program = """
import datetime
key = datetime.datetime.now().isoformat()
await ledger.balance(key=key)
await ledger.write(key="w", value=key)
return key
"""
    async with client_for(book, store) as first:
        out = await first.execute_code(program)
        assert out["status"] == "paused", out
    async with client_for(book, store) as second:
        done = await second.resume_execution(out["execution_id"], approve="all")
    assert done["status"] == "error", done
    assert done["error_info"]["type"] == "ReplayError"
    assert "ledger.balance" in done["error"] and "where the log has" in done["error"]
    assert book.received == []


async def test_a_forgotten_pause_ends_after_the_approval_timeout(tmp_path: Path) -> None:
    book = ledger()
    async with client_for(book, f"sqlite:///{tmp_path / 'a.db'}", approval_timeout=0.3) as client:
        out = await client.execute_code('await ledger.write(key="k", value="v")')
        assert out["status"] == "paused"
        await anyio.sleep(0.8)
        with pytest.raises(ApprovalError, match="approval timeout"):
            await client.resume_execution(out["execution_id"], approve="all")
        again = await client.execute_code("return 'still serving'")
        assert again["result"] == "still serving"
    async with client_for(book, f"sqlite:///{tmp_path / 'a.db'}") as other:  # nothing left to replay
        with pytest.raises(ApprovalError, match="no paused execution"):
            await other.resume_execution(out["execution_id"], approve="all")
    assert book.received == []


async def test_a_corrupt_record_is_a_store_error_and_sends_nothing(tmp_path: Path) -> None:
    book = ledger()
    store = f"sqlite:///{tmp_path / 'approvals.db'}"
    async with client_for(book, store) as first:
        out = await first.execute_code('await ledger.write(key="k", value="v")')
        assert out["status"] == "paused"
    async with open_store(store) as raw:
        await raw.put("engine:approval:" + out["execution_id"], b"\x93not a record")
    async with client_for(book, store) as second:
        with pytest.raises(StoreError, match="corrupt"):
            await second.resume_execution(out["execution_id"], approve="all")
    assert book.received == []


async def test_an_unreachable_store_is_a_clear_error() -> None:
    book = ledger()
    async with client_for(book, "redis://127.0.0.1:1/0") as client:
        with pytest.raises(StoreError, match="cannot reach"):
            await client.resume_execution("ex_whatever", approve="all")
        # A pause that cannot be saved is not a pause: the program is stopped, the write not sent.
        with pytest.raises(StoreError, match="cannot reach"):
            await client.execute_code('await ledger.write(key="k", value="v")')
        assert (await client.execute_code("return 2"))["result"] == 2
    assert book.received == []


async def test_a_worker_killed_while_paused_is_replayed_from_the_store(tmp_path: Path) -> None:
    book = ledger()
    store = f"sqlite:///{tmp_path / 'approvals.db'}"
    async with client_for(book, store, executor="process") as client:
        out = await client.execute_code(PROGRAM)
        assert out["status"] == "paused", out
        executor = client.code_mode_engine().executor
        for pid in executor.pids:  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)  # the paused program dies with its worker
        suspensions = client.code_mode_engine().approvals.suspensions
        with anyio.fail_after(30):
            while suspensions.holds(out["execution_id"]):  # until the host sees the worker is gone
                await anyio.sleep(0.02)
        done = await client.resume_execution(out["execution_id"], approve="all")
    assert done["status"] == "ok", done
    assert sorted(book.received) == [("a", "1"), ("b", "2")]  # each write once
    assert book.reads == 1  # the read answered from the log


async def test_random_numbers_are_the_same_on_replay_so_it_does_not_diverge(
    tmp_path: Path, executor_kwargs: dict[str, Any]
) -> None:
    book = ledger()
    store = f"sqlite:///{tmp_path / 'approvals.db'}"
    program = """
import random
key = str(random.random())
await ledger.balance(key=key)
await ledger.write(key="w", value=key)
return key
"""
    async with client_for(book, store, **executor_kwargs) as first:
        out = await first.execute_code(program)
        assert out["status"] == "paused", out
        key = out["pending"][0]["arguments"]["value"]
    async with client_for(book, store, **executor_kwargs) as second:
        done = await second.resume_execution(out["execution_id"], approve="all")
    assert done["status"] == "ok", done
    assert done["result"] == key
    assert book.received == [("w", key)] and book.reads == 1
