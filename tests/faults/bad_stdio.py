"""A stdio MCP "server" that misbehaves on purpose, for the fault tests.

Run: `python bad_stdio.py MODE`, MODE one of:

- `mute`: reads every request and never answers one (not even `initialize`): a handshake that never ends.
- `big N`: a real server (the mcp SDK's) with a tool `blob()` returning a text of N bytes.
- `raw KIND`: speaks JSON-RPC by hand (line-delimited) and lists the tools `good` and `also_good`
  plus one broken as KIND says (and no resources): `badschema` (an `inputSchema` that is not an object), `deep` (a
  schema nested 3,000 levels; `deepN`: N levels), `noname` (a tool without a name). Every call answers `called <name>`.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def mute() -> None:
    # Read (so the client's writes never block) and never answer.
    for _line in sys.stdin:
        pass


def big(size: int) -> None:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("big")

    @server.tool()
    def blob() -> str:
        """A text of the configured size."""
        return "x" * size

    @server.tool()
    def small() -> str:
        """A short text."""
        return "ok"

    server.run("stdio")


def _deep(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


def _broken(kind: str) -> dict[str, Any]:
    if kind == "badschema":
        return {"name": "broken", "inputSchema": "not a schema"}
    if kind.startswith("deep"):  # `deep` (3,000 levels) or `deepN`
        return {"name": "broken", "inputSchema": _deep(int(kind[4:] or 3000))}
    if kind == "noname":
        return {"description": "a tool without a name", "inputSchema": {"type": "object"}}
    raise SystemExit(f"unknown kind {kind!r}")


def raw(kind: str) -> None:
    tools = [
        {"name": "good", "inputSchema": {"type": "object"}},
        _broken(kind),
        {"name": "also_good", "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    ]
    # json.dumps of a 3,000-deep dict needs a deeper stack than the default.
    sys.setrecursionlimit(20_000)
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message:
            continue  # a notification
        method = message.get("method")
        if method == "initialize":
            result: dict[str, Any] = {
                "protocolVersion": message["params"]["protocolVersion"],
                "capabilities": {"tools": {}, "resources": {}},
                "serverInfo": {"name": "raw", "version": "1"},
            }
        elif method == "tools/list":
            result = {"tools": tools}
        elif method == "resources/list":
            result = {"resources": []}
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": f"called {message['params']['name']}"}]}
        else:
            result = {}
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "mute":
        mute()
    elif mode == "raw":
        raw(sys.argv[2])
    elif mode == "big":
        big(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
