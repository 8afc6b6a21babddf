"""The exceptions a program sees for a failed tool call, and the one mapping from wire error to exception.

```
Exception
├── ToolError            a tool failed: the server said isError, or the call could not be made
└── RuntimeError
    ├── ToolLimitError   the execution used up its tool-call budget (not a ToolError: a program's
    │                    `except ToolError` must not swallow the budget)
    └── BridgeError      a malformed or unexpected frame crossed the bridge
```

An `error` frame carries `{type, message, server?, tool?}` as data; `raise_for` turns it into the
exception the program raises, by the table `protocol.ERROR_KINDS`. The host's `engine.ToolError` and
`engine.BridgeError` subclass these, so there is one class per concept on both sides.

Standard library only: ships to guests with the kernel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .protocol import ERROR_KINDS

__all__ = ["BridgeError", "ToolError", "ToolLimitError", "raise_for"]


class ToolError(Exception):
    """A tool call failed: the server returned `isError`, or the call could not be made.

    Catchable in programs. `server`, `tool` and `message` are plain strings.
    """

    def __init__(self, server: str, tool: str, message: str) -> None:
        super().__init__(f"{server}.{tool}: {message}")
        self.server = server
        self.tool = tool
        self.message = message


class ToolLimitError(RuntimeError):
    """The execution used up its tool-call budget (`max_tool_calls`)."""


class BridgeError(RuntimeError):
    """A malformed or unexpected frame crossed the bridge."""


_BUILTIN: dict[str, type[Exception]] = {
    "PermissionError": PermissionError,
    "TimeoutError": TimeoutError,
    "TypeError": TypeError,
    "ValueError": ValueError,
    "AttributeError": AttributeError,
    "KeyError": KeyError,
    "LookupError": LookupError,
    "RuntimeError": RuntimeError,
    "ToolLimitError": ToolLimitError,
    "BridgeError": BridgeError,
}
assert set(_BUILTIN) | {"ToolError"} == set(ERROR_KINDS), "every error kind has exactly one class"


def raise_for(error: Mapping[str, Any], server: str, tool: str, tool_error: type[Exception] = ToolError) -> Exception:
    """The exception for an `error` frame's `error` of a call to `server.tool` (returned, not raised)."""
    kind = str(error.get("type"))
    message = str(error.get("message", ""))
    if kind == "ToolError":
        return tool_error(error.get("server") or server, error.get("tool") or tool, message)
    cls = _BUILTIN.get(kind)
    if cls is not None:
        return cls(message)
    return BridgeError(f"unknown error kind {kind!r}: {message}")
