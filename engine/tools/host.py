"""`ToolHost`: the only code-mode user of sessions: loads each server's tools and calls them.

It reaches servers through a `SessionSource` (the client: which servers are usable, and a connected
session for one of them), so it never imports the client. What it adds:

- **Per-server loading, off the execution path.** Each server's tools load in a task of their own,
  started on first need (or all at once by `start_loading()`, as `codemode serve` does). A program
  waits only for the servers it names that are still loading, and no longer than it is told
  (`toolset(wait=..., code=...)`); a server still starting then is listed as unavailable for that
  program, with the reason.
- **Retry-after.** A server that failed is tried again only `retry_after` seconds later, so one broken
  server does not slow every execution.
- **Change tracking.** `tools/list_changed` from a session, a session closed, a server loaded or failed:
  each bumps a version, and `toolset()` builds a new frozen `ToolSet` only then.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import mcp.types as types

from ..errors import CodeModeError
from ..kernel.stubs import search_arguments
from .toolset import ToolSet, assign_namespaces

if TYPE_CHECKING:
    from ..session import MCPSession

__all__ = ["RETRY_AFTER", "ServerState", "SessionSource", "ToolHost", "servers_named_in"]

logger = logging.getLogger("engine.tools")

RETRY_AFTER = 30.0
"""Seconds before a server that failed to start is tried again."""


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WHOLE_VIEW = frozenset({"search_tools", "tool_namespaces", "__tool_namespaces", "globals", "vars", "dir"})
"""Names through which a program may reach any server: a program using one waits for all."""


def servers_named_in(code: str, servers: Sequence[str]) -> list[str]:
    """The `servers` whose namespace identifier appears as a word in `code` (all of them when it
    uses a name that reaches every server, such as `search_tools`).

    A conservative over-approximation (a word in a string or comment counts too): it decides only
    which loading servers a program waits for, never what it may call.
    """
    words = set(_WORD.findall(code))
    if words & _WHOLE_VIEW:
        return list(servers)
    identifiers = assign_namespaces(servers)
    return [server for server in servers if identifiers[server] in words]


class SessionSource(Protocol):
    """Where a `ToolHost` gets its sessions (implemented by `MCPClient`)."""

    def usable_servers(self) -> list[str]:
        """The servers code mode may use (configured, enabled, allowed), in configuration order."""
        ...

    async def connected_session(self, server: str) -> MCPSession:
        """A connected session for `server`, connecting it if needed (raises `ServerError`)."""
        ...


@dataclass(frozen=True)
class ServerState:
    """How one usable server stands for code mode."""

    server: str
    namespace: str | None
    """The Python name programs use for it (None until it is loaded)."""
    state: Literal["pending", "connecting", "connected", "failed"]
    tools: tuple[str, ...] = ()
    """The names a program calls (a clashing tool as `['original-name']`), once connected."""
    error: str | None = None
    """Why it failed."""
    left_out: tuple[tuple[str, str], ...] = ()
    """`(tool, reason)` for each tool of a connected server that programs cannot use (its listing
    could not be parsed, or its stub could not be built)."""


class ToolHost:
    """Loads and calls the tools of a `SessionSource`'s servers; see the module docstring."""

    def __init__(self, source: SessionSource, *, retry_after: float = RETRY_AFTER) -> None:
        self._source = source
        self.retry_after = retry_after
        self._tools: dict[str, list[types.Tool]] = {}
        self._skipped: dict[str, dict[str, str]] = {}
        self._failed: dict[str, tuple[str, float]] = {}
        self._loading: dict[str, asyncio.Task[None]] = {}
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()
        self._version = 0
        self._snapshot: tuple[tuple[Any, ...], ToolSet] | None = None

    # -- loading ------------------------------------------------------------------------------

    def _due(self, server: str, now: float) -> bool:
        if server in self._tools or server in self._loading:
            return False
        failed = self._failed.get(server)
        return failed is None or now - failed[1] >= self.retry_after

    def start_loading(self, servers: Sequence[str] | None = None) -> None:
        """Start loading every usable server (or `servers`) whose tools are not known; returns at once."""
        now = time.monotonic()
        for server in self._source.usable_servers() if servers is None else servers:
            if self._due(server, now):
                task = asyncio.get_running_loop().create_task(self._load(server), name=f"load tools: {server}")
                self._loading[server] = task
                task.add_done_callback(functools.partial(self._loaded, server))

    def _loaded(self, server: str, task: asyncio.Task[None]) -> None:
        if self._loading.get(server) is task:  # not a load that `forget` replaced
            del self._loading[server]
        self._changed()

    async def _load(self, server: str) -> None:
        try:
            session = await self._source.connected_session(server)
            self.watch(session)
            tools = session.tools if session.tools else await session.list_tools()
        except Exception as exc:  # noqa: BLE001 - one server's failure is recorded, never raised to others
            self._failed[server] = (str(exc) or type(exc).__name__, time.monotonic())
            logger.warning("code mode: server %r is unavailable: %s", server, exc)
            return
        self._tools[server] = list(tools)
        self._skipped[server] = dict(session.skipped_tools)
        self._failed.pop(server, None)

    async def wait_loaded(self, timeout: float) -> None:
        """Wait until no usable server is loading, or `timeout` seconds."""
        pending = [task for server, task in self._loading.items() if server in self._source.usable_servers()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def toolset(self, *, wait: float | None = None, code: str | None = None) -> ToolSet:
        """The current snapshot, after starting due loads and waiting up to `wait` seconds for them
        (with `code`, only for the servers it names: see `wait_for`)."""
        await self.wait_for(code, wait)
        return self.current()

    async def wait_for(self, code: str | None, timeout: float | None) -> float:
        """Start due loads, then wait up to `timeout` seconds for those `code` names (every usable
        server when `code` is None); returns the seconds spent waiting (0.0 when none was loading).

        A program on a healthy server thus never waits for one that hangs. See `servers_named_in`.
        """
        self.start_loading()
        if timeout is not None and timeout <= 0:
            return 0.0
        servers = self._source.usable_servers()
        if code is not None:
            servers = servers_named_in(code, servers)
        pending = [task for server, task in self._loading.items() if server in servers]
        if not pending:
            return 0.0
        started = time.monotonic()
        await asyncio.wait(pending, timeout=timeout)
        return time.monotonic() - started

    def current(self) -> ToolSet:
        """The snapshot of what is loaded now (no I/O, no waiting)."""
        servers = tuple(self._source.usable_servers())
        key = (self._version, servers, tuple(sorted(self._loading)))
        if self._snapshot is not None and self._snapshot[0] == key:
            return self._snapshot[1]
        unavailable = {server: f"server {server!r} is still starting" for server in self._loading}
        unavailable.update({server: reason for server, (reason, _) in self._failed.items()})
        snapshot = ToolSet.build(servers, self._tools, unavailable, skipped=self._skipped)
        self._snapshot = (key, snapshot)
        return snapshot

    # -- changes ------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._version += 1

    def watch(self, session: MCPSession) -> None:
        """Reload a server's tools when its session says they changed (once per session)."""
        if session not in self._watched:
            self._watched.add(session)
            session.add_tools_changed_listener(self._tools_changed)

    def _tools_changed(self, session: MCPSession) -> None:
        if self._tools.pop(session.name, None) is not None:
            self._changed()

    def forget(self, server: str) -> None:
        """Drop what is known of a server whose session closed (it loads again on next use)."""
        task = self._loading.pop(server, None)
        if task is not None:
            task.cancel()
        self._tools.pop(server, None)
        self._failed.pop(server, None)
        self._changed()

    # -- use ----------------------------------------------------------------------------------

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call one tool through the server's session, connecting it if needed."""
        session = await self._source.connected_session(server)
        return await session.call_tool(tool, arguments)

    async def search(
        self, query: str = "", *, detail_level: str = "full", limit: int | None = None, wait: float | None = None
    ) -> dict[str, Any]:
        """Ranked search over every usable server's tools, waiting up to `wait` seconds for servers
        still loading.

        Raises:
            CodeModeError: a bad argument; the message is the one a program's `search_tools` gives.
        """
        try:
            search_arguments(query, detail_level, limit)
        except (TypeError, ValueError) as exc:
            raise CodeModeError(str(exc)) from None
        toolset = await self.toolset(wait=wait)
        # Ranking a long query over many tools takes milliseconds of CPU: off the event loop, so
        # other executions and MCP traffic keep moving meanwhile.
        return await asyncio.to_thread(toolset.catalog.search, query, detail_level, limit)  # type: ignore[arg-type]

    def states(self) -> list[ServerState]:
        """One state per usable server, in configuration order (no I/O)."""
        toolset = self.current()
        states: list[ServerState] = []
        for server in self._source.usable_servers():
            namespace = toolset.namespace_of(server)
            if namespace is not None:
                tools = tuple(spec.identifier or f"[{spec.name!r}]" for spec in toolset.specs[namespace])
                left_out = tuple(toolset.left_out.get(server, {}).items())
                states.append(ServerState(server, namespace, "connected", tools, left_out=left_out))
            elif server in self._loading:
                states.append(ServerState(server, None, "connecting"))
            elif server in self._failed:
                states.append(ServerState(server, None, "failed", error=self._failed[server][0]))
            else:
                states.append(ServerState(server, None, "pending"))
        return states

    @property
    def unavailable(self) -> dict[str, str]:
        """Servers that could not be reached, with the reason."""
        return {server: reason for server, (reason, _) in self._failed.items()}

    async def aclose(self) -> None:
        """Cancel every load in flight."""
        tasks = list(self._loading.values())
        self._loading.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
