"""engine: a sandboxed code-mode execution engine for MCP."""

from __future__ import annotations

from .bridge.dispatcher import HostDispatcher, ToolBackend
from .catalog import CatalogStatistics, ToolCatalog
from .client import MCPClient
from .codemode import CODE_MODE_SYSTEM_PROMPT, CodeMode, build_code_mode_server
from .config import HttpServerConfig, ServerConfig, StdioServerConfig
from .connectors import Connector, HttpConnector, InProcessConnector, StdioConnector
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
from .executors import ExecutionRequest, Executor, get_executor
from .limits import Limits
from .middleware import CallNext, LoggingMiddleware, MetricsMiddleware, Middleware, MiddlewareRequest, RequestMetrics
from .session import ClientCallbacks, MCPSession, SessionState
from .stubs import NameCollisionError, Namespace, ToolSpec, render_all, render_namespace

__all__ = [
    "BridgeError",
    "build_code_mode_server",
    "CallNext",
    "CatalogStatistics",
    "ClientCallbacks",
    "CODE_MODE_SYSTEM_PROMPT",
    "CodeMode",
    "CodeModeError",
    "ConfigError",
    "Connector",
    "EngineError",
    "Envelope",
    "ErrorInfo",
    "ExecutionRequest",
    "Executor",
    "get_executor",
    "HostDispatcher",
    "HttpConnector",
    "HttpServerConfig",
    "InProcessConnector",
    "Limits",
    "LoggingMiddleware",
    "MCPClient",
    "MCPSession",
    "MetricsMiddleware",
    "Middleware",
    "MiddlewareRequest",
    "NameCollisionError",
    "Namespace",
    "render_all",
    "render_namespace",
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
    "ToolBackend",
    "ToolCallRecord",
    "ToolCatalog",
    "ToolError",
    "ToolSpec",
    "Usage",
]

# Public names report `engine` as their module, so reprs and docs show the public path.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and isinstance(_obj, type | type(lambda: None)):
        try:
            _obj.__module__ = "engine"
        except (AttributeError, TypeError):
            pass
