"""Connectors: how to open one transport to one MCP server.

A connector is plain configuration plus a factory: `transports()` yields one or more candidate
`mcp.client` transports (async context managers of a read/write stream pair) to try in order.
Streamable HTTP with `auto` detection yields streamable HTTP first, then SSE. The connector knows
nothing of tools or code; `MCPSession` drives it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import httpx2
from mcp.client._transport import Transport
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer

from .config import HttpServerConfig, ServerConfig, StdioServerConfig

__all__ = ["Connector", "HttpConnector", "InProcessConnector", "StdioConnector", "connector_for"]

Target = Transport | MCPServer | Server[Any]
"""What `mcp.Client` connects to: a transport, or a server object run in-process."""


class Connector(Protocol):
    """How to reach one server."""

    name: str
    connect_timeout: float
    request_timeout: float | None

    def transports(self) -> Iterator[tuple[str, Target]]:
        """Candidate transports, best first, each with a label for error messages."""
        ...

    def diagnostics(self) -> str:
        """Recent output that may explain a failure (e.g. the tail of a subprocess's stderr)."""
        ...


@dataclass
class StdioConnector:
    """A server run as a subprocess; its stderr is kept so a failed start can say why."""

    name: str
    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    cwd: str | None = None
    connect_timeout: float = 30.0
    request_timeout: float | None = 60.0
    _stderr: IO[str] | None = field(default=None, init=False, repr=False)

    def transports(self) -> Iterator[tuple[str, Target]]:
        params = StdioServerParameters(command=self.command, args=self.args, env=self.env, cwd=self.cwd)
        self.close_diagnostics()
        # A real file: the child writes to its descriptor directly.
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        yield "stdio", stdio_client(params, errlog=self._stderr)

    def diagnostics(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            lines = self._stderr.read()[-4000:].strip().splitlines()
        except (OSError, ValueError):
            return ""
        return "\n".join(lines[-10:])

    def close_diagnostics(self) -> None:
        """Release the stderr capture file."""
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


@dataclass
class HttpConnector:
    """A remote server over streamable HTTP, SSE, or both tried in turn (`auto`)."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    transport: str = "auto"
    connect_timeout: float = 30.0
    request_timeout: float | None = 60.0
    sse_read_timeout: float = 300.0
    verify: bool = True

    def transports(self) -> Iterator[tuple[str, Target]]:
        if self.transport in ("auto", "streamable_http"):
            yield "streamable HTTP", self._streamable_http()
        if self.transport in ("auto", "sse"):
            yield "SSE", sse_client(
                self.url,
                headers=self.headers,
                timeout=self.connect_timeout,
                sse_read_timeout=self.sse_read_timeout,
                httpx_client_factory=self._client_factory,
            )

    def diagnostics(self) -> str:
        return ""

    def _streamable_http(self) -> Transport:
        client = self._client_factory(headers=self.headers)
        return streamable_http_client(self.url, http_client=client)

    def _client_factory(
        self,
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            headers=headers,
            timeout=timeout or httpx2.Timeout(self.connect_timeout, read=self.sse_read_timeout),
            auth=auth,
            verify=self.verify,
        )


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


def connector_for(name: str, config: ServerConfig, *, verify: bool = True) -> StdioConnector | HttpConnector:
    """The connector for one validated server entry."""
    if isinstance(config, StdioServerConfig):
        return StdioConnector(
            name=name,
            command=config.command,
            args=list(config.args),
            env=dict(config.env) if config.env is not None else None,
            cwd=config.cwd,
            connect_timeout=config.connect_timeout,
            request_timeout=config.request_timeout,
        )
    assert isinstance(config, HttpServerConfig)
    return HttpConnector(
        name=name,
        url=config.url,
        headers=dict(config.headers),
        transport=config.transport,
        connect_timeout=config.connect_timeout,
        request_timeout=config.request_timeout,
        sse_read_timeout=config.sse_read_timeout,
        verify=verify,
    )
