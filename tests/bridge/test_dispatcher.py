"""The host dispatcher: policy, limits, errors as data, cancellation, search routing, and `serve()`."""

from __future__ import annotations

from typing import Any

import anyio
import mcp.types as types
import pytest

from engine.bridge.dispatcher import HostDispatcher
from engine.errors import BridgeError, ServerTimeoutError
from engine.kernel import protocol
from engine.kernel.stubs import search_arguments
from engine.limits import Limits

pytestmark = pytest.mark.anyio


class Backend:
    """A real `ToolBackend` whose tools behave as their names say; it records what it saw."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.searches: list[tuple[str, str, int | None]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.gates: dict[str, anyio.Event] = {}
        self.started: dict[str, anyio.Event] = {}
        self.cancelled: list[str] = []

    def gate(self, key: str) -> anyio.Event:
        return self.gates.setdefault(key, anyio.Event())

    def started_event(self, key: str) -> anyio.Event:
        return self.started.setdefault(key, anyio.Event())

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        self.calls.append((server, tool, arguments))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        key = str(arguments.get("key", tool))
        self.started_event(key).set()
        try:
            if tool == "wait":
                try:
                    await self.gate(key).wait()
                except anyio.get_cancelled_exc_class():
                    self.cancelled.append(key)
                    raise
            if tool == "fail":
                return types.CallToolResult(content=[types.TextContent(text="no such repo")], is_error=True)
            if tool == "timeout":
                raise ServerTimeoutError(server, "no answer within 5s")
            if tool == "crash":
                raise RuntimeError("connection reset")
            return types.CallToolResult(content=[], structured_content={"echo": arguments, "tool": tool})
        finally:
            self.in_flight -= 1

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        self.searches.append((query, detail_level, limit))
        return {"results": [{"server": "gh", "tool": "list"}], "query": query}


def call(call_id: int, server: str, tool: str, **arguments: Any) -> bytes:
    return protocol.encode(protocol.call_frame(call_id, server, tool, arguments))


async def ask(dispatcher: HostDispatcher, frame: bytes) -> dict[str, Any]:
    with anyio.fail_after(5):
        return protocol.decode(await dispatcher.handle(frame))


async def test_a_call_returns_the_converted_result_and_is_traced() -> None:
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits())
    reply = await ask(dispatcher, call(7, "gh", "echo", x=1))
    assert reply == {"k": "result", "id": 7, "value": {"echo": {"x": 1}, "tool": "echo"}}
    assert backend.calls == [("gh", "echo", {"x": 1})]
    assert dispatcher.calls == 1
    assert [(r["tool"], r["outcome"]) for r in dispatcher.trace] == [("gh.echo", "ok")]
    assert dispatcher.trace[0]["duration"] >= 0


async def test_a_server_outside_the_allow_list_is_denied_without_reaching_the_backend() -> None:
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits(), allowed_servers={"gh"})
    reply = await ask(dispatcher, call(1, "slack", "post", text="hi"))
    assert reply["k"] == "error"
    assert reply["error"]["type"] == "PermissionError"
    assert reply["error"]["server"] == "slack" and reply["error"]["tool"] == "post"
    assert backend.calls == []
    assert dispatcher.calls == 0
    assert dispatcher.trace[0]["outcome"] == "denied"


@pytest.mark.parametrize("forged", ["namespace", "engine function"])
async def test_a_forged_megabyte_name_is_not_echoed_back_whole(forged: str) -> None:
    # A guest that broke out of its sandbox could make every reply carry its names back, and pile
    # them up in the host's buffers while it does not read.
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits(), allowed_servers={"gh"})
    name = "x" * 1_000_000
    frame = call(1, name, "post") if forged == "namespace" else call(1, "__engine__", name)
    reply = await ask(dispatcher, frame)
    assert reply["k"] == "error"
    assert len(protocol.encode(reply)) < 2_000
    assert backend.calls == []


async def test_calls_past_max_tool_calls_get_a_limit_error() -> None:
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits(max_tool_calls=2))
    replies = [await ask(dispatcher, call(i, "gh", "echo")) for i in range(3)]
    assert [r["k"] for r in replies] == ["result", "result", "error"]
    assert replies[2]["error"]["type"] == "ToolLimitError"
    assert "2" in replies[2]["error"]["message"]
    assert len(backend.calls) == 2
    assert [r["outcome"] for r in dispatcher.trace] == ["ok", "ok", "limit"]


async def test_concurrent_calls_never_exceed_max_concurrent_tool_calls() -> None:
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits(max_concurrent_tool_calls=2))
    replies: list[dict[str, Any]] = []

    async def one(i: int) -> None:
        replies.append(await ask(dispatcher, call(i, "gh", "wait", key="all")))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for i in range(5):
                group.start_soon(one, i)
            while backend.in_flight < 2:
                await anyio.sleep(0)
            for _ in range(20):  # give the waiting calls every chance to (wrongly) start
                await anyio.sleep(0)
            assert backend.in_flight == 2
            backend.gate("all").set()
    assert len(replies) == 5 and all(r["k"] == "result" for r in replies)
    assert backend.max_in_flight == 2


async def test_is_error_results_cross_as_tool_error_data() -> None:
    dispatcher = HostDispatcher(Backend(), limits=Limits())
    reply = await ask(dispatcher, call(1, "gh", "fail"))
    assert reply["error"] == {"type": "ToolError", "message": "no such repo", "server": "gh", "tool": "fail"}
    assert dispatcher.trace[0]["outcome"] == "error"


@pytest.mark.parametrize(
    ("tool", "message"),
    [("timeout", "server 'gh': no answer within 5s"), ("crash", "RuntimeError: connection reset")],
)
async def test_backend_exceptions_cross_as_tool_error_text(tool: str, message: str) -> None:
    dispatcher = HostDispatcher(Backend(), limits=Limits())
    reply = await ask(dispatcher, call(1, "gh", tool))
    assert reply["error"]["type"] == "ToolError"
    assert reply["error"]["message"] == message
    assert "Traceback" not in reply["error"]["message"]
    assert dispatcher.trace[0]["outcome"] == "error"


async def test_cancelling_handle_cancels_the_backend_call_and_records_cancelled() -> None:
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits())
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(dispatcher.handle, call(1, "gh", "wait", key="slow"))
            await backend.started_event("slow").wait()
            group.cancel_scope.cancel()
    assert backend.cancelled == ["slow"]
    assert [r["outcome"] for r in dispatcher.trace] == ["cancelled"]


async def test_search_tools_goes_to_the_backend_and_is_not_a_tool_call() -> None:
    backend = Backend()
    # No server allowed: a search is still answered (it is not a tool call, nor counted as one).
    dispatcher = HostDispatcher(backend, limits=Limits(max_tool_calls=1), allowed_servers=())
    frame = call(3, protocol.ENGINE_NAMESPACE, "search_tools", query="issue", detail_level="names", limit=5)
    reply = await ask(dispatcher, frame)
    assert reply["k"] == "result"
    assert reply["value"]["query"] == "issue"
    assert backend.searches == [("issue", "names", 5)]
    assert dispatcher.calls == 0 and dispatcher.trace == []


@pytest.mark.parametrize(
    ("arguments", "kind"),
    [
        ({"query": 1}, "TypeError"),
        ({"detail_level": "everything"}, "ValueError"),
        ({"limit": -1}, "ValueError"),
        ({"limit": 0}, "ValueError"),
        ({"limit": True}, "TypeError"),
        ({"query": "x" * 5000}, "ValueError"),
    ],
)
async def test_bad_search_arguments_get_the_stubs_own_error(arguments: dict[str, Any], kind: str) -> None:
    # A forged frame gets exactly what the program's own check would have raised.
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits())
    reply = await ask(dispatcher, call(1, protocol.ENGINE_NAMESPACE, "search_tools", **arguments))
    assert reply["error"]["type"] == kind
    with pytest.raises(Exception) as raised:
        search_arguments(arguments.get("query", ""), arguments.get("detail_level", "full"), arguments.get("limit"))
    assert type(raised.value).__name__ == kind
    assert reply["error"]["message"] == str(raised.value)
    assert reply["error"]["message"].startswith("search_tools() ")
    assert backend.searches == []


async def test_unknown_engine_functions_are_refused() -> None:
    reply = await ask(HostDispatcher(Backend(), limits=Limits()), call(1, protocol.ENGINE_NAMESPACE, "shell"))
    assert reply["error"]["type"] == "AttributeError"


async def test_malformed_and_unexpected_frames_get_a_bridge_error() -> None:
    dispatcher = HostDispatcher(Backend(), limits=Limits())
    garbage = await ask(dispatcher, b"\xc1not msgpack")
    assert garbage["error"]["type"] == "BridgeError"
    wrong_kind = await ask(dispatcher, protocol.encode({"k": "cancel", "id": 4}))
    assert wrong_kind["id"] == 4 and wrong_kind["error"]["type"] == "BridgeError"


class Guest:
    """The guest end of `serve()`: sends frames in, collects replies."""

    def __init__(self) -> None:
        self.to_host, self.host_in = anyio.create_memory_object_stream[bytes](100)
        self.replies: list[dict[str, Any]] = []
        self.reply_arrived = anyio.Event()
        self.logs: list[tuple[str, str]] = []

    async def host_send(self, data: bytes) -> None:
        self.replies.append(protocol.decode(data))
        self.reply_arrived.set()
        self.reply_arrived = anyio.Event()

    def on_log(self, text: str, stream: str) -> None:
        self.logs.append((text, stream))

    async def send(self, frame: dict[str, Any]) -> None:
        await self.to_host.send(protocol.encode(frame))

    async def wait_for_replies(self, count: int) -> None:
        while len(self.replies) < count:
            await self.reply_arrived.wait()


async def test_serve_multiplexes_calls_out_of_order_honours_cancel_and_returns_done() -> None:
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits())
    guest = Guest()
    payload: list[Any] = []

    async def host() -> None:
        payload.append(await dispatcher.serve(guest.host_in, guest.host_send, guest.on_log))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(host)
            await guest.send(protocol.call_frame(1, "gh", "wait", {"key": "first"}))
            await guest.send(protocol.call_frame(3, "gh", "wait", {"key": "doomed"}))
            await guest.send(protocol.call_frame(2, "gh", "echo", {"n": 2}))
            await guest.wait_for_replies(1)
            assert guest.replies[0]["id"] == 2  # finished first although sent last
            await backend.started_event("doomed").wait()
            await guest.send({"k": "cancel", "id": 3})
            await guest.send({"k": "log", "text": "working\n", "stream": "stdout"})
            backend.gate("first").set()
            await guest.wait_for_replies(2)
            await guest.send({"k": "done", "id": 0, "payload": {"result": "fin"}})
    assert payload == [{"result": "fin"}]
    assert [r["id"] for r in guest.replies] == [2, 1]
    assert guest.logs == [("working\n", "stdout")]
    assert backend.cancelled == ["doomed"]
    outcomes = {r["outcome"] for r in dispatcher.trace}
    assert outcomes == {"ok", "cancelled"}


async def test_serve_cancels_calls_still_running_at_done() -> None:
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits())
    guest = Guest()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(dispatcher.serve, guest.host_in, guest.host_send, guest.on_log)
            await guest.send(protocol.call_frame(1, "gh", "wait", {"key": "abandoned"}))
            await backend.started_event("abandoned").wait()
            await guest.send({"k": "done", "id": 0, "payload": None})
    assert backend.cancelled == ["abandoned"]
    assert guest.replies == []


@pytest.mark.parametrize(
    "frames",
    [[], [b"\xc1"], [protocol.encode(protocol.result_frame(1, 1))]],
    ids=["closed before done", "malformed", "unexpected kind"],
)
async def test_serve_raises_bridge_error_for_a_misbehaving_guest(frames: list[bytes]) -> None:
    guest = Guest()
    for frame in frames:
        await guest.to_host.send(frame)
    guest.to_host.close()
    with anyio.fail_after(5), pytest.raises(BridgeError):
        await HostDispatcher(Backend(), limits=Limits()).serve(guest.host_in, guest.host_send, guest.on_log)


async def test_serve_refuses_a_duplicate_call_id() -> None:
    backend = Backend()
    guest = Guest()
    await guest.send(protocol.call_frame(1, "gh", "wait", {"key": "a"}))
    await guest.send(protocol.call_frame(1, "gh", "wait", {"key": "b"}))
    with anyio.fail_after(5), pytest.raises(BridgeError, match="already in flight"):
        await HostDispatcher(backend, limits=Limits()).serve(guest.host_in, guest.host_send, guest.on_log)


async def test_searches_are_bounded_like_tool_calls_and_never_reach_the_trace() -> None:
    # Each search is host work on the program's behalf: a flood of them must stop at the budget.
    backend = Backend()
    dispatcher = HostDispatcher(backend, limits=Limits(max_tool_calls=3))
    replies = [await ask(dispatcher, call(i, protocol.ENGINE_NAMESPACE, "search_tools", query="x")) for i in range(5)]
    assert [r["k"] for r in replies] == ["result", "result", "result", "error", "error"]
    assert replies[3]["error"]["type"] == "ToolLimitError"
    assert "search_tools limit reached (3 searches)" in replies[3]["error"]["message"]
    assert len(backend.searches) == 3
    assert dispatcher.trace == [] and dispatcher.calls == 0
    tool = await ask(dispatcher, call(9, "gh", "echo", x=1))  # the tool-call budget is its own
    assert tool["k"] == "result"
