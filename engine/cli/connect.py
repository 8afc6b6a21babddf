"""Connect every configured server at once, before a command uses them.

`connect_all` records how each server fared, with its latency and server info (`codemode check`
reports it); `load_tools` loads every server's tools for code mode and names the failures on
stderr (`run`, `tools`, `stubs`: starting the servers is not part of a program's time). One server
failing never stops the others.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcp.types import Tool

from engine import EngineError, MCPClient, ServerState

from .render import Spinner

__all__ = ["ServerStatus", "connect_all", "load_tools"]

_CONNECT_WAIT = 24 * 3600.0
"""No deadline of our own: each server's `connect_timeout` (30 s unless configured) bounds its start."""


@dataclass
class ServerStatus:
    """One server's state after a connection attempt."""

    name: str
    state: str
    """`connected`, `failed` or `disabled`."""
    latency: float | None = None
    """Seconds from start to a completed handshake and tool listing."""
    tools: list[Tool] = field(default_factory=list)
    error: str | None = None
    server_info: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.state in ("connected", "disabled")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        info = self.server_info or {}
        return {
            "name": self.name,
            "state": self.state,
            "latency_ms": None if self.latency is None else round(self.latency * 1000, 1),
            "tool_count": len(self.tools),
            "tools": [tool.name for tool in self.tools],
            "server": {"name": info.get("name"), "version": info.get("version")} if info else None,
            "error": self.error,
        }


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EngineError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


async def connect_all(
    client: MCPClient,
    *,
    on_done: Callable[[ServerStatus, int, int], None] | None = None,
) -> list[ServerStatus]:
    """Start every usable server concurrently; return one status per configured server, in config order.

    `on_done(status, finished, total)` is called as each server finishes (for a progress display).
    """
    names = client.get_server_names()
    usable = client.usable_servers()
    statuses: dict[str, ServerStatus] = {
        name: ServerStatus(name, "disabled", error="disabled or not selected") for name in names if name not in usable
    }
    finished = 0

    async def start(name: str) -> None:
        nonlocal finished
        started = time.perf_counter()
        try:
            session = await client.create_session(name)
            status = ServerStatus(
                name, "connected", time.perf_counter() - started, session.tools, server_info=session.session_info
            )
        except Exception as exc:  # noqa: BLE001 - every failure is reported, per server
            status = ServerStatus(name, "failed", time.perf_counter() - started, error=_describe(exc))
        statuses[name] = status
        finished += 1
        if on_done is not None:
            on_done(status, finished, len(usable))

    await asyncio.gather(*(start(name) for name in usable))
    return [statuses[name] for name in names]


async def load_tools(client: MCPClient, *, quiet: bool = False) -> list[ServerState]:
    """Connect every usable server at once and wait until each has its tools or has failed.

    Failures are named on stderr unless `quiet`; the states are returned in configuration order.
    """
    mode = client.code_mode_engine()
    with Spinner(quiet=quiet).running("connecting to servers"):
        mode.tool_host.start_loading()
        await mode.tool_host.wait_loaded(_CONNECT_WAIT)
    states = mode.states()
    if not quiet:
        for state in states:
            if state.state == "failed":
                print(f"codemode: {state.server}: unavailable: {state.error}", file=sys.stderr)
    return states
