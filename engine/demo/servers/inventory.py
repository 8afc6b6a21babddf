"""Demo MCP server: a shop's product catalogue and stock levels (stdio)."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

server = MCPServer("inventory", instructions="Products and stock levels of a small hardware shop.")

_PRODUCTS = {
    "HAM-01": ("Claw hammer", "tools", 24.90),
    "SAW-02": ("Hand saw", "tools", 31.50),
    "DRL-03": ("Cordless drill", "power-tools", 129.00),
    "SND-04": ("Orbital sander", "power-tools", 89.00),
    "SCR-05": ("Wood screws, 200 pcs", "fasteners", 7.80),
    "NAI-06": ("Nails, 500 pcs", "fasteners", 5.40),
    "GLU-07": ("Wood glue", "supplies", 6.20),
    "TAP-08": ("Measuring tape", "tools", 12.00),
}
_STOCK = {"HAM-01": 14, "SAW-02": 2, "DRL-03": 0, "SND-04": 5, "SCR-05": 120, "NAI-06": 3, "GLU-07": 40, "TAP-08": 1}


class Product(BaseModel):
    sku: str
    name: str
    category: str
    price: float


class Stock(BaseModel):
    sku: str
    on_hand: int
    reorder: bool


@server.tool()
def list_products(category: str | None = None) -> list[Product]:
    """List the products, optionally only those of one category (tools, power-tools, fasteners, supplies)."""
    return [
        Product(sku=sku, name=name, category=cat, price=price)
        for sku, (name, cat, price) in _PRODUCTS.items()
        if category is None or cat == category
    ]


@server.tool()
def get_stock(sku: str) -> Stock:
    """Units on hand for one product, and whether it should be reordered (fewer than 5)."""
    if sku not in _STOCK:
        raise ToolError(f"unknown sku {sku!r}")
    return Stock(sku=sku, on_hand=_STOCK[sku], reorder=_STOCK[sku] < 5)


if __name__ == "__main__":
    server.run("stdio")
