"""An MCP server (the mcp SDK's `MCPServer`) that floods its clients with tool-list changes.

Finding 6 of issue 14. Run it with `python flood.py [AFTER_LIST [PORT]]` (stdio, or streamable HTTP
on 127.0.0.1:PORT), or build one in this process with `flood_server(after_list=...)`. Its tools:

- `ping()`: `"pong"`.
- `lists()`: how many `tools/list` requests it has answered: the count the tests check, taken on
  the server's side.
- `grow(n)`: adds a tool `v<k>` (k = 1, 2, ...; each returns its own name), then announces a
  change `n` times in a row; returns the new tool's name.

With `after_list=N`, every `tools/list` answer is followed by N change announcements, sent from a
task of their own while the answer travels: a server that keeps saying its tools changed, so that
announcements land before, during and after the client's handling of the listing.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus, ToolsListChanged
from mcp.types import Tool


class FloodServer(MCPServer):
    """`MCPServer` that counts its `tools/list` answers and may announce changes after each."""

    def __init__(self, *, after_list: int = 0) -> None:
        self.bus = InMemorySubscriptionBus()
        super().__init__("flood", subscriptions=self.bus)
        self.after_list = after_list
        self.lists = 0
        self.versions = 0
        self._announcing: set[asyncio.Task[None]] = set()

    async def list_tools(self) -> list[Tool]:
        self.lists += 1
        if self.after_list:
            task = asyncio.get_running_loop().create_task(self.announce(self.after_list))
            self._announcing.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._announcing.discard)
        return await super().list_tools()

    async def announce(self, times: int, ctx: Context | None = None) -> None:
        """Say `times` times that the tools changed (on `subscriptions/listen`, and as the plain
        notification on connections from before 2026-07-28 when a request's `ctx` is at hand)."""
        for _ in range(times):
            await self.bus.publish(ToolsListChanged())  # ends with a checkpoint: a flood, not one burst
            if ctx is not None:
                try:
                    await ctx.session.send_tool_list_changed()
                except Exception:  # noqa: BLE001 - not deliverable on a 2026-07-28 connection
                    pass


def flood_server(*, after_list: int = 0) -> FloodServer:
    """A fresh flood server (see the module docstring)."""
    server = FloodServer(after_list=after_list)

    @server.tool()
    def ping() -> str:
        """Answer pong."""
        return "pong"

    @server.tool()
    def lists() -> int:
        """How many tools/list requests this server has answered."""
        return server.lists

    @server.tool()
    async def grow(n: int, ctx: Context) -> str:
        """Add a tool v<k>, then announce a change n times."""
        server.versions += 1
        name = f"v{server.versions}"

        def version() -> str:
            return name

        server.add_tool(version, name=name, description=f"A tool added at run time: {name}")
        await server.announce(n, ctx)
        return name

    return server


FLOOD = Path(__file__).resolve()


def flood_entry(after_list: int = 0, **options: Any) -> dict[str, Any]:
    """A config entry that runs this server over stdio."""
    return {"command": sys.executable, "args": [str(FLOOD), str(after_list)], **options}


if __name__ == "__main__":
    flooding = flood_server(after_list=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    if len(sys.argv) > 2:
        flooding.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        flooding.run("stdio")
