"""The exceptions `engine` raises, one class per failure.

```
EngineError
├── ConfigError            a configuration file or entry is invalid (names the server and field)
├── ServerError            one MCP server failed; `.server` names it
│   ├── ServerStartError   the server could not be started or did not complete the handshake
│   ├── ServerTimeoutError a request to the server did not answer within its timeout
│   └── ServerCrashedError the connection to the server was lost (process exited, stream closed)
├── SessionStateError      a session was used in a state that does not allow it (not connected, closed)
├── ToolError              a tool call failed: the server said `isError`, or the call itself failed
├── CodeModeError          code mode was used wrongly (not enabled, unknown executor, ...)
└── BridgeError            a malformed or unexpected frame crossed the RPC bridge
```

`ToolError` is also the exception an agent's program catches inside the sandbox: it carries the
server, the tool and the message as plain strings, never a host object.
"""

from __future__ import annotations

__all__ = [
    "BridgeError",
    "CodeModeError",
    "ConfigError",
    "EngineError",
    "ServerCrashedError",
    "ServerError",
    "ServerStartError",
    "ServerTimeoutError",
    "SessionStateError",
    "ToolError",
]


class EngineError(Exception):
    """The root of every error `engine` raises on purpose."""


class ConfigError(EngineError):
    """A configuration file or server entry is invalid."""


class ServerError(EngineError):
    """One MCP server failed; the message and `server` name it."""

    def __init__(self, server: str, message: str) -> None:
        super().__init__(f"server {server!r}: {message}")
        self.server = server


class ServerStartError(ServerError):
    """The server could not be started, or did not complete the MCP handshake."""


class ServerTimeoutError(ServerError):
    """A request to the server did not answer within its timeout."""


class ServerCrashedError(ServerError):
    """The connection to the server was lost (its process exited or its stream closed)."""


class SessionStateError(EngineError):
    """A session was used in a state that does not allow it."""


class ToolError(EngineError):
    """A tool call failed: the server returned `isError`, or the call could not be made.

    Catchable inside agent programs. `server`, `tool` and `message` are plain strings.
    """

    def __init__(self, server: str, tool: str, message: str) -> None:
        super().__init__(f"{server}.{tool}: {message}")
        self.server = server
        self.tool = tool
        self.message = message


class CodeModeError(EngineError):
    """Code mode was used wrongly: not enabled, an unknown executor, a bad option."""


class BridgeError(EngineError):
    """A malformed or unexpected frame crossed the RPC bridge."""
