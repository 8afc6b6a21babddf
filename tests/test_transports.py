"""Remote transports on 127.0.0.1: streamable HTTP and SSE, to the toy server and to server-everything."""

from __future__ import annotations

import anyio
import pytest

from engine import HttpConnector, MCPClient, MCPSession, ServerStartError

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("transport", ["streamable_http", "auto"])
async def test_toy_server_over_streamable_http(toy_http_url: str, transport: str) -> None:
    async with MCPSession(HttpConnector("toy", toy_http_url, transport=transport)) as session:
        with anyio.fail_after(30):
            info = await session.initialize()
            assert info["name"] == "toy"
            result = await session.call_tool("add", {"a": 20, "b": 22})
            assert result.structured_content == {"result": 42}


@pytest.mark.parametrize("transport", ["sse", "auto"])
async def test_toy_server_over_sse_including_auto_detection(toy_sse_url: str, transport: str) -> None:
    async with MCPSession(HttpConnector("toy", toy_sse_url, transport=transport)) as session:
        with anyio.fail_after(30):
            await session.initialize()
            result = await session.call_tool("echo", {"text": "over sse"})
            assert result.content[0].text == "over sse"  # type: ignore[union-attr]


async def test_server_everything_over_streamable_http_and_sse(
    everything_http_url: str, everything_sse_url: str
) -> None:
    config = {
        "mcpServers": {
            "http": {"url": everything_http_url, "transport": "streamable-http"},
            "sse": {"url": everything_sse_url, "type": "sse"},
        }
    }
    async with MCPClient(config) as client:
        with anyio.fail_after(60):
            sessions = await client.create_all_sessions()
            for name in ("http", "sse"):
                result = await sessions[name].call_tool("get-sum", {"a": 2, "b": 3})
                assert "5" in result.content[0].text  # type: ignore[union-attr]


async def test_nothing_listening_is_a_start_error_naming_both_transports() -> None:
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/mcp"
    session = MCPSession(HttpConnector("nowhere", url, connect_timeout=10))
    with anyio.fail_after(30), pytest.raises(ServerStartError) as info:
        await session.connect()
    message = str(info.value)
    assert "server 'nowhere'" in message and "streamable HTTP" in message and "SSE" in message
