"""The contenders of the pool sections: engine's `process` pool and `restricted` executor, and
Monty's worker pool (`pydantic-monty`, in its own virtualenv, driven by `external/monty_runner.py`).

Engine's executors are driven directly (`Executor.run`), not through `MCPClient`: Monty is a library
too, so both sides are measured without an MCP client or server in front of them. Tool calls go to
a host backend whose one tool does nothing and records when each call arrived.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import mcp.types as types

from engine.codemode.request import build_request
from engine.executors.base import ExecutionRequest, Executor
from engine.executors.process import ProcessExecutor
from engine.executors.restricted import RestrictedExecutor
from engine.limits import Limits
from engine.tools import ToolSet

from .core import BenchmarkError, Section
from .envs import Worker, ensure_env

__all__ = [
    "MONTY",
    "MONTY_VERSION_NOTE",
    "NoopBackend",
    "block",
    "engine_executors",
    "monty",
    "tool_request",
]

MONTY = ("pydantic-monty==1.4.0",)
MONTY_VERSION_NOTE = (
    "Monty is `pydantic-monty` 1.4.0 (with its `pydantic-monty-runtime` worker binary), the newest version "
    "whose wheels install here: the registry lists 1.5.0, but it requires `pydantic-monty-client==1.5.0`, "
    "which the registry does not have (its newest is 1.4.0)."
)

TOOLSET = ToolSet.build(["bench"], {"bench": [types.Tool(name="noop", input_schema={"type": "object"})]}, {})


class NoopBackend:
    """A tool that does nothing; records when each call reached the host."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        self.arrivals.append(time.perf_counter())
        return types.CallToolResult(content=[], structured_content={"ok": True})

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        return {}


def tool_request(code: str, backend: NoopBackend, calls: int) -> ExecutionRequest:
    """A request whose program sees `bench.noop` (answered by `backend`), with room for `calls` calls."""
    return build_request(TOOLSET, code, limits=Limits(timeout=120, max_tool_calls=calls + 10), backend=backend)


def block(run: Callable[[], Awaitable[object]], times: int) -> Callable[[], Awaitable[Sequence[float]]]:
    """A variant for `interleave` that runs `run` `times` times per slot and returns each duration."""

    async def timed() -> Sequence[float]:
        durations = []
        for _ in range(times):
            started = time.perf_counter()
            await run()
            durations.append(time.perf_counter() - started)
        return durations

    return timed


async def check(executor: Executor, name: str, code: str, expected: object) -> None:
    """Run `code` once; a wrong result means the comparison cannot run."""
    envelope = await executor.run(ExecutionRequest(code))
    if envelope["error"] is not None or envelope["result"] != expected:
        raise BenchmarkError(f"the {name} executor returned {envelope['result']!r} ({envelope['error']})")


@contextlib.asynccontextmanager
async def engine_executors(**pool_options: Any) -> AsyncIterator[tuple[ProcessExecutor, RestrictedExecutor]]:
    """A started `process` pool (its default sizes unless given) and a `restricted` executor, both warm."""
    pool = ProcessExecutor(**pool_options)
    restricted = RestrictedExecutor()
    try:
        await pool.start()
        for executor, name in ((pool, "process"), (restricted, "restricted")):
            for _ in range(3):
                await check(executor, name, "return 1", 1)
        yield pool, restricted
    finally:
        await pool.aclose()
        await restricted.aclose()


@contextlib.asynccontextmanager
async def monty(quick: bool, section: Section) -> AsyncIterator[Worker | None]:
    """Monty's runner with its pool started (`min_processes`: the CPU count), or None in quick mode.

    Raises:
        BenchmarkError: the virtualenv could not be built or the runner could not start the pool.
    """
    if quick:
        section.notes.append("Quick mode: Monty (which runs in its own virtualenv) was not run.")
        yield None
        return
    python = ensure_env("monty", MONTY)
    async with Worker(python, "monty_runner.py") as worker:
        section.data["monty_versions"] = await worker.request({"op": "version"})
        await worker.request({"op": "start", "min_processes": os.cpu_count() or 1}, timeout=60)
        yield worker
    section.notes.append(MONTY_VERSION_NOTE)
