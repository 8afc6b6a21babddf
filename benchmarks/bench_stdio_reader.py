"""How the mcp SDK's stdio client reads one large message: seconds per tool result of 1-16 MB.

`python -m benchmarks.bench_stdio_reader [MB ...]` (standalone; not part of `python -m benchmarks`).

A server written with the SDK returns a text of N MB from one tool over stdio; the client is the
engine's `MCPSession` (the SDK's `stdio_client` underneath). The server side writes the line at
once, so the time is the client's: reading and splitting the line, then parsing the JSON. Each size
runs `REPEAT` times; the best is kept. Quadratic reading shows as time growing ~4x per doubling.
"""

from __future__ import annotations

import asyncio
import sys
import time

from engine import MCPSession, StdioConnector

REPEAT = 3

SERVER = """
import sys
from mcp.server.mcpserver import MCPServer
server = MCPServer("big")

@server.tool()
def blob(mb: int) -> str:
    return "x" * (mb * 1024 * 1024)

server.run("stdio")
"""


async def measure(sizes: list[int]) -> list[tuple[int, float]]:
    connector = StdioConnector("big", sys.executable, ["-c", SERVER], request_timeout=600)
    rows: list[tuple[int, float]] = []
    async with MCPSession(connector) as session:
        await session.call_tool("blob", {"mb": 0})
        for mb in sizes:
            best = float("inf")
            for _ in range(REPEAT):
                started = time.perf_counter()
                await session.call_tool("blob", {"mb": mb})
                best = min(best, time.perf_counter() - started)
            rows.append((mb, best))
    return rows


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1, 2, 4, 8, 16]
    rows = asyncio.run(measure(sizes))
    print("| MB | seconds | s per MB |")
    print("|---:|---:|---:|")
    for mb, seconds in rows:
        print(f"| {mb} | {seconds:.2f} | {seconds / mb:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
