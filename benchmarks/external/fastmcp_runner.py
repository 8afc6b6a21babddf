"""FastMCP's CodeMode `search` tool over a tool catalog; runs in `benchmarks/.envs/fastmcp`.

Not part of engine and never imports it. One JSON request per line on stdin, one reply per line:

- `{"op": "version"}`;
- `{"op": "rank", "servers": {server: [tool, ...]}, "queries": [...], "limit": 10}`: every tool
  registered on one FastMCP server as `<server>_<tool>` (the name FastMCP gives a mounted server's
  tool), the `CodeMode` transform added, and each query sent to its `search` tool through an
  in-memory FastMCP client; replies with each query's ranked `server.tool` names and the seconds
  each search took.
"""

from __future__ import annotations

import asyncio
import time
from importlib import metadata
from typing import Any

from fastmcp import Client, FastMCP
from fastmcp.experimental.transforms.code_mode import CodeMode
from fastmcp.tools import Tool
from lines import serve  # the runner loop beside this script (benchmarks/external/lines.py)


async def rank(servers: dict[str, list[dict[str, Any]]], queries: list[str], limit: int) -> dict[str, Any]:
    server = FastMCP("catalog")
    names: dict[str, str] = {}
    for server_name, tools in servers.items():
        for tool in tools:
            name = f"{server_name}_{tool['name']}"
            if name in names:
                raise ValueError(f"two tools are both named {name!r} on one FastMCP server")
            names[name] = f"{server_name}.{tool['name']}"
            schema = tool.get("inputSchema") or {"type": "object"}
            server.add_tool(Tool(name=name, description=tool.get("description"), parameters=schema))
    server.add_transform(CodeMode())
    rankings: list[list[str]] = []
    seconds: list[float] = []
    async with Client(server) as client:
        for query in queries:
            started = time.perf_counter()
            result = await client.call_tool("search", {"query": query, "limit": limit, "detail": "brief"})
            seconds.append(time.perf_counter() - started)
            text = "".join(getattr(block, "text", "") for block in result.content)
            # "brief" renders one "- name: description" line per tool, best first.
            ranked = [line[2:].split(":", 1)[0].strip() for line in text.splitlines() if line.startswith("- ")]
            rankings.append([names[name] for name in ranked if name in names])
    return {"rankings": rankings, "seconds": seconds, "tools": len(names)}


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "version":
        return {name: metadata.version(name) for name in ("fastmcp", "pydantic-monty")}
    if op == "rank":
        return await rank(request["servers"], request["queries"], int(request["limit"]))
    return {"error": f"unknown op {op!r}"}


async def main() -> None:
    await serve(handle)


if __name__ == "__main__":
    asyncio.run(main())
