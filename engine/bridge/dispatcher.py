"""The host side of the bridge: decodes call frames, applies policy and limits, calls the backend.

`HostDispatcher.handle` is an executor's `HostChannel`: one encoded `call` frame in, one encoded
`result` or `error` frame out. It knows nothing of MCP sessions beyond the two-method `ToolBackend`
it is given. It enforces, in this order:

1. the allow-list (`allowed_servers`): a call to another server is answered with a `PermissionError`
   and never reaches the backend (outcome `denied`);
2. `limits.max_tool_calls`: calls past it are answered with `ToolLimitError` (outcome `limit`);
3. the execution's `Gate`, when it has one (approvals, dry run, replay: `engine.approvals`): it
   may hold the call until a person decides, or answer it without the backend;
4. `limits.max_concurrent_tool_calls`: further calls wait on a semaphore.

Every failure crosses back as data `{type, message, server, tool}`: `isError` results and exceptions
raised by the backend become `ToolError` (never the exception object, never a host traceback).
Calls in the reserved namespace `__engine__` (only `search_tools`) go to `backend.search_tools`; they
are engine functions, not tool calls, so they are neither counted, limited nor traced.

`open()` serves a remote guest's run from frames fed as they arrive (`engine.bridge.serving`): calls
run concurrently, replies go back by id in completion order, `cancel` frames cancel one call, `log`
frames are forwarded, and the `done` frame ends the run. `serve()` does the same over a frame stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

import anyio
import mcp.types as types
from anyio.abc import ObjectReceiveStream

from ..envelope import ToolCallRecord, ToolOutcome
from ..errors import EngineError, ServerError, ToolError
from ..kernel.protocol import ENGINE_NAMESPACE, FrameError, decode, encode, error_frame, result_frame
from ..kernel.stubs import search_arguments
from ..limits import Limits
from .hooks import EngineFunction, Gate, Hooks, Verdict
from .serving import RunServer
from .values import error_text, tool_result_to_value

__all__ = ["EngineFunction", "Gate", "Hooks", "HostDispatcher", "ToolBackend", "Verdict"]

SEARCH_TOOL = "search_tools"
_NAME_ECHO = 200
"""Characters of a server or tool name a reply echoes (MCP names are far shorter; a forged frame's are not)."""


class ToolBackend(Protocol):
    """What the dispatcher calls: implemented by the client on top of its MCP sessions and catalog."""

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call `tool` (its original name) on `server` (its original name)."""
        ...

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        """Search the tool catalog; return plain data."""
        ...


class HostDispatcher:
    """Answers call frames from one execution; holds its trace and call count.

    ```python
    dispatcher = HostDispatcher(backend, limits=limits, allowed_servers={"github"})
    request = ExecutionRequest(code, limits=limits, host=dispatcher, names=toolset.names)
    envelope = await executor.run(request)
    envelope["tool_calls"] = dispatcher.trace
    ```
    """

    def __init__(
        self,
        backend: ToolBackend,
        *,
        limits: Limits,
        allowed_servers: Collection[str] | None = None,
        gate: Gate | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self._backend = backend
        self.gate = gate
        self._hooks = hooks or Hooks()
        self._limits = limits
        self._allowed = frozenset(allowed_servers) if allowed_servers is not None else None
        self._semaphore: anyio.Semaphore | None = None  # made on the first tool call
        self._calls = 0
        self._searches = 0
        self._trace: list[_Entry] = []

    @property
    def trace(self) -> list[ToolCallRecord]:
        """Every tool call seen, in the order they left the dispatcher (a copy).

        A call still in flight when this is read (the run ended: a timeout, a crash, a cancelled
        run) is listed with outcome `unknown`: it may have reached the server, and its effect is
        not known. The envelope reads this once the run is over.
        """
        now = time.perf_counter()
        return [entry.record(now) for entry in self._trace]

    def held(self) -> float:
        """Seconds this execution has been held waiting for approval (0 without a gate)."""
        return self.gate.held() if self.gate is not None else 0.0

    @property
    def calls(self) -> int:
        """Tool calls admitted past the allow-list and the call limit."""
        return self._calls

    async def handle(self, frame: bytes) -> bytes:
        """Answer one encoded `call` frame with an encoded `result` or `error` frame."""
        try:
            call = decode(frame)
        except FrameError as exc:
            return encode(error_frame(0, "BridgeError", str(exc)))
        if call["k"] != "call":
            return encode(error_frame(call.get("id", 0), "BridgeError", f"expected a call frame, got {call['k']!r}"))
        return await self._answer(call)

    async def _answer(self, call: dict[str, Any]) -> bytes:
        call_id: int = call["id"]
        server: str = call["namespace"]
        tool: str = call["tool"]
        if server == ENGINE_NAMESPACE:
            return await self._engine_call(call_id, tool, call["arguments"])
        entry = _Entry(f"{server}.{tool}", time.perf_counter())
        # Recorded as it leaves, before any await: the trace is in departure order, and a call the
        # run ends in the middle of is in it (as `unknown`), never missing.
        self._trace.append(entry)
        if self._allowed is not None and server not in self._allowed:
            entry.finish("denied")
            message = f"server {server[:_NAME_ECHO]!r} is not allowed"
            return self._error(call_id, "PermissionError", message, server, tool)
        # Counted before the gate: a call waiting for approval counts, so a program cannot park
        # more calls than its budget.
        if self._calls >= self._limits.max_tool_calls:
            entry.finish("limit")
            message = f"tool call limit reached ({self._limits.max_tool_calls} calls)"
            return self._error(call_id, "ToolLimitError", message, server, tool)
        self._calls += 1
        if self.gate is None:
            return await self._call(call_id, entry, server, tool, call["arguments"])
        outcome: ToolOutcome = "cancelled"
        try:
            verdict = await self.gate.admit(server, tool, call["arguments"])
            outcome = verdict.outcome
        finally:
            if outcome == "cancelled":  # cancelled while waiting for approval
                entry.finish(outcome)
        if verdict.answered:
            entry.finish(verdict.outcome)
            if verdict.error is not None:
                return self._error(call_id, verdict.error[0], verdict.error[1], server, tool)
            return encode(result_frame(call_id, verdict.value), check=False)
        reply = b""
        try:
            reply = await self._call(call_id, entry, server, tool, call["arguments"])
            return reply
        finally:
            self.gate.finished(verdict.ticket, reply)

    async def _call(self, call_id: int, entry: _Entry, server: str, tool: str, arguments: dict[str, Any]) -> bytes:
        outcome: ToolOutcome = "cancelled"
        if self._semaphore is None:
            # fast_acquire: a free slot is taken without a scheduling round trip (the hot path).
            self._semaphore = anyio.Semaphore(self._limits.max_concurrent_tool_calls, fast_acquire=True)
        try:
            async with self._semaphore:
                rewrite = self._hooks.rewrite
                if rewrite is not None:
                    arguments = rewrite(server, tool, arguments)
                result = await self._backend.call_tool(server, tool, arguments)
            if result.is_error:
                outcome = "error"
                return self._error(call_id, "ToolError", error_text(result), server, tool)
            limit = self._limits.max_tool_result_bytes
            # Text and binary items are measured before anything is built from them (a lower bound
            # of the encoded size); the frame, built once, is measured exactly.
            least = _content_size(result)
            if least > limit:
                outcome = "error"
                return self._error(call_id, "ToolError", _too_big(f"at least {least}", limit), server, tool)
            value = tool_result_to_value(result)
            try:
                reply = encode(result_frame(call_id, value), check=False)
            except FrameError as exc:
                outcome = "error"
                return self._error(call_id, "ToolError", f"the result could not be sent: {exc}", server, tool)
            if len(reply) > limit:
                outcome = "error"
                return self._error(call_id, "ToolError", _too_big(f"{len(reply)} encoded", limit), server, tool)
            outcome = "ok"
            observe = self._hooks.observe
            if observe is not None:
                with contextlib.suppress(Exception):  # an observer's fault is not the program's
                    observe(server, tool, value)
            return reply
        except ToolError as exc:
            outcome = "error"
            return self._error(call_id, "ToolError", exc.message, server, tool)
        except ServerError as exc:
            outcome = "error"
            return self._error(call_id, "ToolError", str(exc), server, tool)
        except Exception as exc:
            # Transport failures, timeouts, MCP errors: only the text crosses, never the object.
            outcome = "error"
            return self._error(call_id, "ToolError", _describe(exc), server, tool)
        finally:
            # Reached with outcome "cancelled" only when the await above was cancelled.
            entry.finish(outcome)

    async def _engine_call(self, call_id: int, tool: str, arguments: dict[str, Any]) -> bytes:
        function = self._hooks.functions.get(tool)
        if function is not None:
            return await self._function_call(call_id, tool, function, arguments)
        if tool != SEARCH_TOOL:
            return self._error(call_id, "AttributeError", f"unknown engine function {tool[:_NAME_ECHO]!r}", None, None)
        # The stub checked them already; a forged frame gets the same answer the stub would give.
        try:
            checked = search_arguments(
                arguments.get("query", ""), arguments.get("detail_level", "full"), arguments.get("limit")
            )
        except (TypeError, ValueError) as exc:
            return self._error(call_id, type(exc).__name__, str(exc), None, None)
        # Searches are the host's work on the program's behalf: as many as tool calls at most, and
        # no more at once, so a flood of them cannot hold the host past the program's deadline.
        if self._searches >= self._limits.max_tool_calls:
            message = f"search_tools limit reached ({self._limits.max_tool_calls} searches)"
            return self._error(call_id, "ToolLimitError", message, None, None)
        self._searches += 1
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self._limits.max_concurrent_tool_calls, fast_acquire=True)
        try:
            async with self._semaphore:
                found = await self._backend.search_tools(checked["query"], checked["detail_level"], checked["limit"])
            return encode(result_frame(call_id, found), check=False)
        except Exception as exc:
            # An engine function, not a tool: no reserved namespace and no layers of prefixes in the text.
            return self._error(call_id, "RuntimeError", f"search_tools() failed: {_describe(exc)}", None, None)

    async def _function_call(
        self, call_id: int, name: str, function: EngineFunction, arguments: dict[str, Any]
    ) -> bytes:
        try:
            value = await function(arguments)
        except (TypeError, ValueError) as exc:
            return self._error(call_id, type(exc).__name__, str(exc), None, None)
        except LookupError as exc:
            return self._error(call_id, "ValueError", str(exc.args[0]) if exc.args else str(exc), None, None)
        except Exception as exc:
            return self._error(call_id, "RuntimeError", f"{name}() failed: {_describe(exc)}", None, None)
        try:
            return encode(result_frame(call_id, value), check=False)
        except FrameError as exc:
            return self._error(call_id, "RuntimeError", f"{name}() gave a value that cannot be sent: {exc}", None, None)

    def _error(self, call_id: int, kind: str, message: str, server: str | None, tool: str | None) -> bytes:
        # The names come from the guest's frame: a forged one may be megabytes, echoed in every reply.
        server = server[:_NAME_ECHO] if server is not None else None
        tool = tool[:_NAME_ECHO] if tool is not None else None
        return encode(error_frame(call_id, kind, message, server=server, tool=tool), check=False)

    def open(
        self,
        send: Callable[[bytes], None],
        on_log: Callable[[str, str], None],
        on_end: Callable[[bool, Any], None],
    ) -> RunServer:
        """A `RunServer` for one remote run: feed it the guest's frames as they arrive (no task of its own)."""
        return RunServer(self._answer, send, on_log, on_end, self.gate)

    async def serve(
        self,
        receive: ObjectReceiveStream[bytes],
        send: Callable[[bytes], Awaitable[None]],
        on_log: Callable[[str, str], None],
    ) -> Any:
        """Serve one remote run: answer calls concurrently until the guest sends `done`.

        Args:
            receive: encoded frames from the guest (already de-framed, e.g. via `FrameReader`).
            send: sends one encoded frame to the guest; frames are sent one at a time, in order.
            on_log: receives `(text, stream)` for each `log` frame.

        Returns:
            The `payload` of the guest's `done` frame.

        Raises:
            BridgeError: the guest sent a malformed or unexpected frame, or closed the stream before `done`.
        """
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[tuple[bool, Any]] = loop.create_future()
        outbox: list[bytes] = []
        sender: asyncio.Task[None] | None = None

        async def deliver() -> None:
            while outbox:
                await send(outbox.pop(0))

        def queue(data: bytes) -> None:
            nonlocal sender
            outbox.append(data)
            if sender is None or sender.done():
                sender = loop.create_task(deliver())

        def on_end(ok: bool, value: Any) -> None:
            if not ended.done():
                ended.set_result((ok, value))

        server = self.open(queue, on_log, on_end)
        try:
            async for data in receive:
                server.feed(data)
                if server.over:
                    break
            server.close()
            if sender is not None:
                await sender  # a failing `send` is the caller's to see
        finally:
            server.cancel()  # calls still running (when this was cancelled) end with it
            if server.abandoned:
                await asyncio.wait(server.abandoned)
        ok, value = ended.result()
        if not ok:
            raise value
        return value


class _Entry:
    """One call of the trace: made when it leaves, finished when its reply is known."""

    __slots__ = ("tool", "started", "duration", "outcome")

    def __init__(self, tool: str, started: float) -> None:
        self.tool = tool
        self.started = started
        self.duration: float | None = None
        self.outcome: ToolOutcome = "unknown"

    def finish(self, outcome: ToolOutcome) -> None:
        if self.duration is None:  # the first outcome stands
            self.duration = time.perf_counter() - self.started
            self.outcome = outcome

    def record(self, now: float) -> ToolCallRecord:
        duration = self.duration if self.duration is not None else now - self.started
        return ToolCallRecord(tool=self.tool, duration=duration, outcome=self.outcome)


def _content_size(result: types.CallToolResult) -> int:
    """The characters of the result's text and binary (base64) items: at most its encoded size."""
    size = 0
    for item in result.content:
        if isinstance(item, types.TextContent):
            size += len(item.text)
        elif isinstance(item, types.ImageContent | types.AudioContent):
            size += len(item.data)
        elif isinstance(item, types.EmbeddedResource):
            resource = item.resource
            size += len(resource.text) if isinstance(resource, types.TextResourceContents) else len(resource.blob)
    return size


def _too_big(size: str, limit: int) -> str:
    return (
        f"the result is {size} bytes, over the limit of {limit} (max_tool_result_bytes); "
        "ask the tool for less (a filter, a page, a smaller limit)"
    )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, EngineError):
        return text
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
