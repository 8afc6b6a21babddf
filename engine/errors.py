"""The exceptions `engine` raises, one class per failure.

```
EngineError
├── ConfigError            a configuration file or entry is invalid (names the server and field)  [ValueError]
│   └── DetectorError      a tokenization detector or pattern is unknown or unsafe (`engine.privacy`)
├── ServerError            one MCP server failed; `.server` names it
│   ├── ServerStartError   the server could not be started or did not complete the handshake
│   ├── ServerTimeoutError a request to the server did not answer within its timeout
│   └── ServerCrashedError the connection to the server was lost (process exited, stream closed)
├── SessionStateError      a session was used in a state that does not allow it (not connected, closed)
│   │                                                                                     [RuntimeError]
│   └── NoSessionError     `get_session` of a server that has no session              [ValueError too]
├── ToolError              a tool call failed: the server said `isError`, or the call itself failed
├── CodeModeError          code mode was used wrongly (not enabled, unknown executor, ...)  [RuntimeError]
├── BridgeError            a malformed or unexpected frame crossed the RPC bridge
├── ApprovalError          a tool policy or a resume was wrong: unknown or ended execution, bad ids
│                                                                                       [ValueError]
└── StoreError             a key-value store failed: unreachable, corrupt, locked, or misused  [RuntimeError]
```

The built-in class in brackets is a second base: what mcp_use raised in the same situation, so
code written for mcp_use (`except ValueError`, `except RuntimeError`) keeps catching while
`except EngineError` catches everything. An unknown server name in `create_session` or
`get_session` is a `ValueError`; a closed session and code mode used without `code_mode=True` are
`RuntimeError`s.

`ToolError` is also the exception an agent's program catches inside the sandbox: it carries the
server, the tool and the message as plain strings, never a host object.
"""

from __future__ import annotations

from .kernel import errors as _kernel_errors

__all__ = [
    "ApprovalError",
    "BridgeError",
    "CodeModeError",
    "ConfigError",
    "EngineError",
    "NoSessionError",
    "ServerCrashedError",
    "ServerError",
    "ServerStartError",
    "ServerTimeoutError",
    "SessionStateError",
    "StoreError",
    "ToolError",
]


class EngineError(Exception):
    """The root of every error `engine` raises on purpose."""


class ConfigError(EngineError, ValueError):
    """A configuration file or server entry is invalid, or no server has that name.

    Also a `ValueError`, as mcp_use raised for an unknown server."""


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


class SessionStateError(EngineError, RuntimeError):
    """A session was used in a state that does not allow it (closed, not connected).

    Also a `RuntimeError`, as mcp_use raised for a session that is not connected."""


class NoSessionError(SessionStateError, ValueError):
    """`get_session` of a server that has no session (create one first).

    Also a `ValueError`, as mcp_use's `get_session` raised."""


class ToolError(EngineError, _kernel_errors.ToolError):
    """A tool call failed: the server returned `isError`, or the call could not be made.

    The program-side class is `engine.kernel.errors.ToolError` (what programs catch); this one is
    also an `EngineError` for host code. `server`, `tool` and `message` are plain strings.
    """


class ApprovalError(EngineError, ValueError):
    """A tool policy is malformed, or `resume_execution` named an execution or a call it cannot
    resume (unknown, already resumed, expired, not pending). Nothing was executed."""


class CodeModeError(EngineError, RuntimeError):
    """Code mode was used wrongly: not enabled, an unknown executor, a bad option.

    Also a `RuntimeError`, as mcp_use raised when code mode is not enabled."""


class BridgeError(EngineError, _kernel_errors.BridgeError):
    """A malformed or unexpected frame crossed the RPC bridge."""


class StoreError(EngineError, RuntimeError):
    """A key-value store (`engine.store`) failed or was misused.

    The store could not be reached, its file is corrupt, locked or read-only, its URL is invalid,
    or a key or value has the wrong type. The message names the store by its URL, without any
    password. Also a `RuntimeError`: the store is outside the caller's program."""
