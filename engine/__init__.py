"""engine: a sandboxed code-mode execution engine for MCP."""

from __future__ import annotations

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

__all__ = [
    "BridgeError",
    "CodeModeError",
    "ConfigError",
    "EngineError",
    "Envelope",
    "ErrorInfo",
    "Limits",
    "ServerCrashedError",
    "ServerError",
    "ServerStartError",
    "ServerTimeoutError",
    "SessionStateError",
    "ToolCallRecord",
    "ToolError",
    "Usage",
]
