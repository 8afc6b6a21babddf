"""Output and progress of one running program, relayed to the MCP client that asked for it.

While `execute_code` runs, each printed line goes to the caller as an MCP log message (logger
`stdout` or `stderr`), and a progress notification goes out every second. Executors hand output
over in pieces as it is written (`on_log(text, stream)`, the shape of the bridge's `log` frame),
possibly from another thread; the relay cuts the pieces into lines and sends them in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from mcp.server.mcpserver import Context

from ..envelope import Envelope
from .elicit import can_ask_now, elicitation_approver

if TYPE_CHECKING:
    from .mode import CodeMode

__all__ = ["PROGRESS_INTERVAL", "OutputRelay", "run_program"]

logger = logging.getLogger("engine.codemode")

PROGRESS_INTERVAL = 1.0
"""Seconds between two progress notifications while a program runs."""


class OutputRelay:
    """Sends printed lines and progress to the caller of one `execute_code` while the program runs."""

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

    async def _send(self, line: str, stream: str) -> None:
        try:
            await self.ctx.log("info" if stream == "stdout" else "warning", line, logger_name=stream)
            self.sent += 1
        except Exception as exc:  # noqa: BLE001 - a client that stopped listening must not fail the run
            logger.debug("log message not delivered: %r", exc)

    async def pump(self) -> None:
        """Send lines as they come, until the None that `end` queues after the last one."""
        while (item := await self.lines.get()) is not None:
            await self._send(*item)

    async def tick(self, started: float) -> None:
        """A progress notification every `PROGRESS_INTERVAL` seconds, until cancelled."""
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            elapsed = time.perf_counter() - started
            try:
                await self.ctx.report_progress(
                    elapsed, self.timeout, f"running for {elapsed:.0f}s, {self.sent} lines of output"
                )
            except Exception as exc:  # noqa: BLE001 - progress is best effort
                logger.debug("progress not delivered: %r", exc)


async def run_program(mode: CodeMode, code: str, *, timeout: float | None, ctx: Context | None) -> Envelope:
    """Run one program through `mode`, relaying its output and progress to `ctx`'s client while it runs.

    Raises:
        CodeModeError: what `mode.execute` refuses (a bad timeout, code that is not a string).
    """
    if ctx is None:
        return await mode.execute(code, timeout=timeout)
    approver = elicitation_approver(ctx) if can_ask_now(ctx) else None
    relay = OutputRelay(ctx, mode.limits.timeout if timeout is None else timeout)
    started = time.perf_counter()
    pump, tick = asyncio.create_task(relay.pump()), asyncio.create_task(relay.tick(started))
    try:
        envelope = await mode.execute(code, timeout=timeout, on_log=relay.on_log, approver=approver)
        # Lines handed over from the program's thread may still be on their way to the loop: they
        # are queued before the end marker because both go through the loop's callback queue.
        asyncio.get_running_loop().call_soon_threadsafe(relay.end)
        await pump
    finally:
        for task in (pump, tick):
            task.cancel()
        await asyncio.gather(pump, tick, return_exceptions=True)
    return envelope
