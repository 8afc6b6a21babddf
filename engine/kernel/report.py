"""What a program produced, as plain data: its return value (`to_plain`) and its exception (`error_info`).

`to_plain` copies the return value into fresh built-in containers (None, bool, int, float, str,
bytes, list, dict with str keys). Dates become ISO strings, sets become lists, `Decimal` and
`Fraction` become strings; anything else is refused with a `TypeError` naming the path, so no
live object reaches the caller. Only C-level methods of the built-in types are called, never a
method the program could have overridden.

`error_info` describes an exception in terms of the agent's code: type, message, the line, and a
traceback made only of frames compiled from the agent's source. `ErrorInfo` is its shape, the one
the envelope carries.

Standard library only: ships to guests with the kernel.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import traceback
from types import TracebackType
from typing import Any, NotRequired, TypedDict

from .program import AGENT_FILENAME, MAIN_NAME

__all__ = ["ErrorInfo", "error_info", "plain_error", "to_plain", "valid_text"]


def valid_text(text: str) -> str:
    """`text` as valid UTF-8: a lone surrogate (`"\\ud800"`, or bytes decoded with `surrogateescape`)
    becomes its escape. Programs can print such strings; no JSON or msgpack encoder, and no MCP
    client, accepts them, so every string that leaves a run as text goes through here."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


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
    column: NotRequired[int | None]
    """The column in that line (1-based, in characters), when known: the expression that failed."""


def plain_error(type_name: str, message: str, line: int | None = None) -> ErrorInfo:
    """An error that is not tied to a frame of the program (a stop, the result, a crash)."""
    message = valid_text(message)
    return ErrorInfo(type=type_name, message=message, line=line, traceback=f"{type_name}: {message}", column=None)

_MAX_DEPTH = 100
_MAX_MESSAGE = 2000


def to_plain(value: Any, budget: int = 1 << 62) -> Any:
    """A plain-data copy of `value`, or `TypeError`; `ValueError` past `budget` bytes. Every value
    encodes to at least a byte and a string or bytes to at least its length, so a result over the
    byte limit is refused while it is copied, before it is encoded (`[big] * k` counts `big` k times)."""
    return _Copier(budget).copy(value, "result", 0)


class _Copier:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.seen: set[int] = set()

    def copy(self, value: Any, path: str, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise ValueError("the result has more values than its size limit allows")
        return _to_plain(self, value, path, depth)


def _to_plain(copier: _Copier, value: Any, path: str, depth: int) -> Any:
    t = type(value)
    if value is None or t is bool or t is int or t is float:
        return value
    if t is str or t is bytes:
        copier.budget -= len(value)
        if copier.budget < 0:
            raise ValueError("the result holds more text than its size limit allows")
        return value
    if depth > _MAX_DEPTH:
        raise TypeError(f"{path}: nested more than {_MAX_DEPTH} levels deep")
    seen = copier.seen
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, datetime.datetime):
        return datetime.datetime.isoformat(value)
    if isinstance(value, datetime.date):
        return datetime.date.isoformat(value)
    if isinstance(value, datetime.time):
        return datetime.time.isoformat(value)
    if isinstance(value, datetime.timedelta):
        return datetime.timedelta.total_seconds(value)
    if isinstance(value, decimal.Decimal):
        return decimal.Decimal.__str__(value)
    if isinstance(value, fractions.Fraction):
        return fractions.Fraction.__str__(value)
    marker = id(value)
    if marker in seen:
        raise TypeError(f"{path}: contains a reference cycle")
    seen.add(marker)
    try:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in dict.items(value):
                out[_key(key, path)] = copier.copy(item, f"{path}[{key!r}]"[:200], depth + 1)
            return out
        if isinstance(value, (list, tuple, collections.deque)):
            items = list.copy(value) if isinstance(value, list) else tuple(tuple.__iter__(value)) if isinstance(
                value, tuple) else list(collections.deque.__iter__(value))
            return [copier.copy(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(items)]
        if isinstance(value, (set, frozenset)):
            members = [copier.copy(item, f"{path}{{...}}", depth + 1) for item in set(value)]
            try:
                return sorted(members)
            except TypeError:
                return members
    finally:
        seen.discard(marker)
    raise TypeError(
        f"{path}: a value of type {t.__name__!r} is not plain data "
        "(return None, bool, int, float, str, bytes, lists and dicts)"
    )


def _key(key: Any, path: str) -> str:
    t = type(key)
    if t is str:
        return key  # type: ignore[no-any-return]
    if key is None or t in (bool, int, float):
        return str(key)
    if isinstance(key, str):
        return str.__str__(key)
    raise TypeError(f"{path}: dict key of type {t.__name__!r} is not a string")


def _agent_frames(tb: TracebackType | None) -> list[tuple[int, str]]:
    frames: list[tuple[int, str]] = []
    for frame, lineno in traceback.walk_tb(tb):
        code = frame.f_code
        if code.co_filename == AGENT_FILENAME:
            name = "<module>" if code.co_name == MAIN_NAME else code.co_name
            frames.append((lineno, name))
    return frames


def _last_agent_column(tb: TracebackType | None, source_lines: tuple[str, ...]) -> int | None:
    """The 1-based column (in characters) of the expression the agent's innermost frame was running."""
    found: int | None = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == AGENT_FILENAME:
            found = None
            try:  # co_positions is Python 3.11+; a guest on an older Python has no column
                line, _, start, _ = list(code.co_positions())[tb.tb_lasti // 2]
            except (AttributeError, IndexError, ValueError):
                line = start = None
            if line is not None and start is not None and 0 < line <= len(source_lines):
                # co_positions counts UTF-8 bytes.
                prefix = source_lines[line - 1].encode("utf-8", "surrogatepass")[:start]
                found = len(prefix.decode("utf-8", "replace")) + 1
        tb = tb.tb_next
    return found


def error_info(
    exc: BaseException,
    source_lines: tuple[str, ...],
    *,
    type_name: str | None = None,
    message: str | None = None,
) -> ErrorInfo:
    """Describe `exc` with only the agent's frames."""
    name = type_name or type(exc).__name__
    if message is None:
        try:
            message = str(exc)
        except Exception:  # a broken __str__ must not break error reporting
            message = "<unprintable message>"
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    message = valid_text(message)
    frames = _agent_frames(exc.__traceback__)
    lines = ["Traceback (most recent call last):"]
    repeats = 0
    shown = 0
    for index, (lineno, func) in enumerate(frames):
        if index and frames[index - 1] == (lineno, func):
            repeats += 1
            if repeats >= 3:
                continue
        else:
            if repeats >= 3:
                lines.append(f"  [previous line repeated {repeats - 2} more times]")
            repeats = 0
        shown += 1
        if shown > 30:
            lines.append("  ...")
            break
        lines.append(f"  line {lineno}, in {func}")
        if 0 < lineno <= len(source_lines):
            text = source_lines[lineno - 1].strip()
            if text:
                lines.append(f"    {text[:200]}")
    if repeats >= 3:
        lines.append(f"  [previous line repeated {repeats - 2} more times]")
    lines.append(f"{name}: {message}" if message else name)
    return ErrorInfo(
        type=name,
        message=message,
        line=frames[-1][0] if frames else None,
        traceback="\n".join(lines),
        column=_last_agent_column(exc.__traceback__, source_lines) if frames else None,
    )
