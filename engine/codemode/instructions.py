"""What the code-mode MCP server tells a connecting agent: how code mode works, its limits, its namespaces.

Built from the `ServerState` of every usable server, so a server that is still starting or that
failed is named as such ("starting", "unavailable: why") instead of silently missing: an agent
that later gets a `NameError` for it already knows why.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..limits import Limits
from ..tools import ServerState
from .prompt import CODE_MODE_SYSTEM_PROMPT

__all__ = ["INSTRUCTIONS_LIMIT", "build_instructions", "prompt_text"]

INSTRUCTIONS_LIMIT = 12_000
"""Characters of server instructions; past it the stubs are left out (the `code_mode` prompt still has them)."""

_MORE = "\n- ... (more: use the search_tools tool)"
_STUBS_HEADING = "\n\nTool signatures (Python stubs):\n\n"


def _server_line(state: ServerState) -> str:
    if state.state == "connected":
        names = ", ".join(sorted(state.tools)) or "(no tools)"
        return f"- {state.namespace} (server {state.server!r}, {len(state.tools)} tools): {names}"
    if state.state == "failed":
        return f"- {state.server}: unavailable: {state.error or 'it failed to start'}"
    if state.state == "connecting":
        return f"- {state.server}: starting (a program that uses it waits for it; search_tools lists its tools once up)"
    return f"- {state.server}: not connected yet (it connects when a program or search_tools first needs it)"


def build_instructions(
    states: Sequence[ServerState],
    stubs: str = "",
    *,
    limits: Limits | None = None,
    limit: int = INSTRUCTIONS_LIMIT,
) -> str:
    """How code mode works, the limits of a program, then each server: its namespace and tools, or its state.

    The text is cut to `limit` characters (the list of servers ends with a pointer to
    `search_tools`); the `stubs` are appended only when they fit whole.
    """
    lines = [CODE_MODE_SYSTEM_PROMPT.rstrip(), ""]
    if limits is not None:
        lines += [f"Limits per program: {limits.timeout:g} s, {limits.max_tool_calls} tool calls "
                  f"({limits.max_concurrent_tool_calls} at once), {limits.max_output_chars} characters of output.", ""]
    lines.append("Namespaces available in execute_code programs:")
    lines.extend(_server_line(state) for state in states)
    if not states:
        lines.append("- (none: no server is configured, enabled and allowed)")
    text = "\n".join(lines)
    if len(text) > limit:
        text = text[: limit - len(_MORE)].rsplit("\n", 1)[0] + _MORE
    if stubs and len(text) + len(_STUBS_HEADING) + len(stubs) <= limit:
        text += _STUBS_HEADING + stubs
    return text


def prompt_text(states: Sequence[ServerState], stubs: str, *, limits: Limits | None = None) -> str:
    """The `code_mode` prompt: the instructions, uncut, with every stub whatever their length."""
    text = build_instructions(states, limits=limits, limit=sys.maxsize)
    return text + _STUBS_HEADING + stubs if stubs else text
