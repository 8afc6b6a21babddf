"""Finding 6 of issue 14: a flood of `tools/list_changed` never hides a server from a program, never
shows it a stale listing, and costs a bounded number of `tools/list` calls (counted by the server).

The server is `tests/faults/flood.py`, in this process and over stdio. Before the fix, a notice
that landed between loading a server and building the program's names dropped the listing: the
first program of every fresh client of an announcing server got `NameError: name 'flood' is not
defined`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import pytest

from engine import MCPClient
from tests.conftest import _serve, free_port, toy_server
from tests.faults.flood import FLOOD, flood_entry, flood_server

pytestmark = pytest.mark.anyio


@contextmanager
def flood_http(after_list: int = 0) -> Iterator[dict[str, Any]]:
    """The flood server over streamable HTTP, in a process of its own: its config entry."""
    port = free_port()
    for _ in _serve([sys.executable, str(FLOOD), str(after_list), str(port)], port):
        yield {"url": f"http://127.0.0.1:{port}/mcp"}


@contextmanager
def served(transport: str, after_list: int = 0) -> Iterator[Any]:
    if transport == "http":
        with flood_http(after_list) as entry:
            yield entry
    else:
        yield flood_server(after_list=after_list) if transport == "in-process" else flood_entry(after_list)


TRANSPORTS = ["http", "in-process", "stdio"]


@pytest.mark.parametrize(("transport", "clients"), [("http", 3), ("in-process", 6), ("stdio", 3)])
async def test_the_first_program_of_every_fresh_client_sees_a_server_that_keeps_announcing(
    transport: str, clients: int
) -> None:
    for _ in range(clients):
        with served(transport, after_list=200) as flood:
            config: dict[str, Any] = {"mcpServers": {"flood": flood, "toy": toy_server()}}
            async with MCPClient(config, code_mode=True) as client:
                with anyio.fail_after(60):
                    first = await client.execute_code("return [await flood.ping(), await toy.add(a=1, b=2)]")
                    again = await client.execute_code("return sorted(tool_namespaces['flood'])")
        assert first["error"] is None, first["error"]
        assert first["result"] == ["pong", 3]
        assert again["error"] is None, again["error"]
        assert again["result"] == ["grow", "lists", "ping"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_flood_of_notices_costs_at_most_two_listings_and_every_program_sees_the_new_tool(
    transport: str,
) -> None:
    with served(transport) as flood:
        config: dict[str, Any] = {"mcpServers": {"flood": flood}}
        async with MCPClient(config, code_mode=True) as client:
            with anyio.fail_after(90):
                before = await client.execute_code("return await flood.lists()")
                grown = await client.execute_code("return await flood.grow(n=1000)")
                session = client.get_session("flood")
                while session.tools:  # a notice has arrived (it drops the session's own copy)
                    await anyio.sleep(0.01)
                # Twenty programs at once, each the first to need the changed listing: they share it.
                outs = await asyncio.gather(*(client.execute_code("return await flood.v1()") for _ in range(20)))
                after = await client.execute_code("return await flood.lists()")
                # The flood did not end the change notices: one more change is still seen.
                await client.execute_code("return await flood.grow(n=1)")
                seen = False
                while not seen:
                    seen = (await client.execute_code("return 'v2' in tool_namespaces['flood']"))["result"]
                later = await client.execute_code("return await flood.v2()")
    assert grown["result"] == "v1"
    assert [out["error"] for out in outs] == [None] * 20
    assert [out["result"] for out in outs] == ["v1"] * 20
    # One listing for the change; a second only if some notices arrived after it had started.
    assert 1 <= after["result"] - before["result"] <= 2
    assert later["error"] is None and later["result"] == "v2"


async def test_a_server_that_announces_after_every_listing_costs_one_listing_per_program_at_most() -> None:
    # Each listing provokes 50 more notices: refreshing on every notice would never end. Programs
    # refresh only what they need, so the listings follow the programs, not the notices.
    flood = flood_server(after_list=50)
    config: dict[str, Any] = {"mcpServers": {"flood": flood, "toy": toy_server()}}
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(90):
            for _ in range(10):
                out = await client.execute_code("return await flood.ping()")
                assert out["error"] is None, out["error"]
            healthy = await client.execute_code("return await toy.add(a=2, b=2)")  # does not name flood
            lists = flood.lists
            assert healthy["result"] == 4
    # The client's own first listing, then at most two per program (one started before its last notice).
    assert lists <= 1 + 2 * 10


async def test_a_program_on_another_server_never_waits_for_a_refresh() -> None:
    flood = flood_server()
    config: dict[str, Any] = {"mcpServers": {"flood": flood, "toy": toy_server()}}
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(60):
            assert (await client.execute_code("return await flood.grow(n=10)"))["result"] == "v1"
            lists = flood.lists
            healthy = await client.execute_code("return await toy.add(a=1, b=1)")
            # The healthy program did not list flood again; the stubs keep its last complete listing.
            assert flood.lists == lists
            stubs = client.code_mode_engine().stubs()
    assert healthy["error"] is None and healthy["result"] == 2
    assert "class flood:" in stubs and "async def ping(" in stubs
