"""Code mode as an MCP server: tools `execute_code` and `search_tools`, a prompt, a stubs resource.

One server, two users: the `code_mode` pseudo-session of `MCPClient.get_all_active_sessions()`
(in-process, as mcp_use presents code mode) and the `codemode serve` command.

```python
server = build_code_mode_server(client.code_mode_engine(), name="codemode")
```

- `execute_code(code, timeout=None)` runs one program and returns the envelope as structured
  content plus a short text (error with its line, output, result); a failing program is a result
  with `isError: true`. While it runs, printed lines stream as MCP log messages and progress is
  reported every second.
- `search_tools(query, detail_level, limit)`: ranked search over every server's tools.
- prompt `code_mode` and resource `codemode://stubs`, rendered when asked (what is loaded then).

The instructions name each server with its tools, or as starting or unavailable; once the
servers that were starting have settled they are rebuilt for the clients that connect later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ContentBlock, InputRequiredResult, TextContent

from ..errors import EngineError
from .arguments import strict_arguments
from .elicit import CANNOT_ASK, can_elicit, input_required, resume_answered, retry_state
from .instructions import INSTRUCTIONS_LIMIT, build_instructions, prompt_text
from .relay import run_program
from .text import envelope_text

if TYPE_CHECKING:
    from .mode import CodeMode

__all__ = ["MAX_PROGRAM_CHARS", "build_code_mode_server"]

MAX_PROGRAM_CHARS = 1_000_000
"""The longest program `execute_code` accepts, in characters (about 1 MB of source).

Far above any program an agent writes; it bounds what one request can make the sandbox parse."""

_SETTLE_WAIT = 60.0
"""Seconds per wait for starting servers before the instructions are rebuilt (again, if still starting)."""


def _text(payload: Any) -> list[ContentBlock]:
    return [TextContent(type="text", text=payload if isinstance(payload, str) else json.dumps(payload, indent=1))]


def _refused(message: str) -> CallToolResult:
    return CallToolResult(content=_text(f"error: {message}"), is_error=True)


def build_code_mode_server(
    mode: CodeMode, *, name: str = "code_mode", instructions_limit: int = INSTRUCTIONS_LIMIT
) -> MCPServer:
    """The code-mode MCP server over `mode` (see the module docstring).

    Args:
        mode: runs the programs and searches (its `limits` are the server's).
        name: the server name clients see.
        instructions_limit: characters of instructions; the stubs are left out past it.
    """

    def instructions() -> str:
        return build_instructions(mode.states(), mode.stubs(), limits=mode.limits, limit=instructions_limit)

    @contextlib.asynccontextmanager
    async def lifespan(app: MCPServer) -> AsyncIterator[dict[str, Any]]:
        refresh = asyncio.get_running_loop().create_task(_refresh_when_settled(app))
        try:
            yield {}
        finally:
            refresh.cancel()

    async def _refresh_when_settled(app: MCPServer) -> None:
        # Instructions are read at each `initialize`: over HTTP, clients that connect once the
        # servers still starting now are up see their tools (stdio has one client, already told).
        while True:
            await mode.tool_host.wait_loaded(_SETTLE_WAIT)
            app._lowlevel_server.instructions = instructions()  # noqa: SLF001 - MCPServer has no setter
            if not any(state.state == "connecting" for state in mode.states()):
                return

    server: MCPServer = MCPServer(name, instructions=instructions(), lifespan=lifespan)

    @server.tool()
    async def execute_code(
        code: str, ctx: Context, timeout: float | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Run a Python program in a sandbox where every MCP server is a namespace of async tool functions.

        Call tools as `await <namespace>.<tool>(name=value)`; top-level `await` and `return` work.
        `print` output comes back in `logs` (and streams as log messages while the program runs).
        Returns `result`, `logs`, `error` (type, message and the line in your code), `execution_time`,
        `tool_calls` and `usage`. `timeout` is in seconds (default: the server's limit); a larger
        one is cut to the limit. A program may have at most 1,000,000 characters.
        """
        if len(code) > MAX_PROGRAM_CHARS:
            return _refused(f"the program has {len(code):,} characters; at most {MAX_PROGRAM_CHARS:,} are accepted. "
                            "Pass data through tool calls instead of writing it into the program.")
        limit = mode.limits.timeout
        # Only a valid timeout above the limit is cut to it: an invalid one (0, negative, NaN,
        # infinite) is refused by `mode.execute` with the library's own message.
        if isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > limit:
            timeout = limit
        try:
            if retry_state(ctx) is not None:  # a retry with the person's answers (2026-07-28 on)
                envelope = await resume_answered(mode, ctx)
            else:
                envelope = await run_program(mode, code, timeout=timeout, ctx=ctx)
            while envelope.get("status") == "paused":
                if can_elicit(ctx):
                    return input_required(envelope)
                envelope = await mode.resume(envelope["execution_id"], reject="all", reason=CANNOT_ASK)
        except EngineError as exc:
            return _refused(str(exc))
        plain = dict(envelope)
        return CallToolResult(
            content=_text(envelope_text(plain)), structured_content=plain, is_error=plain.get("error") is not None
        )

    @server.tool()
    async def search_tools(
        query: str = "", detail_level: str = "descriptions", limit: int | None = 10
    ) -> CallToolResult:
        """Search the tools of every MCP server, best match first.

        `detail_level`: "names", "descriptions" or "full" (adds the input and output schemas).
        An empty query lists every tool. Each result names the `namespace` and `identifier` to call.
        """
        try:
            found = await mode.search(query, detail_level=detail_level, limit=limit)
        except EngineError as exc:
            return _refused(str(exc))
        return CallToolResult(content=_text(found), structured_content=found)

    @server.prompt(name="code_mode", description="How to use code mode here, with the stubs of every tool.")
    def code_mode_prompt() -> str:
        return prompt_text(mode.states(), mode.stubs(), limits=mode.limits)

    @server.resource("codemode://stubs", name="stubs", mime_type="text/x-python")
    def stubs_resource() -> str:
        """The typed Python stubs of every tool loaded now, one class per server."""
        return mode.stubs() or _no_stubs(mode)

    strict_arguments(server)  # a bad argument is refused with the reason, never converted or dropped
    return server


def _no_stubs(mode: CodeMode) -> str:
    waiting = [state.server for state in mode.states() if state.state != "failed"]
    if waiting:
        return f"# No tools loaded yet; starting or not yet used: {', '.join(waiting)}.\n"
    return "# No tools: no server is available.\n"
