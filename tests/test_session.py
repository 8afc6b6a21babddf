"""MCPSession against a real MCP server: every seed method, concurrency and failures.

The toy server runs in this process where the transport is not the point, and over stdio for
what depends on a subprocess: a command that does not exist or exits at start (with its stderr),
a handshake that never comes, a crash mid-call.
"""

from __future__ import annotations

import datetime
import sys
from typing import Any

import anyio
import pytest
from pydantic import AnyUrl

from engine import (
    InProcessConnector,
    MCPSession,
    ServerCrashedError,
    ServerStartError,
    ServerTimeoutError,
    SessionState,
    SessionStateError,
    StdioConnector,
)
from tests.conftest import TOY, toy_server

pytestmark = pytest.mark.anyio


def toy(*extra: str, connect_timeout: float = 30.0, request_timeout: float | None = 30.0) -> StdioConnector:
    return StdioConnector(
        "toy", sys.executable, [str(TOY), "stdio", *extra],
        connect_timeout=connect_timeout, request_timeout=request_timeout,
    )


def in_process(request_timeout: float | None = 30.0) -> InProcessConnector:
    return InProcessConnector("toy", toy_server(), request_timeout=request_timeout)


async def test_connect_initialize_and_disconnect() -> None:
    session = MCPSession(in_process(), auto_connect=False)
    assert not session.is_connected and session.state is SessionState.UNOPENED
    with pytest.raises(SessionStateError, match="not connected; call connect"):
        await session.list_tools()
    with anyio.fail_after(30):
        await session.connect()
        assert session.is_connected
        info = await session.initialize()
        assert info["name"] == "toy"
        assert info["instructions"] == "A toy server for engine's tests."
        assert "tools" in info["capabilities"]
        assert {t.name for t in session.tools} >= {"add", "echo", "fail"}
        await session.disconnect()
    assert not session.is_connected and session.state is SessionState.CLOSED
    await session.disconnect()  # idempotent


async def test_auto_connect_on_first_request_and_call_tool_variants() -> None:
    async with MCPSession(in_process()) as session:
        with anyio.fail_after(30):
            tools = await session.list_tools()
            assert "add" in {t.name for t in tools}
            result = await session.call_tool("add", {"a": 2, "b": 40})
            assert result.structured_content == {"result": 42} and not result.is_error
            timed = await session.call_tool("echo", {"text": "hi", "times": 2}, datetime.timedelta(seconds=5))
            assert timed.content[0].text == "hi hi"  # type: ignore[union-attr]
            failed = await session.call_tool("fail", {"message": "nope"})
            assert failed.is_error and "nope" in failed.content[0].text  # type: ignore[union-attr]


async def test_resources_and_prompts() -> None:
    async with MCPSession(in_process()) as session:
        with anyio.fail_after(30):
            resources = await session.list_resources()
            assert [str(r.uri) for r in resources] == ["info://server"]
            read = await session.read_resource(AnyUrl("info://server"))
            assert read.contents[0].text == "toy server"  # type: ignore[union-attr]
            await session.call_tool("put_note", {"key": "k", "text": "hello"})
            templated = await session.read_resource("note://k")
            assert templated.contents[0].text == "hello"  # type: ignore[union-attr]
            prompts = await session.list_prompts()
            assert [p.name for p in prompts] == ["greet"]
            prompt = await session.get_prompt("greet", {"name": "Ada"})
            assert prompt.messages[0].content.text == "Hello, Ada!"  # type: ignore[union-attr]


async def test_many_concurrent_calls_on_one_session_run_in_parallel() -> None:
    async with MCPSession(in_process()) as session:
        await session.list_tools()
        results: list[str] = []

        async def one(i: int) -> None:
            r = await session.call_tool("echo", {"text": f"n{i}"})
            results.append(r.content[0].text)  # type: ignore[union-attr]

        met: list[Any] = []

        async def meet() -> None:
            met.append((await session.call_tool("meet", {"n": 10})).structured_content)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for i in range(50):
                    tg.start_soon(one, i)
            assert sorted(results) == sorted(f"n{i}" for i in range(50))
            # `meet` answers once ten calls wait in the server together: one call at a time, none would meet.
            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(meet)
            assert met == [{"met": True, "most_waiting": 10}] * 10


