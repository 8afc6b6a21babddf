"""The result envelope every executor returns: plain data, compatible with mcp_use's `execute_code`.

mcp_use's keys are `result`, `logs`, `error` and `execution_time`; the rest is what an agent needs
to fix its code: the error's type, message and line in its own program, a trace of the tool calls,
usage against each limit, and whether output was truncated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NotRequired, TypedDict

from .kernel.report import ErrorInfo, valid_text

__all__ = [
    "CheckFinding",
    "Envelope",
    "OPTIONAL_KEYS",
    "ErrorInfo",
    "PendingCallInfo",
    "ToolCallRecord",
    "Usage",
    "build_envelope",
    "error_envelope",
    "format_error",
]

ToolOutcome = Literal["ok", "error", "denied", "rejected", "planned", "limit", "cancelled", "unknown"]


class ToolCallRecord(TypedDict):
    """One tool call the program made, as the bridge saw it."""

    tool: str
    """`namespace.tool`."""
    duration: float
    """Seconds from the call frame to its reply."""
    outcome: ToolOutcome
    """`ok`, `error` (the tool failed), `denied` (not allowed), `limit` (over a limit), `cancelled`
    (cancelled in flight, by the program or because the run ended) or `unknown` (the program ended
    while it was in flight). A `cancelled` or `unknown` call may have reached the server: its effect
    is not known."""


class Usage(TypedDict):
    """What the program consumed, next to each limit."""

    wall_time: float
    cpu_time: float
    tool_calls: int
    output_chars: int
    result_bytes: int
    peak_memory_bytes: int
    limits: dict[str, Any]


class PendingCallInfo(TypedDict):
    """A tool call that waits for a person's decision (an envelope with `status` "paused")."""

    id: str
    """What `resume_execution(approve=[...], reject=[...])` names it by."""
    tool: str
    """`server.tool`."""
    arguments: dict[str, Any]


class CheckFinding(TypedDict):
    """What the pre-run type check found that did not stop the run (or why it did not run)."""

    type: str
    """The exception the run would likely raise (`KeyError`, `AttributeError`, `TypeError`), or
    `TypeCheckSkipped` when the check did not run (the message says why)."""
    message: str
    line: int | None
    """In the agent's program, 1-based."""
    column: int | None
    """1-based, in characters."""
    rule: str
    """The checker's rule (`invalid-typed-dict-key`, `unresolved-reference`...), "" when skipped."""


class Envelope(TypedDict):
    """What `execute_code` returns."""

    status: Literal["ok", "error", "paused"]
    """`ok`, `error`, or `paused`: the program waits for decisions on the `pending` calls
    (`resume_execution(execution_id, ...)` continues it)."""
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
    execution_id: NotRequired[str]
    """A paused execution's id, for `resume_execution`."""
    pending: NotRequired[list[PendingCallInfo]]
    """A paused execution's calls waiting for a decision (all those parked at that moment)."""
    planned_calls: NotRequired[list[dict[str, Any]]]
    """A dry run's calls that would have changed something: `{id, tool, arguments}` each."""
    check_warnings: NotRequired[list[CheckFinding]]
    """The pre-run type check's uncertain findings, or why it did not run (docs/typed-results.md)."""
    truncation: NotRequired[dict[str, Any]]
    """The result was over `max_result_bytes` and was cut to fit: `{result_bytes, kept_bytes, limit,
    cuts, more_cuts, handle, how_to_get_more}` (docs/results.md)."""
    handles: NotRequired[list[dict[str, Any]]]
    """Values kept on the host, opened by a later program with `await results.open(id, ...)`:
    `{id, source, bytes, shape, preview, kept, expires_in}` each (docs/results.md)."""


OPTIONAL_KEYS = frozenset({"execution_id", "pending", "planned_calls", "check_warnings", "truncation", "handles"})
"""The envelope's keys that only some envelopes have (paused ones, dry runs); every other key of
`Envelope` is in every envelope. (Spelt out: with postponed annotations, `TypedDict` cannot tell.)"""


def format_error(info: ErrorInfo) -> str:
    """Render an `ErrorInfo` as the one-line `error` string of the envelope."""
    where = f" (line {info['line']})" if info["line"] is not None else ""
    return f"{info['type']}: {info['message']}{where}"


def build_envelope(
    *,
    result: Any,
    logs: list[str],
    error: ErrorInfo | None,
    elapsed: float,
    limits: dict[str, Any],
    cpu_time: float = 0.0,
    output_chars: int = 0,
    result_bytes: int = 0,
    peak_memory_bytes: int = 0,
    truncated: bool = False,
    tool_calls: Sequence[ToolCallRecord] = (),
    calls: int = 0,
) -> Envelope:
    """The envelope of one execution: the one place every executor builds it.

    `tool_calls` and `calls` come from the execution's host dispatcher (its trace and the calls it
    admitted); a program that failed has `result` None whatever it returned. Every text is made
    valid UTF-8 here (`valid_text`), so no envelope can break an encoder or a client downstream.
    """
    if error is not None:
        error = ErrorInfo(
            type=valid_text(error["type"]),
            message=valid_text(error["message"]),
            line=error["line"],
            traceback=valid_text(error["traceback"]),
            column=error.get("column"),
        )
    return Envelope(
        status="ok" if error is None else "error",
        result=result if error is None else None,
        logs=[valid_text(line) for line in logs],
        error=format_error(error) if error is not None else None,
        execution_time=elapsed,
        error_info=error,
        tool_calls=list(tool_calls),
        usage=Usage(
            wall_time=elapsed,
            cpu_time=cpu_time,
            tool_calls=calls,
            output_chars=output_chars,
            result_bytes=result_bytes,
            peak_memory_bytes=peak_memory_bytes,
            limits=limits,
        ),
        truncated=truncated,
    )


def error_envelope(info: ErrorInfo, *, execution_time: float = 0.0, limits: dict[str, Any] | None = None) -> Envelope:
    """An envelope for a program that failed before or without running."""
    return build_envelope(result=None, logs=[], error=info, elapsed=execution_time, limits=limits or {})
