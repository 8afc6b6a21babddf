"""Demo MCP server: customer orders of the same shop (stdio)."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

server = MCPServer("orders", instructions="Customer orders of a small hardware shop.")


class Order(BaseModel):
    id: int
    customer: str
    status: str
    lines: dict[str, int]


_ORDERS = [
    Order(id=1001, customer="Ada", status="open", lines={"HAM-01": 1, "NAI-06": 2}),
    Order(id=1002, customer="Grace", status="shipped", lines={"DRL-03": 1}),
    Order(id=1003, customer="Linus", status="open", lines={"SAW-02": 3, "GLU-07": 1}),
    Order(id=1004, customer="Barbara", status="open", lines={"DRL-03": 1, "SCR-05": 2}),
    Order(id=1005, customer="Ken", status="cancelled", lines={"TAP-08": 1}),
]


@server.tool()
def list_orders(status: str | None = None) -> list[Order]:
    """List orders, optionally only those with a status (open, shipped, cancelled)."""
    return [o for o in _ORDERS if status is None or o.status == status]


@server.tool()
def get_order(order_id: int) -> Order:
    """One order by id."""
    for order in _ORDERS:
        if order.id == order_id:
            return order
    raise ToolError(f"no order {order_id}")


if __name__ == "__main__":
    server.run("stdio")
