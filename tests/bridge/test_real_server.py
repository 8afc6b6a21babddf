"""Stubs -> frames -> dispatcher -> a real in-process MCP server (`MCPServer`), and back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import mcp
import mcp.types as types
import pytest
from mcp.server.mcpserver import Image, MCPServer

from engine.bridge.dispatcher import HostDispatcher
from engine.errors import ToolError
from engine.kernel.stubs import Namespace, build_namespaces
from engine.limits import Limits
from engine.stubs import namespace_identifier, specs_for_server

pytestmark = pytest.mark.anyio


def make_server() -> MCPServer:
    server = MCPServer("demo-server")

    @server.tool()
    def add(a: int, b: int = 2) -> dict[str, int]:
        """Add two numbers."""
        return {"sum": a + b}

    @server.tool(name="tiny-pixel")
    def pixel() -> Image:
        """A one-pixel image."""
        return Image(data=b"\x89PNG", format="png")

    @server.tool()
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    @server.tool()
    def squares(n: int) -> list[int]:
        """The first n squares."""
        return [i * i for i in range(n)]

    @server.tool()
    def wrapped() -> dict[str, int]:
        """Really returns an object with a `result` key."""
        return {"result": 5}

    @server.tool()
    def broken(reason: str) -> str:
        """Always fails."""
        raise mcp.server.mcpserver.exceptions.ToolError(f"cannot do it: {reason}")

    return server


class ClientBackend:
    """A `ToolBackend` over one `mcp.Client`, as the lead's MCPSession-based one will be."""

    def __init__(self, server: str, client: mcp.Client) -> None:
        self.server = server
        self.client = client

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        assert server == self.server
        return await self.client.call_tool(tool, arguments)

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        return {"results": []}


@pytest.fixture
async def demo() -> AsyncIterator[tuple[Namespace, HostDispatcher]]:
    with anyio.fail_after(10):
        async with mcp.Client(make_server()) as client:
            tools = (await client.list_tools()).tools
            dispatcher = HostDispatcher(ClientBackend("demo-server", client), limits=Limits())
            identifier = namespace_identifier("demo-server")
            specs = {identifier: specs_for_server("demo-server", tools)}
            namespaces = build_namespaces(specs, dispatcher.handle, tool_error=ToolError)
            yield namespaces[identifier], dispatcher


async def test_a_dict_result_arrives_as_its_structured_content(demo: tuple[Namespace, HostDispatcher]) -> None:
    ns, dispatcher = demo
    with anyio.fail_after(5):
        assert await ns.add(a=1) == {"sum": 3}
        assert await ns.add(a=1, b=5) == {"sum": 6}
    assert [r["outcome"] for r in dispatcher.trace] == ["ok", "ok"]


async def test_sdk_wrapped_plain_returns_arrive_bare(demo: tuple[Namespace, HostDispatcher]) -> None:
    ns, _ = demo
    with anyio.fail_after(5):
        assert await ns.shout(text="hi") == "HI"
        assert await ns.squares(n=3) == [0, 1, 4]
        assert await ns.squares(n=0) == []
        assert await ns.wrapped() == {"result": 5}


async def test_an_image_result_arrives_as_a_base64_dict(demo: tuple[Namespace, HostDispatcher]) -> None:
    ns, _ = demo
    with anyio.fail_after(5):
        value = await ns["tiny-pixel"]()
    assert value == {"type": "image", "mime_type": "image/png", "data": "iVBORw=="}
    assert ns.tiny_pixel is ns["tiny-pixel"]


async def test_a_raising_tool_arrives_as_a_catchable_tool_error(demo: tuple[Namespace, HostDispatcher]) -> None:
    ns, dispatcher = demo
    with anyio.fail_after(5), pytest.raises(ToolError) as caught:
        await ns.broken(reason="tired")
    assert caught.value.server == "demo-server" and caught.value.tool == "broken"
    assert "cannot do it: tired" in caught.value.message
    assert dispatcher.trace[-1]["outcome"] == "error"


async def test_schema_checks_run_before_the_server_is_called(demo: tuple[Namespace, HostDispatcher]) -> None:
    ns, dispatcher = demo
    with pytest.raises(TypeError, match="'a' must be int"):
        await ns.add(a="one")
    assert dispatcher.calls == 0
