"""`python -m engine.demo`: a code-mode program against the two demo servers that ship with engine.

The agent's program finds which open orders cannot be filled from stock: two servers, six tool
calls (four of them concurrent), one caught tool error, and only the answer comes back.
"""

from __future__ import annotations

import asyncio
import json
import sys

from engine import MCPClient

PROGRAM = '''\
import asyncio

products, open_orders = await asyncio.gather(
    inventory.list_products(), orders.list_orders(status="open")
)
names = {p["sku"]: p["name"] for p in products}
needed = {}
for order in open_orders:
    for sku, quantity in order["lines"].items():
        needed[sku] = needed.get(sku, 0) + quantity

stock = await asyncio.gather(*[inventory.get_stock(sku=sku) for sku in needed])
short = sorted(names[s["sku"]] for s in stock if s["on_hand"] < needed[s["sku"]])
print(f"{len(open_orders)} open orders need {len(needed)} different products")

try:
    await inventory.get_stock(sku="NOPE-00")
except ToolError as error:
    print(f"a failed tool call is an exception the program can catch: {error.message}")

return {"cannot_fill": short}
'''


def demo_config() -> dict[str, object]:
    """The demo servers, run over stdio with this interpreter."""
    return {
        "mcpServers": {
            name: {"command": sys.executable, "args": ["-m", f"engine.demo.servers.{name}"]}
            for name in ("inventory", "orders")
        }
    }


async def main() -> int:
    async with MCPClient(demo_config(), code_mode=True) as client:
        found = await client.search_tools("stock level of a product", detail_level="descriptions", limit=2)
        print("search_tools('stock level of a product'):")
        for tool in found["results"]:
            print(f"  {tool['namespace']}.{tool['identifier']}: {tool['description']}")
        print("\nprogram:\n" + "\n".join(f"  {line}" for line in PROGRAM.splitlines()))
        out = await client.execute_code(PROGRAM)
        print("\nlogs:")
        for line in out["logs"]:
            print(f"  {line}")
        print(f"tool calls: {', '.join(call['tool'] for call in out['tool_calls'])}")
        print(f"result: {json.dumps(out['result'])}")
        print(f"error: {out['error']}")
        print(f"execution time: {out['execution_time'] * 1000:.1f} ms")
        return 0 if out["error"] is None else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
