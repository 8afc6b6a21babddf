"""A server object in this process, connected without I/O.

`mcp.Client` runs an `MCPServer` or a low-level `Server` given to it directly, so a test or an
application can reach its own server with no subprocess and no socket. The server shares this
process: a tool that blocks the thread or exits the process does so to the caller too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer

from .base import Target

__all__ = ["InProcessConnector"]


@dataclass
class InProcessConnector:
    """A server object in this process (an `MCPServer` or a low-level `Server`), connected without I/O."""

    name: str
    server: MCPServer | Server[Any]
    connect_timeout: float = 30.0
    request_timeout: float | None = None

    def transports(self) -> Iterator[tuple[str, Target]]:
        yield "in-process", self.server

    def diagnostics(self) -> str:
        return ""
