"""`list_tools`, `list_resources` and `list_prompts` follow every page a server hands out."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import types
from mcp.server.lowlevel import Server

from engine import InProcessConnector, MCPSession

pytestmark = pytest.mark.anyio

PAGE = 3


def _page(items: list[Any], params: types.PaginatedRequestParams | None) -> tuple[list[Any], str | None]:
    start = int(params.cursor) if params is not None and params.cursor else 0
    end = start + PAGE
    return items[start:end], (str(end) if end < len(items) else None)


def paginating_server() -> Server[Any]:
    tools = [types.Tool(name=f"tool_{i}", input_schema={"type": "object"}) for i in range(8)]
    resources = [types.Resource(name=f"r{i}", uri=f"mem://r{i}") for i in range(7)]
    prompts = [types.Prompt(name=f"p{i}") for i in range(5)]

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        page, cursor = _page(tools, params)
        return types.ListToolsResult(tools=page, next_cursor=cursor)

    async def list_resources(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
        page, cursor = _page(resources, params)
        return types.ListResourcesResult(resources=page, next_cursor=cursor)

    async def list_prompts(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        page, cursor = _page(prompts, params)
        return types.ListPromptsResult(prompts=page, next_cursor=cursor)

    return Server(
        "pages", on_list_tools=list_tools, on_list_resources=list_resources, on_list_prompts=list_prompts
    )


async def test_every_page_is_fetched() -> None:
    async with MCPSession(InProcessConnector("pages", paginating_server())) as session:
        with anyio.fail_after(30):
            assert [t.name for t in await session.list_tools()] == [f"tool_{i}" for i in range(8)]
            assert [r.name for r in await session.list_resources()] == [f"r{i}" for i in range(7)]
            assert [p.name for p in await session.list_prompts()] == [f"p{i}" for i in range(5)]
