"""The MCP server `codemode serve` exposes: two tools in front of every configured server.

`build_server(client, statuses)` returns an `MCPServer` with

- `execute_code(code, timeout)`: runs the program through `MCPClient.execute_code`; returns the
  envelope as structured content and a short text rendering (error with its line, output, result).
  While the program runs, the caller gets a progress notification every second and, where the
  executor can stream output, each printed line as an MCP log message (`logger="stdout"`).
- `search_tools(query, detail_level, limit)`: ranked search over every server's tools.
- a prompt `code_mode` and a resource `codemode://stubs`: the instructions and the typed stubs.

Its `instructions` are generated from the servers that connected: each namespace with its tools,
plus the rendered stubs when they fit in `INSTRUCTIONS_LIMIT` characters.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ContentBlock, TextContent

from ..client import MCPClient
from ..codemode import CODE_MODE_SYSTEM_PROMPT
from ..errors import EngineError
from ..limits import Limits
from ..stubs import render_all, specs_for_server
from ..stubs.spec import namespace_identifier
from .connect import ServerStatus
from .render import envelope_text

__all__ = ["INSTRUCTIONS_LIMIT", "STREAMS_OUTPUT", "build_instructions", "build_server", "render_stubs"]

logger = logging.getLogger("engine.cli")

INSTRUCTIONS_LIMIT = 12_000
"""Characters of server instructions; past it the stubs are left out (the prompt still has them)."""

STREAMS_OUTPUT = "on_log" in inspect.signature(MCPClient.execute_code).parameters
"""Whether `execute_code` can hand over printed lines while the program runs (the `on_log` hook)."""

_PROGRESS_INTERVAL = 1.0
_LOG_LINES_AFTER = 200
"""Without live streaming, at most this many printed lines are sent as log messages after the run."""


def render_stubs(statuses: Sequence[ServerStatus]) -> str:
    """Python stubs of every connected server's tools (empty when none connected)."""
    specs = {}
    for status in statuses:
        if status.state == "connected":
            try:
                specs[namespace_identifier(status.name)] = specs_for_server(
                    status.name, status.tools, on_collision="original_only"
                )
            except (ValueError, TypeError) as exc:
                logger.warning("no stubs for server %r: %s", status.name, exc)
    return render_all(specs) if specs else ""


def _identifiers(status: ServerStatus) -> list[str]:
    """The names a program calls (sanitised: `list-issues` -> `list_issues`)."""
    try:
        specs = specs_for_server(status.name, status.tools, on_collision="original_only")
        return [spec.identifier or f"[{spec.name!r}]" for spec in specs]
    except (ValueError, TypeError):
        return [tool.name for tool in status.tools]


def build_instructions(
    statuses: Sequence[ServerStatus],
    stubs: str = "",
    *,
    limits: Limits | None = None,
    limit: int = INSTRUCTIONS_LIMIT,
) -> str:
    """What a connecting agent is told: how code mode works, its limits, then each namespace and its tools."""
    lines = [CODE_MODE_SYSTEM_PROMPT.rstrip(), ""]
    if limits is not None:
        lines += [f"Limits per program: {limits.timeout:g} s, {limits.max_tool_calls} tool calls "
                  f"({limits.max_concurrent_tool_calls} at once), {limits.max_output_chars} characters of output.", ""]
    lines.append("Namespaces available in execute_code programs:")
    for status in statuses:
        if status.state == "connected":
            names = ", ".join(sorted(_identifiers(status))) or "(no tools)"
            lines.append(f"- {namespace_identifier(status.name)} (server {status.name!r}, "
                         f"{len(status.tools)} tools): {names}")
        elif status.state == "failed":
            lines.append(f"- {namespace_identifier(status.name)}: unavailable ({status.error})")
    text = "\n".join(lines)
    if len(text) > limit:
        text = text[: limit - 80].rsplit("\n", 1)[0] + "\n- ... (more: use the search_tools tool)"
    if stubs and len(text) + len(stubs) + 40 <= limit:
        text += "\n\nTool signatures (Python stubs):\n\n" + stubs
    return text


def _text(payload: Any) -> list[ContentBlock]:
    return [TextContent(type="text", text=payload if isinstance(payload, str) else json.dumps(payload, indent=1))]


