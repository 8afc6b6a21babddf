"""Findings 1 and 2 of issue 14: a server whose tool list is wrong, or that never finishes its
handshake, is that server's problem only; programs on healthy servers run, within their timeout."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from engine import MCPClient
from engine.codemode.mode import LOAD_SHARE
from tests.conftest import toy_server
from tests.faults.servers import bad_stdio_entry, listing_server, tool

pytestmark = pytest.mark.anyio


async def test_a_server_listing_a_tool_twice_breaks_neither_itself_nor_others() -> None:
    bad = listing_server("bad", [tool("dup"), tool("dup"), tool("ok")])
    config: dict[str, Any] = {"mcpServers": {"bad": bad, "toy": toy_server()}}
    async with MCPClient(config, code_mode=True) as client:
        with anyio.fail_after(60):
            healthy = await client.execute_code("return await toy.add(a=1, b=2)")
            same = await client.execute_code("return [await bad.dup(), await bad.ok(), __tool_namespaces['bad']]")
    assert healthy["error"] is None and healthy["result"] == 3
    assert same["error"] is None, same["error"]
    assert same["result"] == ["bad.dup", "bad.ok", ["dup", "ok"]]


@pytest.fixture
def silent_http() -> Iterator[str]:
    """An HTTP endpoint that accepts connections, reads what is sent and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_server_that_never_finishes_its_handshake_does_not_hold_a_program_past_its_timeout(
    transport: str, silent_http: str
) -> None:
    # The mute server's connect timeout (60 s) is far past the programs' timeout: before, every
    # program waited for it until its own timeout and then ran for its full timeout again.
    mute = bad_stdio_entry("mute", connect_timeout=60) if transport == "stdio" else {
        "url": silent_http, "connect_timeout": 60
    }
    config: dict[str, Any] = {"mcpServers": {"mute": mute, "toy": toy_server()}}
    timeout = 4.0
    async with MCPClient(config, code_mode=True) as client:
        outs: list[dict[str, Any]] = []

        async def run(code: str) -> None:
            outs.append(await client.execute_code(code, timeout=timeout))

        # A bound on a hang, not a speed: four concurrent programs all end within about one timeout.
        with anyio.fail_after(timeout * 3):
            async with anyio.create_task_group() as group:
                for _ in range(4):
                    group.start_soon(run, "return await toy.add(a=2, b=3)")
                group.start_soon(run, "return await mute.anything()")
            again = await client.execute_code("return await toy.add(a=1, b=1)", timeout=timeout)
        states = {state.server: state.state for state in client.code_mode_engine().states()}
    outs.sort(key=lambda out: out["error"] is None)
    failed, healthy = outs[0], outs[1:]
    for out in healthy:
        assert out["error"] is None and out["result"] == 5, out["error"]
        # Whatever they waited for (the toy server loading) came out of their own timeout.
        assert out["usage"]["limits"]["timeout"] <= timeout
    # A program on the healthy server never waits for the mute one: its timeout is whole.
    assert again["result"] == 2 and again["usage"]["limits"]["timeout"] == timeout
    assert states == {"mute": "connecting", "toy": "connected"}
    # The program that names the mute server waited for it, out of its own timeout, and was told why.
    assert failed["usage"]["limits"]["timeout"] <= timeout * (1 - LOAD_SHARE) + 0.01
    assert failed["error_info"]["type"] in ("ToolError", "NameError"), failed["error"]
    assert "server 'mute' is unavailable" in failed["error"] and "still starting" in failed["error"]
