"""Helpers for the sandbox tests: a real cross-thread tool bridge and request builders.

`ToolHost` is a real `Host` (its `handle` runs on the test's event loop) and `make_tools` real
program names: a `tools` namespace whose async methods encode a msgpack request, await the
executor's `send`, and decode the reply, so every tool call crosses the worker/host boundary.
`channel_host(fn)` and `Names(fn)` wrap a bare async function and a bare name builder the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import msgpack

from engine.envelope import ToolCallRecord
from engine.executors.base import ExecutionRequest, Send
from engine.limits import Limits


class ToolNamespace:
    """What a program sees as `tools`: `await tools.echo(x=1)` sends a frame to the host."""

    def __init__(self, send: Send) -> None:
        self.__send = send

    def __getattr__(self, tool: str) -> Callable[..., Awaitable[Any]]:
        if tool.startswith("_"):
            raise AttributeError(tool)
        send = self.__send

        async def call(**arguments: Any) -> Any:
            reply = msgpack.unpackb(await send(msgpack.packb({"tool": tool, "arguments": arguments})))
            if "error" in reply:
                raise RuntimeError(reply["error"])
            return reply["result"]

        return call


class Names:
    """Program names built by a function of `send` (the executor's `names` seam)."""

    def __init__(self, build: Callable[[Send], Mapping[str, object]]) -> None:
        self._build = build
        self.specs: dict[str, list[dict[str, Any]]] = {}

    def bind(self, send: Send) -> Mapping[str, object]:
        return self._build(send)


make_tools = Names(lambda send: {"tools": ToolNamespace(send)})


class _ChannelHost:
    """A `Host` around a bare async function of one frame (no trace: these tests count themselves)."""

    trace: list[ToolCallRecord] = []
    calls = 0

    def __init__(self, channel: Callable[[bytes], Awaitable[bytes]]) -> None:
        self.handle = channel

    async def serve(self, *args: Any) -> Any:
        raise NotImplementedError

    def held(self) -> float:
        return 0.0


def channel_host(channel: Callable[[bytes], Awaitable[bytes]]) -> Any:
    return _ChannelHost(channel)


MEET_BOUND = 10.0
"""Seconds `meet` waits at most: a bound on a hang (a broken test returns `met: False`), not a speed."""


class ToolHost:
    """A host channel: `echo` returns its arguments, `sleep` sleeps on the host loop first, and
    `meet(n=...)` is a barrier: it returns (its arguments plus `met: True`) once `n` calls of any
    tool, itself included, were in flight at the same time."""

    trace: list[ToolCallRecord] = []

    def __init__(self) -> None:
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled = 0
        self._meetings: dict[int, anyio.Event] = {}

    def _note_in_flight(self) -> None:
        # A meeting stays met once reached, so every caller waiting on it returns.
        for n, met in self._meetings.items():
            if self.in_flight >= n:
                met.set()

    async def _meet(self, n: int) -> bool:
        met = self._meetings.setdefault(n, anyio.Event())
        self._note_in_flight()
        with anyio.move_on_after(MEET_BOUND):
            await met.wait()
        return met.is_set()

    async def serve(self, *args: Any) -> Any:
        raise NotImplementedError

    def held(self) -> float:
        return 0.0

    async def handle(self, frame: bytes) -> bytes:
        request = msgpack.unpackb(frame)
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._note_in_flight()
        try:
            arguments = request["arguments"]
            if request["tool"] == "sleep":
                await anyio.sleep(arguments.get("seconds", 0.1))
            elif request["tool"] == "meet":
                return bytes(msgpack.packb({"result": {**arguments, "met": await self._meet(arguments["n"])}}))
            elif request["tool"] == "fail":
                return bytes(msgpack.packb({"error": "tool failed"}))
            return bytes(msgpack.packb({"result": arguments}))
        except BaseException:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1


def make_request(
    code: str, host: ToolHost | None = None, session_id: str | None = None, **limits: Any
) -> ExecutionRequest:
    """An `ExecutionRequest` for `code`, with the tool bridge when `host` is given."""
    return ExecutionRequest(
        code=code,
        limits=Limits(**limits),
        host=host,
        names=make_tools if host is not None else None,
        session_id=session_id,
    )
