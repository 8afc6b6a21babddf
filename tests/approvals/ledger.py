"""A small MCP server (the mcp SDK) whose writes are counted: what approvals must never duplicate.

`ledger()` builds a fresh one to run in this process; its `received` list is every write the
server got, in order. `balance` is annotated read-only; `write` and `close` change state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations


@dataclass
class Ledger:
    server: MCPServer
    received: list[tuple[str, str]] = field(default_factory=list)
    reads: int = 0
    values: dict[str, str] = field(default_factory=dict)


def ledger() -> Ledger:
    server = MCPServer("ledger")
    book = Ledger(server)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def balance(key: str) -> str:
        """Read a value."""
        book.reads += 1
        return book.values.get(key, "")

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
    def write(key: str, value: str) -> str:
        """Write a value; every call is recorded."""
        book.received.append((key, value))
        book.values[key] = value
        return f"wrote {key}"

    @server.tool()
    def close(key: str) -> str:
        """Remove a value (no annotations)."""
        book.received.append((key, "<closed>"))
        book.values.pop(key, None)
        return f"closed {key}"

    return book
