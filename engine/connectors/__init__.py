"""Connectors: how to open one transport to one MCP server, one module per transport family.

- `base`: the `Connector` protocol and the `Target` type (what `mcp.Client` connects to);
- `stdio`: a local subprocess, its stderr kept for diagnostics;
- `http`: streamable HTTP, SSE, or `auto` (streamable HTTP, then SSE);
- `inprocess`: an `MCPServer` or low-level `Server` object in this process;
- `e2b`: a stdio server started inside an E2B sandbox (the E2B SDK is imported only when used).

`connector_for` turns one validated config entry into its connector. A connector knows nothing
of tools or code; `MCPSession` drives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import HttpServerConfig, InProcessServerConfig, ServerConfig, StdioServerConfig
from .base import Connector, Target
from .e2b import E2BStdioConnector, e2b_stdio_client
from .http import HttpConnector
from .inprocess import InProcessConnector
from .stdio import StdioConnector

__all__ = [
    "Connector",
    "E2BStdioConnector",
    "HttpConnector",
    "InProcessConnector",
    "StdioConnector",
    "Target",
    "connector_for",
    "e2b_stdio_client",
]

_E2B_CONNECT_TIMEOUT = 120.0
"""Starting a sandbox takes longer than a local process: the default unless the entry sets one."""


def connector_for(
    name: str,
    config: ServerConfig,
    *,
    verify: bool = True,
    sandbox_options: Mapping[str, Any] | None = None,
) -> Connector:
    """The connector for one validated server entry.

    Args:
        verify: check HTTPS certificates of remote servers.
        sandbox_options: when given, stdio servers run inside an E2B sandbox created with these
            options (`MCPClient(sandbox=True)`); remote and in-process servers are unaffected.
    """
    if isinstance(config, InProcessServerConfig):
        if config.is_connector:
            connector: Connector = config.server
            return connector
        return InProcessConnector(
            name=name,
            server=config.server,
            connect_timeout=config.connect_timeout,
            request_timeout=config.request_timeout,
        )
    if isinstance(config, StdioServerConfig):
        if sandbox_options is not None:
            explicit = "connect_timeout" in config.model_fields_set
            return E2BStdioConnector(
                name=name,
                command=config.command,
                args=list(config.args),
                env=dict(config.env) if config.env else None,
                cwd=config.cwd,
                sandbox_options=dict(sandbox_options),
                connect_timeout=config.connect_timeout if explicit else _E2B_CONNECT_TIMEOUT,
                request_timeout=config.request_timeout,
            )
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
