"""The connector protocol: what `MCPSession` needs to know to reach one MCP server.

A connector is plain configuration plus a factory. `transports()` yields one or more candidate
targets for `mcp.Client`, best first, each with a label for error messages; the session tries
them in turn. A target is an `mcp.client` transport (an async context manager yielding a
read/write stream pair) or a server object that `mcp.Client` runs in this process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from mcp.client._transport import Transport
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer

__all__ = ["Connector", "Target"]

Target = Transport | MCPServer | Server[Any]
"""What `mcp.Client` connects to: a transport, or a server object run in-process."""


class Connector(Protocol):
    """How to reach one server.

    `name` is the server's configured name (errors and middleware use it); `connect_timeout`
    bounds the start and the MCP handshake; `request_timeout` is the default for one request
    (`None` waits forever).
    """

    name: str
    connect_timeout: float
    request_timeout: float | None

    def transports(self) -> Iterator[tuple[str, Target]]:
        """Candidate transports, best first, each with a label for error messages.

        Must not raise: a failure to start belongs in the transport (entering it raises), where
        the session reports it as a `ServerStartError` naming the server.
        """
        ...

    def diagnostics(self) -> str:
        """Recent output that may explain a failure (e.g. the tail of a subprocess's stderr)."""
        ...
