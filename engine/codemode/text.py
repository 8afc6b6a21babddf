"""A result envelope as short text, for the people and models that read it.

The code-mode MCP server sends it as the text content of `execute_code` (next to the envelope
as structured content); `codemode run` prints it, coloured on a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["Paint", "envelope_text"]


class Paint(Protocol):
    """Colours a piece of text by style names (`"bold"`, `"red"`...); the CLI's terminal style is one."""

    def __call__(self, text: str, *styles: str) -> str: ...


def _plain(text: str, *styles: str) -> str:
    return text


def _short(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[: limit - 40] + f"\n... [{len(text) - limit + 40} more characters]"
    return text


def envelope_text(envelope: Mapping[str, Any], *, style: Paint | None = None, limit: int = 20_000) -> str:
    """An envelope as short text: the error (with its line) first, then the output, the result, a summary.

    ```
    error: ToolError: toy.fail: boom (line 3)
      line 3, in <program>
    output:
      starting
    (1 tool call, 12 ms)
    ```

    The output and the result are each cut to about `limit` characters.
    """
    paint = style or _plain
    parts: list[str] = []
    info = envelope.get("error_info")
    if envelope.get("error"):
        parts.append(paint("error: ", "bold", "red") + str(envelope["error"]))
        traceback = info.get("traceback") if isinstance(info, Mapping) else None
        frames = traceback.strip().splitlines() if isinstance(traceback, str) else []
        # The header and the last line (the error again) add nothing to the line above.
        if frames and frames[0].startswith("Traceback"):
            frames = frames[1:]
        if frames and isinstance(info, Mapping) and frames[-1].startswith(f"{info.get('type')}:"):
            frames = frames[:-1]
        parts.extend("  " + line for line in frames)
    logs = envelope.get("logs") or []
    if logs:
        parts.append(paint("output:", "bold"))
        parts.extend("  " + line for line in _short("\n".join(logs), limit).splitlines())
    if not envelope.get("error"):
        parts.append(paint("result: ", "bold", "green") + _short(envelope.get("result"), limit))
    truncation = envelope.get("truncation")
    if isinstance(truncation, Mapping):
        # Said in the text too: the structured content is not what every client shows the model.
        if "result_bytes" in truncation:
            cut = f"{truncation.get('result_bytes')} bytes cut to {truncation.get('kept_bytes')}. "
            parts.append(paint("result cut: ", "bold") + cut + str(truncation.get("how_to_get_more", "")))
        output = truncation.get("output")
        if isinstance(output, Mapping):
            cut = f"{output.get('chars')} characters cut to {output.get('kept_chars')}. "
            parts.append(paint("output cut: ", "bold") + cut + str(output.get("how_to_get_more", "")))
    calls = envelope.get("tool_calls") or []
    seconds = envelope.get("execution_time")
    summary = f"{len(calls)} tool call{'s' if len(calls) != 1 else ''}"
    if isinstance(seconds, int | float):
        summary += f", {seconds * 1000:.0f} ms"
    if envelope.get("truncated"):
        summary += ", output truncated"
    parts.append(paint(f"({summary})", "dim"))
    return "\n".join(parts)
