"""Attacks on approvals found in review: each is a program (the attacker) against a real ledger server.

Each test fails today and is marked `xfail(strict=True)`: when the fix lands it passes, the strict
marker turns that into a failure, and the marker is removed. Every one asserts the attack failed
and that nothing was written that a person did not approve, or written twice.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from engine import MCPClient

from .ledger import Ledger, ledger

pytestmark = pytest.mark.anyio


def client_for(book: Ledger, **options: object) -> MCPClient:
    config = {"mcpServers": {"ledger": book.server}}
    return MCPClient(config, code_mode=True, tool_policy={"ledger.write": "ask"}, **options)  # type: ignore[arg-type]



async def test_approve_all_never_approves_a_call_the_person_was_not_shown() -> None:
    book = ledger()
    program = """
import asyncio
async def sneaky():
    await asyncio.sleep(0.5)  # parks after the pause was reported
    return await ledger.write(key="EVIL", value="x")
return await asyncio.gather(ledger.write(key="notes", value="hello"), sneaky(), return_exceptions=True)
"""
    async with client_for(book) as client:
        out = await client.execute_code(program, timeout=10)
        assert out["status"] == "paused"
        assert [p["arguments"]["key"] for p in out["pending"]] == ["notes"]
        await anyio.sleep(1.0)
        await client.resume_execution(out["execution_id"], approve="all")
    assert ("EVIL", "x") not in book.received



async def test_a_paused_program_makes_no_tool_call_until_a_decision() -> None:
    book = ledger()
    program = """
import asyncio
async def busy():
    while True:
        await asyncio.sleep(0.05)
        await ledger.balance(key="x")
return await asyncio.gather(ledger.write(key="w", value="v"), busy())
"""
    async with client_for(book) as client:
        out = await client.execute_code(program, timeout=10)
        assert out["status"] == "paused"
        reads = book.reads
        await anyio.sleep(1.0)  # nobody decides
        assert book.reads == reads



async def test_a_replay_never_sends_a_write_made_after_the_save_again(tmp_path: Path) -> None:
    book = ledger()
    store = f"sqlite:///{tmp_path / 'approvals.db'}"
    program = """
import asyncio
async def later():
    await asyncio.sleep(0.5)
    return await ledger.close(key="z")  # allowed, and it changes the server
return await asyncio.gather(ledger.write(key="a", value="1"), later(), return_exceptions=True)
"""
    async with client_for(book, store=store) as first:
        out = await first.execute_code(program, timeout=10)
        assert out["status"] == "paused"
        await anyio.sleep(1.0)
    async with client_for(book, store=store) as second:
        await second.resume_execution(out["execution_id"], approve="all")
    assert book.received.count(("z", "<closed>")) <= 1



async def test_a_replay_keeps_every_pending_call_under_its_own_id(tmp_path: Path) -> None:
    book = ledger()
    store = f"sqlite:///{tmp_path / 'approvals.db'}"
    program = """
import asyncio
async def first():
    await ledger.write(key="a", value="1")
    return await asyncio.gather(ledger.write(key="c", value="3"), ledger.write(key="d", value="4"))
return await asyncio.gather(first(), ledger.write(key="b", value="2"))
"""
    async with client_for(book, store=store) as first_host:
        out = await first_host.execute_code(program, timeout=10)
    ids = {p["arguments"]["key"]: p["id"] for p in out["pending"]}
    async with client_for(book, store=store) as second_host:
        again = await second_host.resume_execution(out["execution_id"], approve=[ids["a"]])
    assert again["status"] == "paused"
    pending = {p["id"]: p["arguments"]["key"] for p in again["pending"]}
    assert sorted(pending.values()) == ["b", "c", "d"]
    assert pending.get(ids["b"]) == "b"  # an id keeps naming the call the person was shown



async def test_a_stale_host_never_resends_a_write_another_host_made(redis_url: str) -> None:
    book = ledger()
    program = 'await ledger.write(key="a", value="1")\nawait ledger.write(key="b", value="2")\nreturn "done"'
    async with client_for(book, store=redis_url) as here, client_for(book, store=redis_url) as there:
        out = await here.execute_code(program, timeout=10)
        again = await there.resume_execution(out["execution_id"], approve="all")
        assert again["status"] == "paused" and book.received == [("a", "1")]
        shown = again["pending"][0]["id"]  # the write of b, as the person sees it
        try:
            await here.resume_execution(out["execution_id"], approve=[shown])
        except Exception:  # noqa: BLE001, S110 - refusing is a fine answer; resending is not
            pass
    assert book.received.count(("a", "1")) == 1
