"""A stdio MCP "server" that misbehaves on purpose, for the fault tests.

Run: `python bad_stdio.py MODE`, MODE one of:

- `mute`: reads every request and never answers one (not even `initialize`): a handshake that never ends.
- `big N`: a real server (the mcp SDK's) with a tool `blob()` returning a text of N bytes.
"""

from __future__ import annotations

import sys


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


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "mute":
        mute()
    elif mode == "big":
        big(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
