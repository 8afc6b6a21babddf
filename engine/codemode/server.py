"""Code mode as an MCP server with two tools, `execute_code` and `search_tools`.

The same server backs `MCPClient.get_all_active_sessions()` in code mode (an in-process session
named `code_mode`, as mcp_use presents it) and the `codemode serve` command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer

from .prompt import code_mode_instructions

if TYPE_CHECKING:
    from .mode import CodeMode

__all__ = ["build_code_mode_server"]


def build_code_mode_server(mode: CodeMode, *, name: str = "code_mode") -> MCPServer:
    """An MCP server whose tools run programs and search tools through `mode`."""
    server: MCPServer = MCPServer(name, instructions=code_mode_instructions())

    @server.tool()
    async def execute_code(code: str, timeout: float = 30.0) -> dict[str, Any]:
        """Run a Python program with every MCP server's tools available as `await <server>.<tool>(...)`.

        Top-level `await` and `return` work; `print` output comes back in `logs`. Returns
        `result`, `logs`, `error` (with the line in your code), `execution_time`, `tool_calls`, `usage`.
        """
        return dict(await mode.execute(code, timeout=timeout))

    @server.tool()
    async def search_tools(query: str = "", detail_level: str = "full", limit: int | None = None) -> dict[str, Any]:
        """Search the available tools, ranked. `detail_level`: "names", "descriptions" or "full"."""
        return await mode.search(query, detail_level=detail_level, limit=limit)

    return server
