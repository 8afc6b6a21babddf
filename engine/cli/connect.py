"""Connect every configured server at once and record how each one fared.

Used by `codemode check` (the report is the output), by `tools`/`stubs` (which need the tools), and
by `serve` (which starts with the servers that came up and says which did not). One server failing
never stops the others: each outcome is a `ServerStatus`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcp.types import Tool

from ..client import MCPClient
from ..config import parse_config
from ..errors import EngineError

__all__ = ["ServerStatus", "connect_all"]


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
    parsed = parse_config(client.config)
    allowed = client.allowed_servers
    usable = [n for n in names if not parsed[n].disabled and (allowed is None or n in allowed)]
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
