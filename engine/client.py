"""`MCPClient`: many MCP servers, sessions by name, middleware, and the code-mode entry points.

The API is mcp_use's `MCPClient`. The client holds the configuration and the sessions; it reaches
servers only through `MCPSession`. Code mode (`execute_code`, `search_tools`) is delegated to
`engine.codemode`, which runs programs through an executor and never sees a transport.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mcp.client.session import (
    ClientRequestContext,
    ElicitationFnT,
    ListRootsFnT,
    LoggingFnT,
    MessageHandlerFnT,
    SamplingFnT,
)
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from mcp.types import ListRootsResult, Root

from .approvals import ToolPolicy
from .config import CodeModeConfig, ServerConfig, load_config, parse_config, parse_server
from .connectors import Connector, InProcessConnector, connector_for
from .errors import ApprovalError, CodeModeError, ConfigError, NoSessionError, ServerError
from .executors.registry import EXECUTORS
from .limits import Limits
from .middleware import Middleware
from .session import ClientCallbacks, MCPSession, SessionState
from .store import Store, open_store

if TYPE_CHECKING:
    from .codemode import CodeMode
    from .tools import ToolHost

__all__ = ["MCPClient"]

logger = logging.getLogger("engine.client")

CODE_MODE_SERVER = "code_mode"
"""The name of the pseudo-server that presents code mode as tools; never a user server."""


class MCPClient:
    """Client for managing MCP servers and sessions.

    ```python
    client = MCPClient(config="servers.json")          # or a dict, or MCPClient.from_dict(...)
    sessions = await client.create_all_sessions()      # started concurrently
    result = await client.get_session("files").call_tool("read_file", {"path": "a.txt"})
    await client.close_all_sessions()
    ```
    Also an async context manager that closes every session on exit.
    """

    def __init__(
        self,
        config: str | dict[str, Any] | None = None,
        allowed_servers: list[str] | None = None,
        sandbox: bool = False,
        sandbox_options: dict[str, Any] | None = None,
        sampling_callback: SamplingFnT | None = None,
        elicitation_callback: ElicitationFnT | None = None,
        message_handler: MessageHandlerFnT | None = None,
        logging_callback: LoggingFnT | None = None,
        middleware: list[Middleware] | None = None,
        roots: list[Root] | None = None,
        list_roots_callback: ListRootsFnT | None = None,
        code_mode: bool = False,
        verify: bool | None = True,
        *,
        executor: str | None = None,
        executor_options: dict[str, Any] | None = None,
        limits: Limits | dict[str, Any] | None = None,
        tool_policy: ToolPolicy | dict[str, str] | None = None,
        store: str | Store | None = None,
        approval_timeout: float | None = None,
        learn_shapes: bool | None = None,
        check: str | None = None,
        tokenize: bool | list[Any] | None = None,
    ) -> None:
        raw = load_config(config) if isinstance(config, str | Path) else (config or {})
        self._servers: dict[str, ServerConfig] = parse_config(raw)
        self._raw: dict[str, Any] = {"mcpServers": dict(raw.get("mcpServers", {}))}
        self.allowed_servers = list(allowed_servers) if allowed_servers is not None else None
        self.sandbox = sandbox
        self.sandbox_options = sandbox_options
        self.roots = list(roots) if roots is not None else None
        self.callbacks = ClientCallbacks(
            sampling_callback=sampling_callback,
            elicitation_callback=elicitation_callback,
            list_roots_callback=list_roots_callback or self._roots_callback(),
            logging_callback=logging_callback,
            message_handler=message_handler,
        )
        self.middleware: list[Middleware] = list(middleware or [])
        self.verify = True if verify is None else verify
        self.code_mode = code_mode
        # The document's "codeMode" key gives the defaults; what is passed here wins over it.
        defaults = CodeModeConfig.from_document(raw)
        executor = defaults.executor if executor is None else executor
        if executor not in EXECUTORS:
            raise CodeModeError(f"unknown executor {executor!r}; choose one of {sorted(EXECUTORS)}")
        self.executor = executor
        if executor_options is None and executor == defaults.executor:  # options belong to their executor
            executor_options = defaults.executor_options
        self.executor_options = dict(executor_options or {})
        self.limits = defaults.limits if limits is None else Limits.parse(limits)
        self.tool_policy = ToolPolicy.parse(defaults.tool_policy if tool_policy is None else tool_policy)
        self._store_spec: str | Store | None = defaults.store if store is None else store
        self.approval_timeout = defaults.approval_timeout if approval_timeout is None else float(approval_timeout)
        if not 0 < self.approval_timeout < math.inf:
            raise ApprovalError(f"approval_timeout must be a positive number of seconds, got {approval_timeout!r}")
        self.learn_shapes = defaults.learn_shapes if learn_shapes is None else bool(learn_shapes)
        self.check = defaults.check if check is None else check
        if self.check not in ("types", "off"):
            raise CodeModeError(f"check must be 'types' or 'off', got {check!r}")
        self.tokenize: bool | list[Any] = defaults.tokenize if tokenize is None else tokenize
        """Personal data and secrets as tokens in what leaves the engine (docs/results.md)."""
        if self.tokenize:
            from .privacy import parse_detectors

            parse_detectors(self.tokenize)  # a bad detector is refused here, not at the first program
        self.sessions: dict[str, MCPSession] = {}
        self.active_sessions: list[str] = []
        self._tool_host: ToolHost | None = None
        self._code_mode: CodeMode | None = None
        self._code_mode_session: MCPSession | None = None

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, config: dict[str, Any], **kwargs: Any) -> MCPClient:
        """A client from a config dict (`{"mcpServers": {...}}`)."""
        return cls(config=config, **kwargs)

    @classmethod
    def from_config_file(cls, filepath: str, **kwargs: Any) -> MCPClient:
        """A client from a JSON config file."""
        return cls(config=load_config(filepath), **kwargs)

    async def __aenter__(self) -> MCPClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close_all_sessions()

    # -- configuration ------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """The configuration as given (with `${VAR}` not expanded), `{"mcpServers": {...}}`.

        A server given as an object (an `MCPServer`, a low-level `Server`, a connector) appears
        as that object, so `MCPClient(client.config)` reaches the same servers; `save_config`
        leaves such entries out.
        """
        return {"mcpServers": dict(self._raw["mcpServers"])}

    def add_server(self, name: str, server_config: dict[str, Any] | MCPServer | Server[Any] | Connector) -> None:
        """Add (or replace) a server: a config entry, or a server object to reach in-process.

        ```python
        client.add_server("files", {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."]})
        client.add_server("mine", MCPServer("mine"))         # runs in this process, no subprocess
        client.add_server("remote", HttpConnector("remote", "https://example.com/mcp"))
        ```

        Raises:
            ConfigError: the entry is invalid, or the object is not a server or connector (the
                message names the server).
        """
        if name == CODE_MODE_SERVER:
            raise ConfigError(f"server name {name!r} is reserved for code mode")
        self._servers[name] = parse_server(name, server_config)
        self._raw["mcpServers"][name] = dict(server_config) if isinstance(server_config, dict) else server_config

    def remove_server(self, name: str) -> None:
        """Remove a server configuration. An open session stays open until it is closed.

        An unknown name logs a warning and does nothing (as in mcp_use)."""
        if name not in self._servers:
            logger.warning("remove_server: no server named %r; configured: %s", name, sorted(self._servers))
            return
        del self._servers[name]
        del self._raw["mcpServers"][name]
        if name in self.active_sessions:
            self.active_sessions.remove(name)

    def get_server_names(self) -> list[str]:
        """The configured server names (never the internal code-mode server)."""
        return [name for name in self._servers if name != CODE_MODE_SERVER]

    def save_config(self, filepath: str) -> None:
        """Write the configuration, as given, to a JSON file.

        Servers given as objects cannot be written as JSON: they are left out, with a warning
        naming them (the file then configures the other servers).
        """
        servers = self._raw["mcpServers"]
        objects = [name for name, entry in servers.items() if not isinstance(entry, dict)]
        if objects:
            logger.warning(
                "save_config: left out %s, given as server objects (only config entries can be written as JSON)",
                ", ".join(repr(name) for name in objects),
            )
        written = {**self._raw, "mcpServers": {n: e for n, e in servers.items() if isinstance(e, dict)}}
        Path(filepath).write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")

    def add_middleware(self, middleware: Middleware) -> None:
        """Add a middleware; it wraps requests of every session, including open ones."""
        self.middleware.append(middleware)
        for session in self.sessions.values():
            session.middleware.append(middleware)

    # -- sessions -----------------------------------------------------------------------------

    async def create_session(self, server_name: str, auto_initialize: bool = True) -> MCPSession:
        """Create (and by default connect and initialize) the session for one server.

        An existing connected session is returned as is; a failed or closed one is replaced.

        Raises:
            ConfigError: no such server, or it is disabled or not in `allowed_servers`.
            ServerError: the server could not be started (the message names it and says why).
        """
        existing = self.sessions.get(server_name)
        if existing is not None and existing.state in (SessionState.CONNECTED, SessionState.CONNECTING):
            return existing
        config = self._server_config(server_name)
        if existing is not None and existing.state in (SessionState.FAILED, SessionState.CLOSED):
            # A failed or closed session is replaced: close it first, or its owner task and its
            # stderr capture file outlive it (one of each per crash).
            self.sessions.pop(server_name, None)
            await existing.disconnect()
            if self.sessions.get(server_name) is not None:
                return await self.create_session(server_name, auto_initialize)  # replaced meanwhile
        session = MCPSession(
            self._connector(server_name, config),
            auto_connect=True,
            callbacks=self.callbacks,
            middleware=self.middleware,
        )
        self.sessions[server_name] = session
        if server_name not in self.active_sessions:
            self.active_sessions.append(server_name)
        if self._tool_host is not None:
            self._tool_host.watch(session)
        if auto_initialize:
            try:
                await session.initialize()
            except BaseException:
                await self._forget(server_name)
                raise
        return session

    async def create_all_sessions(self, auto_initialize: bool = True) -> dict[str, MCPSession]:
        """Create sessions for every configured (and allowed, enabled) server, concurrently.

        Servers that start keep working when others fail; the failures are then raised together
        as one `ServerError` naming each failed server.
        """
        names = [n for n in self.get_server_names() if self._is_usable(n)]
        results = await asyncio.gather(
            *(self.create_session(name, auto_initialize) for name in names), return_exceptions=True
        )
        failures = [(name, r) for name, r in zip(names, results, strict=True) if isinstance(r, BaseException)]
        for _, failure in failures:
            if not isinstance(failure, Exception):
                raise failure
        if failures:
            summary = "; ".join(str(f) for _, f in failures)
            raise ServerError(",".join(n for n, _ in failures), f"{len(failures)} server(s) failed: {summary}")
        return dict(self.sessions)

    def get_session(self, server_name: str) -> MCPSession:
        """The existing session for a server.

        Raises:
            NoSessionError: there is no session for it (create one first); also a `ValueError`,
                as in mcp_use.
        """
        session = self.sessions.get(server_name)
        if session is None:
            raise NoSessionError(f"no session for server {server_name!r}; call create_session() first")
        return session

    def get_all_active_sessions(self) -> dict[str, MCPSession]:
        """Every active session by server name.

        In code mode this is only the `code_mode` pseudo-server, whose two tools are
        `execute_code` and `search_tools`: an agent framework that lists sessions sees exactly
        those (the real sessions stay reachable through `get_session`).
        """
        if self.code_mode:
            return {CODE_MODE_SERVER: self._code_mode_pseudo_session()}
        return {name: self.sessions[name] for name in self.active_sessions if name in self.sessions}

    async def close_session(self, server_name: str) -> None:
        """Close one server's session (and stop its process).

        A server without a session (never created, or closed already) logs a warning and does
        nothing (as in mcp_use), so a defensive close is harmless."""
        if server_name not in self.sessions:
            logger.warning("close_session: no session for server %r, nothing to close", server_name)
            return
        await self._forget(server_name)

    async def close_all_sessions(self) -> None:
        """Close every session; all are closed even if some fail (failures are logged)."""
        if self._tool_host is not None:
            # Its loads first: a session still in its handshake is then closed at once, not waited for.
            await self._tool_host.aclose()
        names = list(self.sessions)
        results = await asyncio.gather(*(self._forget(n) for n in names), return_exceptions=True)
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning("closing session %r failed: %r", name, result)
        if self._code_mode_session is not None:
            await self._code_mode_session.disconnect()
            self._code_mode_session = None
        if self._code_mode is not None:
            await self._code_mode.aclose()
            self._code_mode = None
        self._tool_host = None

    # -- code mode ----------------------------------------------------------------------------

    async def execute_code(
        self,
        code: str,
        timeout: float | None = None,
        *,
        session_id: str | None = None,
        on_log: Callable[[str, str], None] | None = None,
        dry_run: bool = False,
        check: str | None = None,
    ) -> dict[str, Any]:
        """Run a Python program with every server's tools as `await <server>.<tool>(...)`.

        ```python
        out = await client.execute_code('''
        found = await inventory.list_products(category="tools")
        return [p["sku"] for p in found]
        ''')
        out["result"], out["logs"], out["error"], out["execution_time"]
        ```

        Args:
            code: the program; top-level `await` and `return` are allowed.
            timeout: wall-clock seconds for this program; None keeps the client's `limits` timeout
                (30 s unless configured). Every other limit is the client's.
            session_id: keep the program's globals across calls with the same id (a code session).
            on_log: called with `(text, stream)` while the program prints, as it runs (a line's
                text and its newline may arrive in separate calls).
            dry_run: run only the calls known to be read-only; list every other call in the
                envelope's `planned_calls` without sending it (docs/approvals.md).
            check: `"types"` type-checks the program against the stubs and the learned result
                shapes before it runs: a certain error (unknown tool or argument, a key the result
                type lacks, a missing `await`) is returned before any tool is called; `"off"` runs
                it unchecked; None: the client's `check` (docs/typed-results.md).

        Returns:
            The result envelope: `status` (`ok`, `error`, or `paused` when a call waits for
            approval: see `resume_execution`), `result`, `logs`, `error`, `execution_time`, and
            `error_info`, `tool_calls`, `usage`, `truncated`. A failing program does not raise.
        """
        mode = self._require_code_mode("execute_code")
        envelope = await mode.execute(
            code, timeout=timeout, session_id=session_id, on_log=on_log, dry_run=dry_run, check=check
        )
        return dict(envelope)

    async def resume_execution(
        self,
        execution_id: str,
        approve: list[str] | Literal["all"] | None = None,
        reject: list[str] | Literal["all"] | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Decide the pending calls of a paused execution and continue the same program.

        ```python
        out = await client.execute_code(program)          # out["status"] == "paused"
        out = await client.resume_execution(out["execution_id"], approve="all")
        ```

        A rejected call raises a `ToolError` in the program (catchable), saying it was rejected
        and why. Calls named neither in `approve` nor `reject` stay pending. When the program is
        gone (a restart, another host sharing the store), it is replayed from its saved record.

        Returns:
            The next envelope: `ok`, `error`, or `paused` again.

        Raises:
            ApprovalError: an unknown, finished, expired or already resumed `execution_id`; an id
                that is not pending, or both approved and rejected. Nothing is executed then.
        """
        mode = self._require_code_mode("resume_execution")
        envelope = await mode.resume(execution_id, approve=approve or (), reject=reject or (), reason=reason)
        return dict(envelope)

    async def search_tools(
        self, query: str = "", detail_level: str = "full", limit: int | None = None
    ) -> dict[str, Any]:
        """Search the tools of every usable server, ranked: `{"meta": {...}, "results": [...]}`.

        Works with or without code mode (servers are connected as needed).

        Raises:
            CodeModeError: a bad argument (the same message a program gets).
        """
        if self.code_mode:  # with the tool policy of code mode's programs
            return await self._require_code_mode("search_tools").search(query, detail_level=detail_level, limit=limit)
        return await self._tools().search(query, detail_level=detail_level, limit=limit, wait=self.limits.timeout)

    def code_mode_engine(self) -> CodeMode:
        """The client's `CodeMode` (created on first use): what `execute_code` runs programs with.

        Raises:
            CodeModeError: the client was not created with `code_mode=True`.
        """
        return self._require_code_mode("code mode")

    # -- what code mode's ToolHost needs of the client (`engine.tools.SessionSource`) ------------

    def usable_servers(self) -> list[str]:
        """The configured servers that are enabled and allowed, in configuration order."""
        return [name for name in self.get_server_names() if self._is_usable(name)]

    async def connected_session(self, server: str) -> MCPSession:
        """The server's session, connecting it if there is none or it is not connected."""
        session = self.sessions.get(server)
        if session is None or not session.is_connected:
            session = await self.create_session(server, auto_initialize=False)
        return session

    def _tools(self) -> ToolHost:
        if self._tool_host is None:
            from .tools import ToolHost

            self._tool_host = ToolHost(self)
            for session in self.sessions.values():
                self._tool_host.watch(session)
        return self._tool_host

    def _require_code_mode(self, what: str) -> CodeMode:
        if not self.code_mode:
            raise CodeModeError(f"{what} needs code mode: create the client with MCPClient(..., code_mode=True)")
        if self._code_mode is None:
            from .codemode import CodeMode

            self._code_mode = CodeMode(
                self._tools(),
                executor=self.executor,
                executor_options=self.executor_options,
                limits=self.limits,
                allowed_servers=self.allowed_servers,
                tool_policy=self.tool_policy,
                store=open_store(self._store_spec) if isinstance(self._store_spec, str | None) else self._store_spec,
                approval_timeout=self.approval_timeout,
                learn_shapes=self.learn_shapes,
                check=self.check,
                tokenize=self.tokenize,
            )
        return self._code_mode

    def _code_mode_pseudo_session(self) -> MCPSession:
        if self._code_mode_session is None:
            from .codemode import build_code_mode_server

            server = build_code_mode_server(self._require_code_mode("code mode"))
            self._code_mode_session = MCPSession(InProcessConnector(CODE_MODE_SERVER, server))
        return self._code_mode_session

    # -- internals ----------------------------------------------------------------------------

    def _server_config(self, name: str) -> ServerConfig:
        """The entry `create_session` starts; a `ConfigError` (a `ValueError`) names what is wrong."""
        if name not in self._servers:
            raise ConfigError(f"no server named {name!r}; configured: {sorted(self._servers)}")
        if self.allowed_servers is not None and name not in self.allowed_servers:
            raise ConfigError(f"server {name!r} is not in allowed_servers {self.allowed_servers}")
        config = self._servers[name]
        if config.disabled:
            raise ConfigError(f"server {name!r} is disabled in the configuration")
        return config

    def _connector(self, name: str, config: ServerConfig) -> Connector:
        """How to reach one server: locally, in-process, or (stdio servers with `sandbox=True`) inside E2B."""
        sandbox_options = dict(self.sandbox_options or {}) if self.sandbox else None
        return connector_for(name, config, verify=self.verify, sandbox_options=sandbox_options)

    def _is_usable(self, name: str) -> bool:
        allowed = self.allowed_servers is None or name in self.allowed_servers
        return allowed and not self._servers[name].disabled

    async def _forget(self, name: str) -> None:
        session = self.sessions.pop(name, None)
        if name in self.active_sessions:
            self.active_sessions.remove(name)
        if self._tool_host is not None:
            self._tool_host.forget(name)
        if session is not None:
            await session.disconnect()

    def _roots_callback(self) -> ListRootsFnT | None:
        if self.roots is None:
            return None
        roots = self.roots

        async def list_roots(context: ClientRequestContext) -> ListRootsResult:
            return ListRootsResult(roots=list(roots))

        return list_roots
