"""`CodeMode`: runs agent programs for one `MCPClient`, with every server's tools as namespaces.

It composes the layers and owns none of their jobs: the catalog (tools, cached, refreshed on
`tools/list_changed`), the stubs (one namespace per server), the bridge dispatcher (allow-list,
limits, trace) and an executor (where the program runs). Servers connect lazily, the first time a
program or a search needs their tools.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp import types

from ..bridge.dispatcher import HostDispatcher
from ..catalog import ToolCatalog
from ..envelope import Envelope
from ..errors import CodeModeError, ToolError
from ..executors import ExecutionRequest, Executor, Send, get_executor
from ..limits import Limits
from ..stubs import PreparedNamespaces, ToolSpec, make_search_tools, namespace_identifier, specs_for_server

if TYPE_CHECKING:
    from ..client import MCPClient
    from ..session import MCPSession

__all__ = ["CodeMode"]

logger = logging.getLogger("engine.codemode")

RETRY_AFTER = 30.0
"""Seconds before code mode tries again to reach a server that failed to start."""


class CodeMode:
    """Runs programs for one client; created by the client on first use of code mode."""

    def __init__(
        self,
        client: MCPClient,
        *,
        executor: str = "restricted",
        executor_options: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.client = client
        self.limits = limits or Limits()
        self.catalog = ToolCatalog()
        self._executor_name = executor
        self._executor_options = dict(executor_options or {})
        self._executor: Executor | None = None
        self._specs: dict[str, list[ToolSpec]] = {}
        self._prepared: _Prepared | None = None
        self._unavailable: dict[str, tuple[str, float]] = {}
        self._load_lock = asyncio.Lock()

    @property
    def executor(self) -> Executor:
        """The executor, created on first use."""
        if self._executor is None:
            self._executor = get_executor(self._executor_name, self._executor_options)
        return self._executor

    # -- sessions and tools -------------------------------------------------------------------

    def watch(self, session: MCPSession) -> None:
        """Refresh a server's tools when it says they changed."""
        session.add_tools_changed_listener(self._tools_changed)

    def forget(self, server: str) -> None:
        """Drop what is known of a server whose session closed."""
        self.catalog.remove(server)
        self._specs.pop(server, None)
        self._prepared = None

    def _tools_changed(self, session: MCPSession) -> None:
        self.catalog.invalidate(session.name)
        self._specs.pop(session.name, None)
        self._prepared = None

    def servers(self) -> list[str]:
        """The servers whose tools programs may use: configured, enabled and allowed."""
        return [name for name in self.client.get_server_names() if self.client._is_usable(name)]

    def _due(self, servers: list[str] | None = None) -> list[str]:
        """Usable servers whose tools are not known yet: never tried, or failed long enough ago."""
        now = time.monotonic()
        return [
            name
            for name in (self.servers() if servers is None else servers)
            if name not in self._specs
            and (name not in self._unavailable or now - self._unavailable[name][1] >= RETRY_AFTER)
        ]

    async def ensure_tools(self) -> dict[str, list[ToolSpec]]:
        """Connect lazily and load the tools of every usable server not yet known; return specs.

        A server that fails is left out (and logged) and tried again only after `RETRY_AFTER`
        seconds, so that one broken server does not slow down every execution.
        """
        async with self._load_lock:
            due = self._due()
            if due:
                results = await asyncio.gather(*(self._load(name) for name in due), return_exceptions=True)
                for name, outcome in zip(due, results, strict=True):
                    if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                        raise outcome
                    if isinstance(outcome, Exception):
                        self._unavailable[name] = (str(outcome), time.monotonic())
                        logger.warning("code mode: server %r is unavailable: %s", name, outcome)
            return {name: self._specs[name] for name in self.servers() if name in self._specs}

    async def _session(self, name: str) -> MCPSession:
        """The server's connected session, connecting it (lazily) if needed."""
        session = self.client.sessions.get(name)
        if session is None or not session.is_connected:
            session = await self.client.create_session(name, auto_initialize=False)
        return session

    async def _load(self, name: str) -> None:
        session = await self._session(name)
        tools = session.tools if session.tools else await session.list_tools()
        self.catalog.set_tools(name, tools)
        self._specs[name] = specs_for_server(name, tools, on_collision="original_only")
        self._unavailable.pop(name, None)
        self._prepared = None

    async def _prepare(self) -> _Prepared:
        """What every execution needs from the tool lists, computed once per change of them."""
        prepared = self._prepared
        if prepared is not None:
            servers = self.servers()
            if prepared.servers == servers and not self._due(servers):
                return prepared
        specs = await self.ensure_tools()
        prepared = _Prepared.build(self.servers(), specs)
        self._prepared = prepared
        return prepared

    # -- the backend the bridge dispatcher calls ------------------------------------------------

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call one tool through the server's session, connecting it if needed."""
        session = await self._session(server)
        return await session.call_tool(tool, arguments)

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        """The backend side of a program's `search_tools(...)`."""
        return await self.search(query, detail_level=detail_level, limit=limit)

    # -- entry points -------------------------------------------------------------------------

    async def search(self, query: str = "", *, detail_level: str = "full", limit: int | None = None) -> dict[str, Any]:
        """Ranked search over every usable server's tools."""
        await self.ensure_tools()
        try:
            return self.catalog.search(query, detail_level=detail_level, limit=limit)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise CodeModeError(f"search_tools: {exc}") from exc

    async def execute(
        self,
        code: str,
        *,
        timeout: float = 30.0,
        session_id: str | None = None,
        on_log: Callable[[str, str], None] | None = None,
    ) -> Envelope:
        """Run one program and return its envelope; tool calls go through a fresh dispatcher."""
        if not isinstance(code, str):
            raise CodeModeError(f"code must be a string, got {type(code).__name__}")
        limits = self._limits_for(timeout)
        prepared = await self._prepare()
        dispatcher = HostDispatcher(self, limits=limits, allowed_servers=self.client.allowed_servers)

        def make_globals(send: Send) -> dict[str, object]:
            names: dict[str, object] = dict(prepared.namespaces.bind(send, tool_error=ToolError))
            names["search_tools"] = make_search_tools(send, tool_error=ToolError)
            names["ToolError"] = ToolError
            listing = {ns: list(tools) for ns, tools in prepared.listing.items()}
            names["tool_namespaces"] = listing
            names["__tool_namespaces"] = listing  # mcp_use's name for it
            return names

        request = ExecutionRequest(
            code=code,
            limits=limits,
            host_channel=dispatcher.handle,
            make_globals=make_globals,
            session_id=session_id,
            on_log=on_log,
            tool_specs=prepared.tool_specs,
        )
        envelope = await self.executor.run(request)
        envelope["tool_calls"] = dispatcher.trace
        envelope["usage"]["tool_calls"] = dispatcher.calls
        return envelope

    def _limits_for(self, timeout: float) -> Limits:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
            raise CodeModeError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
        return self.limits.with_timeout(timeout)

    @property
    def unavailable(self) -> dict[str, str]:
        """Servers that could not be reached for code mode, with the reason."""
        return {name: reason for name, (reason, _) in self._unavailable.items()}

    async def aclose(self) -> None:
        """Release the executor."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await executor.aclose()


@dataclass(frozen=True)
class _Prepared:
    """The tool lists in the shapes an execution needs: by namespace, as names, as plain data."""

    servers: list[str]
    by_namespace: dict[str, list[ToolSpec]]
    namespaces: PreparedNamespaces
    listing: dict[str, list[str]]
    tool_specs: dict[str, list[dict[str, Any]]]

    @classmethod
    def build(cls, servers: list[str], specs: Mapping[str, list[ToolSpec]]) -> _Prepared:
        by_namespace = {namespace_identifier(server): server_specs for server, server_specs in specs.items()}
        return cls(
            servers=servers,
            by_namespace=by_namespace,
            namespaces=PreparedNamespaces(by_namespace),
            listing={ns: [spec.identifier for spec in items] for ns, items in by_namespace.items()},
            tool_specs={ns: [spec.to_dict() for spec in items] for ns, items in by_namespace.items()},
        )
