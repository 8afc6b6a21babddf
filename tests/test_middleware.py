"""Middleware around every request: logging, metrics, and a custom one that rewrites or refuses.

The toy server runs in this process: the middleware chain is the same whatever the transport.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from engine import CallNext, LoggingMiddleware, MCPClient, MetricsMiddleware, MiddlewareRequest
from tests.conftest import toy_server

pytestmark = pytest.mark.anyio


async def test_metrics_count_requests_errors_and_latency_per_server_and_tool() -> None:
    metrics = MetricsMiddleware()
    async with MCPClient({"mcpServers": {"toy": toy_server()}}, middleware=[metrics]) as client:
        with anyio.fail_after(60):
            session = await client.create_session("toy")
            for _ in range(3):
                await session.call_tool("add", {"a": 1, "b": 2})
            await session.call_tool("fail", {})
            await session.call_tool("sleep", {"seconds": 0.2})
    snapshot = metrics.snapshot()
    add = snapshot[("toy", "tools/call", "add")]
    assert (add.requests, add.errors) == (3, 0)
    assert snapshot[("toy", "tools/call", "fail")].errors == 1
    assert snapshot[("toy", "tools/call", "sleep")].max_seconds >= 0.2
    assert snapshot[("toy", "tools/list", "")].requests >= 1
    assert metrics.for_server("toy").requests == sum(m.requests for m in snapshot.values())


async def test_logging_middleware_logs_each_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="engine.requests")
    async with MCPClient({"mcpServers": {"toy": toy_server()}}, middleware=[LoggingMiddleware()]) as client:
        with anyio.fail_after(60):
            session = await client.create_session("toy")
            await session.call_tool("echo", {"text": "x"})
            await session.call_tool("fail", {})
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("toy: tools/call echo ok in") for line in lines)
    assert any(line.startswith("toy: tools/call fail tool error in") for line in lines)


class Rewrite:
    """Doubles `a` for every `add` call and refuses `crash`."""

    async def __call__(self, request: MiddlewareRequest, call_next: CallNext) -> Any:
        if request.method == "tools/call" and request.params["name"] == "crash":
            raise PermissionError("crash is not allowed")
        if request.method == "tools/call" and request.params["name"] == "add":
            arguments = dict(request.params["arguments"])
            arguments["a"] *= 2
            request = MiddlewareRequest(request.server, request.method, {"name": "add", "arguments": arguments})
        return await call_next(request)


async def test_added_middleware_can_rewrite_and_refuse_requests_in_order() -> None:
    seen: list[str] = []

    class Trace:
        async def __call__(self, request: MiddlewareRequest, call_next: CallNext) -> Any:
            seen.append(request.target)
            return await call_next(request)

    async with MCPClient({"mcpServers": {"toy": toy_server()}}, middleware=[Trace()]) as client:
        with anyio.fail_after(60):
            session = await client.create_session("toy")
            client.add_middleware(Rewrite())
            assert (await session.call_tool("add", {"a": 5, "b": 1})).structured_content == {"result": 11}
            with pytest.raises(PermissionError, match="crash is not allowed"):
                await session.call_tool("crash", {})
            assert session.is_connected
    assert seen[-2:] == ["tools/call add", "tools/call crash"]


async def test_rewritten_params_reach_the_server_for_every_method() -> None:
    class Redirect:
        async def __call__(self, request: MiddlewareRequest, call_next: CallNext) -> Any:
            if request.method == "resources/read":
                request = MiddlewareRequest(request.server, request.method, {"uri": "note://kept"})
            if request.method == "prompts/get":
                request = MiddlewareRequest(
                    request.server, request.method, {"name": "greet", "arguments": {"name": "Bo"}}
                )
            return await call_next(request)

    async with MCPClient({"mcpServers": {"toy": toy_server()}}, middleware=[Redirect()]) as client:
        with anyio.fail_after(60):
            session = await client.create_session("toy")
            await session.call_tool("put_note", {"key": "kept", "text": "from the middleware"})
            read = await session.read_resource("note://other")
            assert read.contents[0].text == "from the middleware"  # type: ignore[union-attr]
            prompt = await session.get_prompt("greet", {"name": "Al"})
            assert prompt.messages[0].content.text == "Hello, Bo!"  # type: ignore[union-attr]
