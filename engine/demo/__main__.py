"""`python -m engine.demo`: connect to the demo servers and list their tools."""

from __future__ import annotations

import asyncio
import sys

from engine import MCPClient


def demo_config() -> dict[str, object]:
    """The demo servers, run with this interpreter."""
    return {
        "mcpServers": {
            name: {"command": sys.executable, "args": ["-m", f"engine.demo.servers.{name}"]}
            for name in ("inventory", "orders")
        }
    }


async def main() -> int:
    async with MCPClient(demo_config()) as client:
        sessions = await client.create_all_sessions()
        for name, session in sessions.items():
            print(f"{name}: {len(session.tools)} tools")
            for tool in session.tools:
                print(f"  - {tool.name}: {tool.description}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