class _OutputRelay:
    """Sends printed lines and progress to the caller of one `execute_code` while the program runs.

    Executors hand over output as it is written, in pieces (`on_log(text, stream)`, the shape of
    the bridge's `log` frame); the relay cuts them into lines, one log message per line.
    """

    def __init__(self, ctx: Context, timeout: float) -> None:
        self.ctx = ctx
        self.timeout = timeout
        self.lines: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        """(line, stream) to send, in order; None ends the pump."""
        self.sent = 0
        self._partial: dict[str, str] = {}
        self._loop = asyncio.get_running_loop()

    def on_log(self, text: str, stream: str = "stdout") -> None:
        """The executor's hook; safe from any thread, and in order with the run's end on the loop's own."""
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is self._loop:
            self._feed(text, stream)
        else:
            self._loop.call_soon_threadsafe(self._feed, text, stream)

    def _feed(self, text: str, stream: str) -> None:
        *complete, self._partial[stream] = (self._partial.get(stream, "") + text).split("\n")
        for line in complete:
            self.lines.put_nowait((line, stream))

    def end(self) -> None:
        """Queue what is left of unfinished lines, then the end marker (on the loop, after every piece)."""
        for stream, rest in self._partial.items():
            if rest:
                self.lines.put_nowait((rest, stream))
        self._partial.clear()
        self.lines.put_nowait(None)

    async def _send(self, line: str, stream: str = "stdout") -> None:
        try:
            await self.ctx.log("info" if stream == "stdout" else "warning", line, logger_name=stream)
            self.sent += 1
        except Exception as exc:  # noqa: BLE001 - a client that stopped listening must not fail the run
            logger.debug("log message not delivered: %r", exc)

    async def pump(self) -> None:
        """Send lines as they come, until the None that `finish` queues after the last one."""
        while (item := await self.lines.get()) is not None:
            await self._send(*item)

    async def tick(self, started: float) -> None:
        while True:
            await asyncio.sleep(_PROGRESS_INTERVAL)
            elapsed = time.perf_counter() - started
            try:
                await self.ctx.report_progress(
                    elapsed, self.timeout, f"running for {elapsed:.0f}s, {self.sent} lines of output"
                )
            except Exception as exc:  # noqa: BLE001 - progress is best effort
                logger.debug("progress not delivered: %r", exc)

    async def finish(self, logs: Sequence[str]) -> None:
        """Without live streaming, send the run's logs now (the pump has sent everything else)."""
        if not STREAMS_OUTPUT:
            for line in logs[:_LOG_LINES_AFTER]:
                await self._send(line)


async def run_program(client: MCPClient, code: str, timeout: float, ctx: Context | None) -> dict[str, Any]:
    """Run one program for a caller, relaying output and progress while it runs."""
    execute: Callable[..., Awaitable[dict[str, Any]]] = client.execute_code
    if ctx is None:
        return await execute(code, timeout)
    relay = _OutputRelay(ctx, timeout)
    extra: dict[str, Any] = {"on_log": relay.on_log} if STREAMS_OUTPUT else {}
    started = time.perf_counter()
    pump, tick = asyncio.create_task(relay.pump()), asyncio.create_task(relay.tick(started))
    try:
        envelope = await execute(code, timeout, **extra)
        # Lines handed over from the program's thread may still be on their way to the loop: they
        # are queued before the end marker because both go through the loop's callback queue.
        asyncio.get_running_loop().call_soon_threadsafe(relay.end)
        await pump
    finally:
        for task in (pump, tick):
            task.cancel()
        await asyncio.gather(pump, tick, return_exceptions=True)
    await relay.finish(envelope.get("logs") or [])
    return envelope


def build_server(
    client: MCPClient,
    statuses: Sequence[ServerStatus],
    *,
    name: str = "codemode",
    instructions_limit: int = INSTRUCTIONS_LIMIT,
) -> MCPServer:
    """The code-mode MCP server over `client` (whose sessions `statuses` describe)."""
    stubs = render_stubs(statuses)
    instructions = build_instructions(statuses, stubs, limits=client.limits, limit=instructions_limit)
    max_timeout = client.limits.timeout
    server: MCPServer = MCPServer(name, instructions=instructions)

    @server.tool()
    async def execute_code(code: str, ctx: Context, timeout: float | None = None) -> CallToolResult:
        """Run a Python program in a sandbox where every MCP server is a namespace of async tool functions.

        Call tools as `await <namespace>.<tool>(name=value)`; top-level `await` and `return` work.
        `print` output comes back in `logs` (and streams as log messages while the program runs).
        Returns `result`, `logs`, `error` (type, message and the line in your code), `execution_time`,
        `tool_calls` and `usage`. `timeout` is in seconds, at most the server's limit.
        """
        seconds = max_timeout if timeout is None or timeout <= 0 else min(float(timeout), max_timeout)
        try:
            envelope = await run_program(client, code, seconds, ctx)
        except EngineError as exc:
            return CallToolResult(content=_text(f"error: {exc}"), is_error=True)
        return CallToolResult(
            content=_text(envelope_text(envelope)),
            structured_content=envelope,
            is_error=envelope.get("error") is not None,
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
            found = await client.search_tools(query, detail_level=detail_level, limit=limit)
        except EngineError as exc:
            return CallToolResult(content=_text(f"error: {exc}"), is_error=True)
        return CallToolResult(content=_text(found), structured_content=found)

    @server.prompt(name="code_mode", description="How to use code mode here, with the stubs of every tool.")
    def code_mode_prompt() -> str:
        return instructions if stubs in instructions else instructions + "\n\nTool signatures:\n\n" + stubs

    @server.resource("codemode://stubs", name="stubs", mime_type="text/x-python")
    def stubs_resource() -> str:
        """The typed Python stubs of every tool, one class per server."""
        return stubs

    return server
