"""The result envelope every executor returns: plain data, compatible with mcp_use's `execute_code`.

mcp_use's keys are `result`, `logs`, `error` and `execution_time`; the rest is what an agent needs
to fix its code: the error's type, message and line in its own program, a trace of the tool calls,
usage against each limit, and whether output was truncated.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = ["Envelope", "ErrorInfo", "ToolCallRecord", "Usage", "error_envelope", "format_error"]

ToolOutcome = Literal["ok", "error", "denied", "limit", "cancelled"]


class ErrorInfo(TypedDict):
    """Why a program failed, in terms of the agent's own code."""

    type: str
    """The exception's class name, e.g. `NameError`, `ToolError`, `TimeoutError`, `SyntaxError`."""
    message: str
    """The exception's message."""
    line: int | None
    """The line in the agent's program (1-based), when known."""
    traceback: str
    """A short traceback with only the agent's frames (`line N, in f`), no engine frames."""


class ToolCallRecord(TypedDict):
    """One tool call the program made, as the bridge saw it."""

    tool: str
    """`namespace.tool`."""
    duration: float
    """Seconds from the call frame to its reply."""
    outcome: ToolOutcome
    """`ok`, `error` (the tool failed), `denied` (not allowed), `limit` (over a limit) or `cancelled`."""


class Usage(TypedDict):
    """What the program consumed, next to each limit."""

    wall_time: float
    cpu_time: float
    tool_calls: int
    output_chars: int
    result_bytes: int
    peak_memory_bytes: int
    limits: dict[str, Any]


class Envelope(TypedDict):
    """What `execute_code` returns."""

    result: Any
    """The program's return value, as plain data (None when it failed)."""
    logs: list[str]
    """`print` output, one entry per line."""
    error: str | None
    """`"Type: message (line N)"`, or None on success. A string, as in mcp_use."""
    execution_time: float
    """Wall-clock seconds."""
    error_info: ErrorInfo | None
    tool_calls: list[ToolCallRecord]
    usage: Usage
    truncated: bool
    """True when `print` output went over `max_output_chars` and was cut (a marker is in `logs`)."""


def format_error(info: ErrorInfo) -> str:
    """Render an `ErrorInfo` as the one-line `error` string of the envelope."""
    where = f" (line {info['line']})" if info["line"] is not None else ""
    return f"{info['type']}: {info['message']}{where}"


def error_envelope(info: ErrorInfo, *, execution_time: float = 0.0, limits: dict[str, Any] | None = None) -> Envelope:
    """An envelope for a program that failed before or without running."""
    return Envelope(
        result=None,
        logs=[],
        error=format_error(info),
        execution_time=execution_time,
        error_info=info,
        tool_calls=[],
        usage=Usage(
            wall_time=execution_time,
            cpu_time=0.0,
            tool_calls=0,
            output_chars=0,
            result_bytes=0,
            peak_memory_bytes=0,
            limits=limits or {},
        ),
        truncated=False,
    )
