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
- **Change tracking.** A server loaded, failed or forgotten (its session closed) bumps a version, and
  `toolset()` builds a new frozen `ToolSet` only then.
- **Refresh on `tools/list_changed`, coalesced.** A change notice only marks the server's listing
  stale; the listing a program sees is always the last complete one, swapped whole when a new one
  arrives (never dropped, so a server is never missing between two listings). The next program
  that names a stale server (or a search) starts one `tools/list` and waits for it within its own
  deadline; notices that arrive meanwhile cost at most one more. A flood of notices thus costs a
  number of `tools/list` calls bounded by the programs that need the server, not by the flood.
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
        # Change notices seen per server, and the count the loaded listing answers: a listing
        # fetched when `_wanted` was n is stale once a later notice makes it n + 1.
        self._wanted: dict[str, int] = {}
        self._fetched: dict[str, int] = {}
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()
        self._version = 0
        self._snapshot: tuple[tuple[Any, ...], ToolSet] | None = None

    # -- loading ------------------------------------------------------------------------------

    def _due(self, server: str, now: float, refresh: bool) -> bool:
        if server in self._loading:
            return False
        if server in self._tools:
            return refresh and self._stale(server)
        failed = self._failed.get(server)
        return failed is None or now - failed[1] >= self.retry_after

    def _stale(self, server: str) -> bool:
        """Whether the server said its tools changed after its listing was fetched."""
        return self._fetched.get(server, 0) < self._wanted.get(server, 0)

    def _behind(self, server: str, wanted: int) -> bool:
        """Whether the server's listing predates the `wanted`-th change notice (or there is none)."""
        return server not in self._tools or self._fetched.get(server, 0) < wanted

    def start_loading(self, servers: Sequence[str] | None = None, *, refresh: bool = False) -> None:
        """Start loading every usable server (or `servers`) whose tools are not known, and with
        `refresh`, listing again those whose tools changed since; returns at once."""
        now = time.monotonic()
        for server in self._source.usable_servers() if servers is None else servers:
            if self._due(server, now, refresh):
                task = asyncio.get_running_loop().create_task(self._load(server), name=f"load tools: {server}")
                self._loading[server] = task
                task.add_done_callback(functools.partial(self._loaded, server))

    def _loaded(self, server: str, task: asyncio.Task[None]) -> None:
        if self._loading.get(server) is task:  # not a load that `forget` replaced
            del self._loading[server]

    async def _load(self, server: str) -> None:
        # The notices counted now are answered by this listing; one arriving later makes it stale.
        wanted = self._wanted.get(server, 0)
        refresh = server in self._tools
        try:
            session = await self._source.connected_session(server)
            self.watch(session)
            # The session's own copy is used only for a first load that no notice has touched.
            fresh = not refresh and wanted == 0 and session.tools
            tools = session.tools if fresh else await session.list_tools()
        except Exception as exc:  # noqa: BLE001 - one server's failure is recorded, never raised to others
            reason = str(exc) or type(exc).__name__
            if refresh:
                reason = f"its tools changed and listing them again failed: {reason}"
                self._tools.pop(server, None)
                self._skipped.pop(server, None)
            self._failed[server] = (reason, time.monotonic())
            logger.warning("code mode: server %r is unavailable: %s", server, reason)
            self._changed()
            return
        listed, skipped = list(tools), dict(session.skipped_tools)
        self._fetched[server] = wanted
        self._failed.pop(server, None)
        if self._tools.get(server) != listed or self._skipped.get(server) != skipped:
            # Swapped whole, in one step: a program sees the old listing or the new one, never a mix.
            self._tools[server], self._skipped[server] = listed, skipped
            self._changed()

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
        A named server whose tools changed is listed again, and waited for the same way.
        """
        servers = self._source.usable_servers()
        now = time.monotonic()
        if not self._loading and not any(self._due(server, now, refresh=True) for server in servers):
            return 0.0  # the usual case: nothing loading and nothing to start, so nothing to wait for
        self.start_loading(servers)
        if code is not None:
            servers = servers_named_in(code, servers)
        # The notices seen when the program arrives: it waits for a listing at least that new (a
        # refresh that started before the last of them is followed by one more), not for the
        # server to fall quiet, so a server that never stops announcing holds nobody.
        wanted = {server: self._wanted.get(server, 0) for server in servers}
        self.start_loading(servers, refresh=True)  # only the servers it names are listed again
        if timeout is not None and timeout <= 0:
            return 0.0
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout
        waited = False
        while True:
            pending = self._pending(wanted)
            if not pending:
                break
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            waited = True
            await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            self.start_loading([server for server in servers if self._behind(server, wanted[server])], refresh=True)
        return time.monotonic() - started if waited else 0.0

    def _pending(self, wanted: dict[str, int]) -> list[asyncio.Task[None]]:
        """The loads in flight of the servers in `wanted` whose listing is older than it asks."""
        loading = self._loading.items()
        return [task for server, task in loading if server in wanted and self._behind(server, wanted[server])]

    def current(self) -> ToolSet:
        """The snapshot of what is loaded now (no I/O, no waiting)."""
        servers = tuple(self._source.usable_servers())
        # A server being refreshed keeps its listing: only first loads change what is unavailable.
        starting = tuple(sorted(server for server in self._loading if server not in self._tools))
        key = (self._version, servers, starting)
        if self._snapshot is not None and self._snapshot[0] == key:
            return self._snapshot[1]
        unavailable = {server: f"server {server!r} is still starting" for server in starting}
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
        # Only counted: the listing stays until a new one replaces it (see the module docstring).
        self._wanted[session.name] = self._wanted.get(session.name, 0) + 1

    def forget(self, server: str) -> None:
        """Drop what is known of a server whose session closed (it loads again on next use)."""
        task = self._loading.pop(server, None)
        if task is not None:
            task.cancel()
        self._tools.pop(server, None)
        self._fetched.pop(server, None)
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