async def test_a_command_that_does_not_exist_is_a_clear_start_error() -> None:
    session = MCPSession(StdioConnector("ghost", "/nonexistent/mcp-server-ghost"))
    with anyio.fail_after(30), pytest.raises(ServerStartError, match="server 'ghost'.*could not connect"):
        await session.connect()
    assert session.state is SessionState.FAILED


async def test_a_server_that_exits_at_start_names_the_server_and_shows_its_stderr() -> None:
    session = MCPSession(toy("--crash-at-start", connect_timeout=20))
    with anyio.fail_after(30), pytest.raises(ServerStartError) as info:
        await session.connect()
    assert "server 'toy'" in str(info.value)
    assert "refusing to start" in str(info.value)


async def test_a_server_that_never_answers_the_handshake_times_out() -> None:
    silent = StdioConnector("silent", sys.executable, ["-c", "import time; time.sleep(60)"], connect_timeout=1.0)
    session = MCPSession(silent)
    # The message says which bound applied: the connector's 1 s, not the 20 s hang bound here.
    with anyio.fail_after(20), pytest.raises(ServerTimeoutError, match="server 'silent': did not start within 1s"):
        await session.connect()


async def test_a_hanging_tool_times_out_and_the_session_keeps_working() -> None:
    async with MCPSession(in_process(request_timeout=0.5)) as session:
        with anyio.fail_after(30):
            with pytest.raises(ServerTimeoutError, match="server 'toy': tools/call got no answer within 0.5s"):
                await session.call_tool("hang", {})
            with pytest.raises(ServerTimeoutError, match="within 0.25s"):
                await session.call_tool("hang", {}, read_timeout_seconds=0.25)
            assert (await session.call_tool("add", {"a": 1, "b": 1})).structured_content == {"result": 2}


async def test_a_crash_mid_call_fails_that_session_only_and_a_new_one_works() -> None:
    crashing, healthy = MCPSession(toy()), MCPSession(in_process())
    with anyio.fail_after(30):
        await crashing.connect()
        await healthy.connect()
        with pytest.raises(ServerCrashedError, match="server 'toy': connection lost during tools/call"):
            await crashing.call_tool("crash", {})
        assert crashing.state is SessionState.FAILED
        with pytest.raises(ServerCrashedError, match="create a new session"):
            await crashing.call_tool("add", {"a": 1, "b": 2})
        assert (await healthy.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
        await crashing.disconnect()
        again = MCPSession(toy())
        async with again:
            assert (await again.call_tool("add", {"a": 2, "b": 2})).structured_content == {"result": 4}
        await healthy.disconnect()


async def test_tool_list_changes_are_announced_to_listeners() -> None:
    changed = anyio.Event()
    async with MCPSession(in_process()) as session:
        session.add_tools_changed_listener(lambda s: changed.set())
        with anyio.fail_after(30):
            before = {t.name for t in await session.list_tools()}
            await session.call_tool("add_tool", {"name": "brand_new"})
            await changed.wait()
            assert session.tools == []  # the cache was dropped
            after = {t.name for t in await session.list_tools()}
            assert after - before == {"brand_new"}


async def test_a_disconnected_session_connects_again_as_in_mcp_use() -> None:
    session = MCPSession(in_process())
    with anyio.fail_after(30):
        async with session:
            assert (await session.call_tool("add", {"a": 1, "b": 1})).structured_content == {"result": 2}
        assert session.state is SessionState.CLOSED
        with pytest.raises(RuntimeError, match="closed; call connect"):  # a SessionStateError
            await session.call_tool("add", {"a": 1, "b": 1})
        await session.connect()
        assert session.is_connected
        assert (await session.initialize())["name"] == "toy"
        assert (await session.call_tool("add", {"a": 2, "b": 2})).structured_content == {"result": 4}
        await session.disconnect()
        async with session:  # and once more, as a context manager
            assert session.is_connected
    assert session.state is SessionState.CLOSED


async def test_a_session_whose_server_crashed_connects_again_to_a_new_process() -> None:
    session = MCPSession(toy())
    with anyio.fail_after(30):
        await session.connect()
        with pytest.raises(ServerCrashedError):
            await session.call_tool("crash", {})
        assert session.state is SessionState.FAILED
        with pytest.raises(ServerCrashedError, match="call connect"):
            await session.call_tool("add", {"a": 1, "b": 2})
        await session.connect()
        assert session.is_connected
        assert (await session.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
        await session.disconnect()
