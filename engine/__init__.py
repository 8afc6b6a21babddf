"""engine: a sandboxed code-mode execution engine for MCP."""

from __future__ import annotations

from .approvals import ToolPolicy
from .bridge.dispatcher import HostDispatcher, ToolBackend
from .catalog import CatalogStatistics, ToolCatalog
from .client import MCPClient
from .codemode import CODE_MODE_SYSTEM_PROMPT, CodeMode, build_code_mode_server
from .codemode.server import MAX_PROGRAM_CHARS
from .codemode.text import envelope_text
from .config import CodeModeConfig, HttpServerConfig, ServerConfig, StdioServerConfig, load_config
from .connectors import Connector, HttpConnector, InProcessConnector, StdioConnector
from .envelope import CheckFinding, Envelope, ErrorInfo, PendingCallInfo, ToolCallRecord, Usage
from .errors import (
    ApprovalError,
    BridgeError,
    CodeModeError,
    ConfigError,
    EngineError,
    NoSessionError,
    ServerCrashedError,
    ServerError,
    ServerStartError,
    ServerTimeoutError,
    SessionStateError,
    StoreError,
    ToolError,
)
from .executors import ExecutionRequest, Executor, get_executor
from .kernel.stubs import Namespace
from .limits import Limits
from .middleware import CallNext, LoggingMiddleware, MetricsMiddleware, Middleware, MiddlewareRequest, RequestMetrics
from .privacy import DetectorError, Vault
from .results import HandleRegistry, truncate
from .session import ClientCallbacks, MCPSession, SessionState
from .shapes import ShapeRegistry
from .stubs import NameCollisionError, ToolSpec, render_all, render_namespace
from .tools import ServerState, ToolHost, ToolSet
from .typecheck import CheckReport, TypeChecker

__all__ = [
    "ApprovalError",
    "BridgeError",
    "build_code_mode_server",
    "CallNext",
    "CatalogStatistics",
    "CheckFinding",
    "CheckReport",
    "ClientCallbacks",
    "CODE_MODE_SYSTEM_PROMPT",
    "CodeMode",
    "CodeModeConfig",
    "CodeModeError",
    "ConfigError",
    "Connector",
    "DetectorError",
    "EngineError",
    "Envelope",
    "envelope_text",
    "ErrorInfo",
    "ExecutionRequest",
    "Executor",
    "get_executor",
    "HandleRegistry",
    "HostDispatcher",
    "HttpConnector",
    "HttpServerConfig",
    "InProcessConnector",
    "Limits",
    "load_config",
    "LoggingMiddleware",
    "MAX_PROGRAM_CHARS",
    "MCPClient",
    "MCPSession",
    "MetricsMiddleware",
    "Middleware",
    "MiddlewareRequest",
    "NameCollisionError",
    "Namespace",
    "NoSessionError",
    "PendingCallInfo",
    "render_all",
    "render_namespace",
    "RequestMetrics",
    "ServerConfig",
    "ServerCrashedError",
    "ServerError",
    "ServerStartError",
    "ServerState",
    "ServerTimeoutError",
    "SessionState",
    "SessionStateError",
    "ShapeRegistry",
    "StdioConnector",
    "StdioServerConfig",
    "StoreError",
    "ToolBackend",
    "ToolCallRecord",
    "ToolCatalog",
    "ToolError",
    "ToolHost",
    "ToolPolicy",
    "ToolSet",
    "ToolSpec",
    "truncate",
    "TypeChecker",
    "Usage",
    "Vault",
]

# Public names report `engine` as their module, so reprs and docs show the public path.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and isinstance(_obj, type | type(lambda: None)):
        try:
            _obj.__module__ = "engine"
        except (AttributeError, TypeError):
            pass
