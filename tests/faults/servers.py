"""Misbehaving MCP servers written for the fault tests (in-process; `bad_stdio.py` runs over stdio).

Each is a low-level `mcp` server whose tool list or results are wrong in one specific way; the
tests put one beside a healthy toy server and check that the fault stays where it starts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server

BAD_STDIO = Path(__file__).resolve().parent / "bad_stdio.py"


def bad_stdio_entry(*args: str, **options: Any) -> dict[str, Any]:
    """A config entry that runs `bad_stdio.py` with `args` over stdio."""
    return {"command": sys.executable, "args": [str(BAD_STDIO), *args], **options}


def listing_server(name: str, tools: list[types.Tool]) -> Server[Any]:
    """A server that lists `tools` as given (duplicates and all); every call answers `name.tool`."""

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(type="text", text=f"{name}.{params.name}")])

    return Server(name, on_list_tools=list_tools, on_call_tool=call_tool)


def tool(name: str, schema: dict[str, Any] | None = None) -> types.Tool:
    return types.Tool(name=name, input_schema=schema or {"type": "object"})
