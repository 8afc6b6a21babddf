"""engine: a sandboxed code-mode execution engine for MCP."""

from __future__ import annotations

from .client import MCPClient
from .config import HttpServerConfig, ServerConfig, StdioServerConfig
from .connectors import Connector, HttpConnector, StdioConnector
from .envelope import Envelope, ErrorInfo, ToolCallRecord, Usage
from .errors import (
    BridgeError,
    CodeModeError,
    ConfigError,
    EngineError,
    ServerCrashedError,
    ServerError,
    ServerStartError,
    ServerTimeoutError,
    SessionStateError,
    ToolError,
)
from .limits import Limits
from .middleware import CallNext, LoggingMiddleware, MetricsMiddleware, Middleware, MiddlewareRequest, RequestMetrics
from .session import ClientCallbacks, MCPSession, SessionState

__all__ = [
    "BridgeError",
    "CallNext",
    "ClientCallbacks",
    "CodeModeError",
    "ConfigError",
    "Connector",
    "EngineError",
    "Envelope",
    "ErrorInfo",
    "HttpConnector",
    "HttpServerConfig",
    "Limits",
    "LoggingMiddleware",
    "MCPClient",
    "MCPSession",
    "MetricsMiddleware",
    "Middleware",
    "MiddlewareRequest",
    "RequestMetrics",
    "ServerConfig",
    "ServerCrashedError",
    "ServerError",
    "ServerStartError",
    "ServerTimeoutError",
    "SessionState",
    "SessionStateError",
    "StdioConnector",
    "StdioServerConfig",
    "ToolCallRecord",
    "ToolError",
    "Usage",
]
