"""Times mcp-use 1.7.1's code mode and its raw tool call; runs in `benchmarks/.envs/mcp-use`.

Not part of engine and never imports it: mcp-use needs `mcp < 2`. Reads one JSON request per line
on stdin and writes one JSON reply per line on stdout:

- `{"op": "start", "config": {...}}` connects every server with `code_mode=True`;
- `{"op": "code", "code": "...", "n": N}` runs `client.execute_code(code)` N times and replies
  with the durations (seconds) and the last result;
- `{"op": "raw", "server": "...", "tool": "...", "arguments": {...}, "n": N}` calls the tool N times
  through the mcp-use session (`session.call_tool`);
- `{"op": "version"}`.
"""

from __future__ import annotations

import asyncio
import os
import time
from importlib import metadata
from typing import Any

from lines import serve  # the runner loop beside this script (benchmarks/external/lines.py)

os.environ.setdefault("MCP_USE_ANONYMIZED_TELEMETRY", "false")

from mcp_use import MCPClient  # noqa: E402  (telemetry must be off before the import)

_client: Any = None


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    global _client
    op = request["op"]
    if op == "version":
        return {"mcp_use": metadata.version("mcp-use"), "mcp": metadata.version("mcp")}
    if op == "start":
        _client = MCPClient(config=request["config"], code_mode=True)
        await _client.create_all_sessions()
        return {"sessions": sorted(_client.sessions)}
    if op == "code":
        durations = []
        result = None
        for _ in range(int(request["n"])):
            started = time.perf_counter()
            out = await _client.execute_code(request["code"])
            durations.append(time.perf_counter() - started)
            if out["error"] is not None:
                return {"error": f"mcp-use execute_code failed: {out['error']}"}
            result = out["result"]
        return {"durations": durations, "result": result}
    if op == "raw":
        session = _client.get_session(request["server"])
        durations = []
        for _ in range(int(request["n"])):
            started = time.perf_counter()
            await session.call_tool(request["tool"], request["arguments"])
            durations.append(time.perf_counter() - started)
        return {"durations": durations}
    return {"error": f"unknown op {op!r}"}


async def _close() -> None:
    if _client is not None:
        await _client.close_all_sessions()


async def main() -> None:
    await serve(handle, _close)


if __name__ == "__main__":
    asyncio.run(main())
