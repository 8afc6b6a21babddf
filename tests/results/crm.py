"""A small MCP server (the mcp SDK) holding customers, whose outgoing mail is recorded.

`crm()` builds a fresh one to run in this process: `customer` returns a record with an e-mail
address and a phone number, `send` records what it received (the real server's view of a token
put back by the bridge), `orders` returns about `n` KB of nested data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import MCPServer

ADDRESS = "ann.lee@example.com"
PHONE = "+44 20 7946 0958"


@dataclass
class Crm:
    server: MCPServer
    sent: list[dict[str, str]] = field(default_factory=list)


def crm() -> Crm:
    server = MCPServer("crm")
    book = Crm(server)

    @server.tool()
    def customer(customer_id: int) -> dict[str, Any]:
        """One customer's record."""
        return {"id": customer_id, "name": "Ann Lee", "email": ADDRESS, "phone": PHONE, "tier": "gold"}

    @server.tool()
    def send(to: str, body: str) -> str:
        """Send a message; every call is recorded."""
        book.sent.append({"to": to, "body": body})
        return f"sent to {len(to)}-character address"

    @server.tool()
    def orders(kilobytes: int) -> dict[str, Any]:
        """About `kilobytes` KB of orders."""
        count = kilobytes * 1024 // 200
        return {"orders": [{"id": i, "lines": [{"sku": f"S{j}", "qty": j} for j in range(8)]} for i in range(count)]}

    return book
