"""`MCPSession`: one live MCP connection, with the API of mcp_use's `MCPSession`.

It wraps an `mcp.Client` (mcp 2.x) over a connector's transport. The mcp SDK requires a
connection to be opened and closed by the same task, so each session owns one background task
that opens the connection, publishes it once the handshake succeeded, and closes it when told;
requests are sent from any task. Every request runs through the session's middleware chain, and
transport failures are translated once, here, into `ServerError`s that name the server.

It deliberately knows nothing of code mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import enum
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from mcp import Client, MCPError
from mcp.client.session import (
    ElicitationFnT,
    IncomingMessage,
    ListRootsFnT,
    LoggingFnT,
    MessageHandlerFnT,
    SamplingFnT,
)
from mcp.types import (
    CallToolResult,
    GetPromptResult,
    ListToolsResult,
    Prompt,
    ReadResourceResult,
    Resource,
    Tool,
    ToolListChangedNotification,
)
from mcp_types.jsonrpc import CONNECTION_CLOSED, REQUEST_TIMEOUT
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from .connectors import Connector
from .errors import ServerCrashedError, ServerError, ServerStartError, ServerTimeoutError, SessionStateError
from .middleware import Middleware, MiddlewareRequest, run_middleware

__all__ = ["ClientCallbacks", "MCPSession", "SessionState"]

logger = logging.getLogger("engine.session")

_MAX_PAGES = 1000
_Item = TypeVar("_Item")


class SessionState(enum.Enum):
    """Where a session is in its life."""

    UNOPENED = "unopened"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"
    """The connection was lost or could not be made; `connect()` tries again."""
    CLOSED = "closed"
    """`disconnect()` closed it; `connect()` opens a new connection."""


@dataclass(frozen=True)
class ClientCallbacks:
    """The callbacks the client side offers a server (all passed through to the mcp SDK)."""

    sampling_callback: SamplingFnT | None = None
    elicitation_callback: ElicitationFnT | None = None
    list_roots_callback: ListRootsFnT | None = None
    logging_callback: LoggingFnT | None = None
    message_handler: MessageHandlerFnT | None = None


ToolsChangedListener = Callable[["MCPSession"], Awaitable[None] | None]


class MCPSession:
    """Session manager for one MCP connection: connect, initialize, tools, resources, prompts.

    ```python
    async with MCPSession(StdioConnector("time", "mcp-server-time")) as session:
        info = await session.initialize()
        result = await session.call_tool("get_current_time", {"timezone": "UTC"})
    ```
    With `auto_connect=True` (the default) the first request connects the session by itself.
    """

    def __init__(
        self,
        connector: Connector,
        auto_connect: bool = True,
        *,
        callbacks: ClientCallbacks | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        self.connector = connector
        self.auto_connect = auto_connect
        self.callbacks = callbacks or ClientCallbacks()
        self.middleware: list[Middleware] = list(middleware or [])
        self.session_info: dict[str, Any] | None = None
        self._state = SessionState.UNOPENED
        self._client: Client | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._failure: str | None = None
        self._connect_lock = asyncio.Lock()
        self._tools: list[Tool] | None = None
        self._tools_listeners: list[ToolsChangedListener] = []
        self.skipped_tools: dict[str, str] = {}
        """Tools of the last `list_tools` left out because they could not be parsed: `{name: reason}`."""

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The configured server name."""
        return self.connector.name

    @property
    def state(self) -> SessionState:
        """The session's lifecycle state."""
        return self._state

    @property
    def is_connected(self) -> bool:
        """Whether the connection is open and usable."""
        return self._state is SessionState.CONNECTED

    async def __aenter__(self) -> MCPSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    async def connect(self) -> None:
        """Start the server (or reach it) and complete the MCP handshake.

        A session that was disconnected, or whose connection was lost, connects again (a new
        server process for stdio): as in mcp_use, `connect()` after `disconnect()` reconnects.
        Call `initialize()` afterwards to list the tools again.

        Raises:
            ServerStartError: the server could not be started or refused the handshake.
            ServerTimeoutError: it did not finish within the connector's `connect_timeout`.
        """
        async with self._connect_lock:
            if self._state is SessionState.CONNECTED:
                return
            if self._state in (SessionState.CLOSED, SessionState.FAILED):
                # The old connection's task is gone (disconnect() awaited it); start afresh.
                await self._abandon_runner()
                self._failure = None
                self._tools = None
            self._state = SessionState.CONNECTING
            loop = asyncio.get_running_loop()
            ready: asyncio.Future[Client] = loop.create_future()
            self._stop = asyncio.Event()
            self._runner = loop.create_task(self._own_connection(ready), name=f"mcp-session-{self.name}")
            try:
                with anyio.fail_after(self.connector.connect_timeout):
                    self._client = await asyncio.shield(ready)
            except TimeoutError:
                await self._abandon_runner()
                self._fail("did not complete the handshake")
                raise ServerTimeoutError(
                    self.name, f"did not start within {self.connector.connect_timeout:g}s{self._diagnostics()}"
                ) from None
            except BaseException:
                await self._abandon_runner()
                self._state = SessionState.FAILED
                raise
            self._state = SessionState.CONNECTED

    async def disconnect(self) -> None:
        """Close the connection (and stop the server process). Safe to call more than once."""
        runner, self._runner = self._runner, None
        if self._stop is not None:
            self._stop.set()
        if runner is not None:
            with anyio.move_on_after(10):
                await asyncio.shield(runner)
            if not runner.done():
                await self._cancel(runner)
        self._client = None
        if self._state is not SessionState.FAILED:
            self._state = SessionState.CLOSED
        close = getattr(self.connector, "close_diagnostics", None)
        if close is not None:
            close()

    async def initialize(self) -> dict[str, Any]:
        """Connect if needed, discover the tools, and return the server's information.

        Returns:
            `{"name", "version", "protocolVersion", "capabilities", "instructions"}`.
        """
        client = await self._connected()
        await self.list_tools()
        server = client.server_info
        self.session_info = {
            "name": server.name if server else self.name,
            "version": server.version if server else None,
            "protocolVersion": client.protocol_version,
            "capabilities": client.server_capabilities.model_dump(mode="json", exclude_none=True, by_alias=True),
            "instructions": client.instructions,
        }
        return self.session_info

    # -- requests ----------------------------------------------------------------------------

    @property
    def tools(self) -> list[Tool]:
        """The tools from the last `list_tools` (empty before the first)."""
        return list(self._tools or [])

    async def list_tools(self) -> list[Tool]:
        """List all the server's tools, following every page.

        A tool the SDK cannot parse (a schema that is not an object, no name) does not take the
        whole list down: the page is read again as plain data and parsed tool by tool; the bad
        tools are left out, with the reason in `skipped_tools` and a warning.
        """

        async def fetch(client: Client, params: Mapping[str, Any]) -> list[Tool]:
            skipped: dict[str, str] = {}

            async def page(cursor: str | None) -> tuple[list[Tool], str | None]:
                try:
                    result = await client.list_tools(cursor=cursor, cache_mode="refresh")
                except ValidationError as exc:
                    return await self._tools_one_by_one(client, cursor, skipped, exc)
                return result.tools, result.next_cursor

            tools = await _all_pages(page)
            self.skipped_tools = skipped
            return tools

        self._tools = await self._request("tools/list", {}, fetch)
        return list(self._tools)

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        read_timeout_seconds: datetime.timedelta | float | None = None,
    ) -> CallToolResult:
        """Call a tool. A tool that fails returns a result with `isError`; it does not raise.

        Args:
            name: The tool's name.
            arguments: Its arguments.
            read_timeout_seconds: How long to wait (seconds or a `timedelta`); default: the
                connector's `request_timeout`.

        Raises:
            ServerTimeoutError: no answer within the timeout.
            ServerCrashedError: the connection was lost.
        """
        timeout = _seconds(read_timeout_seconds, self.connector.request_timeout)
        args = dict(arguments or {})
        params = {"name": name, "arguments": args}

        async def call(client: Client, params: Mapping[str, Any]) -> CallToolResult:
            arguments = dict(params.get("arguments") or {})
            return await client.call_tool(params["name"], arguments, read_timeout_seconds=timeout)

        result: CallToolResult = await self._request("tools/call", params, call, timeout)
        return result

    async def list_resources(self) -> list[Resource]:
        """List all the server's resources, following every page."""

        async def fetch(client: Client, params: Mapping[str, Any]) -> list[Resource]:
            async def page(cursor: str | None) -> tuple[list[Resource], str | None]:
                result = await client.list_resources(cursor=cursor)
                return result.resources, result.next_cursor

            return await _all_pages(page)

        resources: list[Resource] = await self._request("resources/list", {}, fetch)
        return resources

    async def read_resource(self, uri: Any) -> ReadResourceResult:
        """Read one resource by URI (a string or `pydantic.AnyUrl`)."""

        async def read(client: Client, params: Mapping[str, Any]) -> ReadResourceResult:
            return await client.read_resource(str(params["uri"]))

        result: ReadResourceResult = await self._request("resources/read", {"uri": str(uri)}, read)
        return result

    async def list_prompts(self) -> list[Prompt]:
        """List all the server's prompts, following every page."""

        async def fetch(client: Client, params: Mapping[str, Any]) -> list[Prompt]:
            async def page(cursor: str | None) -> tuple[list[Prompt], str | None]:
                result = await client.list_prompts(cursor=cursor)
                return result.prompts, result.next_cursor

            return await _all_pages(page)

        prompts: list[Prompt] = await self._request("prompts/list", {}, fetch)
        return prompts

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None) -> GetPromptResult:
        """Get a prompt, rendered with `arguments`."""
        args = {key: str(value) for key, value in (arguments or {}).items()}

        async def get(client: Client, params: Mapping[str, Any]) -> GetPromptResult:
            return await client.get_prompt(params["name"], dict(params.get("arguments") or {}))

        result: GetPromptResult = await self._request("prompts/get", {"name": name, "arguments": args}, get)
        return result

    async def _tools_one_by_one(
        self, client: Client, cursor: str | None, skipped: dict[str, str], error: ValidationError
    ) -> tuple[list[Tool], str | None]:
        """One `tools/list` page as plain data, each tool parsed on its own (see `list_tools`).

        The SDK validates a whole result before handing it over; its session's raw request (below
        that check, a private part of the SDK) is the only way to see the page itself. Without
        it, the SDK's error stands.
        """
        session = client.session
        send_raw = getattr(getattr(session, "_dispatcher", None), "send_raw_request", None)
        stamp = getattr(session, "_stamp", None)
        if send_raw is None or stamp is None:
            raise error
        data: dict[str, Any] = {"method": "tools/list", "params": {"cursor": cursor} if cursor else {}}
        options: dict[str, Any] = {}
        stamp(data, options)  # the headers the SDK adds to every request of this protocol version
        if self.connector.request_timeout is not None:
            options["timeout"] = self.connector.request_timeout
        raw = await send_raw("tools/list", data.get("params") or None, options)
        listed = raw.get("tools") if isinstance(raw, dict) else None
        tools: list[Tool] = []
        for index, item in enumerate(listed if isinstance(listed, list) else []):
            try:
                tools.append(Tool.model_validate(item))
            except ValidationError as exc:
                name = item.get("name") if isinstance(item, dict) else None
                label = name if isinstance(name, str) else f"#{index}"
                reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'tool'}: {e['msg']}" for e in exc.errors()[:3])
                skipped[label] = reason
                logger.warning("server %r: tool %r is left out: %s", self.name, label, reason)
        next_cursor = raw.get("nextCursor") if isinstance(raw, dict) else None
        page = ListToolsResult(tools=tools, next_cursor=next_cursor if isinstance(next_cursor, str) else None)
        absorb = getattr(session, "_absorb_tool_listing", None)
        if absorb is not None:
            # What the SDK derives from a listing (output schemas, headers): without it, every call
            # of these tools would list them again, strictly, and fail.
            page = absorb(page, complete=cursor is None and page.next_cursor is None)
        return list(page.tools), page.next_cursor

    def add_tools_changed_listener(self, listener: ToolsChangedListener) -> None:
        """Call `listener(session)` whenever the server says its tool list changed."""
        self._tools_listeners.append(listener)

    # -- internals ---------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        params: dict[str, Any],
        operation: Callable[[Client, Mapping[str, Any]], Awaitable[Any]],
        timeout: float | None = None,
    ) -> Any:
        async def final(request: MiddlewareRequest) -> Any:
            client = await self._connected()
            with _map_errors(self, method, timeout or self.connector.request_timeout):
                # The params as the middleware chain passed them on: a middleware may rewrite them.
                return await operation(client, request.params)

        return await run_middleware(self.middleware, MiddlewareRequest(self.name, method, params), final)

    async def _connected(self) -> Client:
        if self._state is SessionState.CONNECTED and self._client is not None:
            return self._client
        if self._state is SessionState.FAILED:
            raise ServerCrashedError(
                self.name, f"connection lost ({self._failure}); call connect() to reconnect, or create a new session"
            )
        if self._state is SessionState.CLOSED:
            raise SessionStateError(f"session {self.name!r} is closed; call connect() to reconnect")
        if not self.auto_connect:
            raise SessionStateError(f"session {self.name!r} is not connected; call connect() first")
        await self.connect()
        assert self._client is not None
        return self._client

    async def _own_connection(self, ready: asyncio.Future[Client]) -> None:
        """The one task that opens, holds and closes the connection."""
        failures: list[str] = []
        for label, transport in self.connector.transports():
            try:
                client = self._make_client(transport)
                async with client, anyio.create_task_group() as group:
                    ready.set_result(client)
                    if _supports_listen(client):
                        group.start_soon(self._listen_for_changes, client)
                    assert self._stop is not None
                    await self._stop.wait()
                    group.cancel_scope.cancel()
                    return
            except Exception as exc:  # noqa: BLE001 - every failure is reported to the waiter
                if ready.done():
                    self._fail(f"connection closed: {_describe(exc)}")
                    return
                failures.append(f"{label}: {_describe(exc)}")
        if not ready.done():
            detail = "; ".join(failures) or "no transport to try"
            ready.set_exception(ServerStartError(self.name, f"could not connect ({detail}){self._diagnostics()}"))

    def _make_client(self, transport: Any) -> Client:
        cb = self.callbacks
        return Client(
            transport,
            read_timeout_seconds=self.connector.request_timeout,
            sampling_callback=cb.sampling_callback,
            elicitation_callback=cb.elicitation_callback,
            list_roots_callback=cb.list_roots_callback,
            logging_callback=cb.logging_callback,
            message_handler=self._on_message,
            log_level="info" if cb.logging_callback is not None else None,
        )

    async def _listen_for_changes(self, client: Client) -> None:
        """On 2026-07-28 connections, list changes arrive on a `subscriptions/listen` stream."""
        try:
            async with client.listen(tools_list_changed=True) as subscription:
                async for _event in subscription:
                    await self._tools_changed()
        except Exception as exc:  # noqa: BLE001 - losing change events must not kill the session
            logger.debug("server %r: tool-change subscription ended: %r", self.name, exc)

    async def _tools_changed(self) -> None:
        self._tools = None
        for listener in list(self._tools_listeners):
            outcome = listener(self)
            if outcome is not None:
                await outcome

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, ToolListChangedNotification):
            await self._tools_changed()
        if self.callbacks.message_handler is not None:
            await self.callbacks.message_handler(message)

    def _fail(self, reason: str) -> None:
        self._failure = reason
        self._state = SessionState.FAILED

    def _diagnostics(self) -> str:
        text = self.connector.diagnostics()
        return f"\nserver stderr:\n{text}" if text else ""

    async def _abandon_runner(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await self._cancel(runner)

    @staticmethod
    async def _cancel(task: asyncio.Task[None]) -> None:
        task.cancel()
        with anyio.move_on_after(10):
            try:
                await asyncio.shield(task)
            except (asyncio.CancelledError, Exception):
                pass


@contextlib.contextmanager
def _map_errors(session: MCPSession, method: str, timeout: float | None) -> Iterator[None]:
    """Translate the SDK's transport failures into `ServerError`s that name the server."""
    try:
        yield
    except ServerError:
        raise
    except (MCPError, TimeoutError, *_LOST) as exc:
        name = session.name
        if isinstance(exc, TimeoutError) or isinstance(exc, MCPError) and exc.code == REQUEST_TIMEOUT:
            raise ServerTimeoutError(name, f"{method} got no answer within {timeout:g}s") from exc
        if isinstance(exc, MCPError) and exc.code != CONNECTION_CLOSED:
            raise
        session._fail(f"{method}: {_describe(exc)}")
        raise ServerCrashedError(name, f"connection lost during {method}{session._diagnostics()}") from exc


_LOST = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, BrokenPipeError, ConnectionError)


async def _all_pages(page: Callable[[str | None], Awaitable[tuple[list[_Item], str | None]]]) -> list[_Item]:
    """Follow `nextCursor` until the last page (at most `_MAX_PAGES`, against a looping server)."""
    items: list[_Item] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        batch, cursor = await page(cursor)
        items.extend(batch)
        if not cursor:
            break
    return items


def _supports_listen(client: Client) -> bool:
    tools = client.server_capabilities.tools
    return client.protocol_version in MODERN_PROTOCOL_VERSIONS and tools is not None and bool(tools.list_changed)


def _seconds(value: datetime.timedelta | float | None, default: float | None) -> float | None:
    if value is None:
        return default
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


def _describe(exc: BaseException) -> str:
    """A one-line description, unwrapping exception groups down to their first leaf."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
