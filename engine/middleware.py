"""Middleware: code that runs around every request a session sends to its server.

A middleware is any callable `await mw(request, call_next)`; it may look at or change the
request, time it, retry it, or raise instead of calling on. The session runs the chain for
`tools/call`, `tools/list`, `resources/list`, `resources/read`, `prompts/list` and `prompts/get`.

```python
class Deny:
    async def __call__(self, request: MiddlewareRequest, call_next: CallNext) -> Any:
        if request.method == "tools/call" and request.params["name"] == "delete_everything":
            raise PermissionError("not today")
        return await call_next(request)
```
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from mcp.types import CallToolResult

__all__ = [
    "CallNext",
    "LoggingMiddleware",
    "MetricsMiddleware",
    "Middleware",
    "MiddlewareRequest",
    "RequestMetrics",
    "run_middleware",
]


@dataclass(frozen=True)
class MiddlewareRequest:
    """One request on its way to a server."""

    server: str
    """The configured server name."""
    method: str
    """The MCP method, e.g. `tools/call`."""
    params: Mapping[str, Any] = field(default_factory=dict)
    """The method's parameters (`name` and `arguments` for `tools/call`)."""

    @property
    def target(self) -> str:
        """`method` plus the tool or prompt name or resource URI, when there is one."""
        name = self.params.get("name") or self.params.get("uri")
        return f"{self.method} {name}" if name else self.method


CallNext = Callable[[MiddlewareRequest], Awaitable[Any]]


class Middleware(Protocol):
    """Runs around a request: call `call_next(request)` to go on."""

    async def __call__(self, request: MiddlewareRequest, call_next: CallNext) -> Any: ...


async def run_middleware(
    chain: Sequence[Middleware], request: MiddlewareRequest, final: CallNext
) -> Any:
    """Run `request` through `chain` (first is outermost), ending in `final`."""

    async def step(index: int, current: MiddlewareRequest) -> Any:
        if index == len(chain):
            return await final(current)
        return await chain[index](current, lambda nxt: step(index + 1, nxt))

    return await step(0, request)


def _failed(result: Any) -> bool:
    return isinstance(result, CallToolResult) and result.is_error


class LoggingMiddleware:
    """Logs each request with its duration and outcome to a `logging` logger."""

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self.logger = logger or logging.getLogger("engine.requests")
        self.level = level

    async def __call__(self, request: MiddlewareRequest, call_next: CallNext) -> Any:
        started = time.perf_counter()
        try:
            result = await call_next(request)
        except BaseException as exc:
            elapsed = (time.perf_counter() - started) * 1000
            self.logger.warning("%s: %s failed after %.1f ms: %r", request.server, request.target, elapsed, exc)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        outcome = "tool error" if _failed(result) else "ok"
        self.logger.log(self.level, "%s: %s %s in %.1f ms", request.server, request.target, outcome, elapsed)
        return result


class RequestMetrics(NamedTuple):
    """Counters for one (server, method, name) key."""

    #: requests sent
    requests: int
    #: requests that raised or returned a tool error
    errors: int
    #: summed latency in seconds
    total_seconds: float
    #: slowest request in seconds
    max_seconds: float

    @property
    def mean_seconds(self) -> float:
        """Average latency in seconds (0 when there were no requests)."""
        return self.total_seconds / self.requests if self.requests else 0.0


class MetricsMiddleware:
    """Counts requests, errors and latency per server, method and tool."""

    def __init__(self) -> None:
        self._metrics: dict[tuple[str, str, str], RequestMetrics] = {}

    async def __call__(self, request: MiddlewareRequest, call_next: CallNext) -> Any:
        started = time.perf_counter()
        failed = True
        try:
            result = await call_next(request)
            failed = _failed(result)
            return result
        finally:
            self._record(request, time.perf_counter() - started, failed)

    def _record(self, request: MiddlewareRequest, seconds: float, failed: bool) -> None:
        key = (request.server, request.method, str(request.params.get("name") or request.params.get("uri") or ""))
        old = self._metrics.get(key, RequestMetrics(0, 0, 0.0, 0.0))
        self._metrics[key] = RequestMetrics(
            old.requests + 1, old.errors + int(failed), old.total_seconds + seconds, max(old.max_seconds, seconds)
        )

    def snapshot(self) -> dict[tuple[str, str, str], RequestMetrics]:
        """A copy of the counters, keyed by (server, method, tool/prompt/uri or "")."""
        return dict(self._metrics)

    def for_server(self, server: str) -> RequestMetrics:
        """All of one server's requests added up."""
        rows = [m for (srv, _, _), m in self._metrics.items() if srv == server]
        return RequestMetrics(
            sum(m.requests for m in rows),
            sum(m.errors for m in rows),
            sum(m.total_seconds for m in rows),
            max((m.max_seconds for m in rows), default=0.0),
        )

    def reset(self) -> None:
        """Forget every counter."""
        self._metrics.clear()
