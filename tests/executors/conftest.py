"""Executor factories for the contract suite, a small real tool backend, and the envd stand-in.

Adding an executor to the contract suite is one entry in `FACTORIES`. The `executor` fixture is
parametrized over all of them; `run_program` builds its request with the production function,
`engine.codemode.request.build_request`, from a real `ToolSet` (a real `HostDispatcher`, the kernel's
program names), so what a program sees cannot differ between code mode and this suite.

Security corpus hook: if `tests/sandbox/` defines a module-level `executor_factory` fixture (or its
tests take an `executor` fixture), `SANDBOX_EXECUTORS` lists the names to run it on; see
`test_sandbox_corpus.py` in this folder, which reuses the corpus without editing it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import mcp.types as types
import pytest

from engine.codemode.request import build_request
from engine.envelope import Envelope
from engine.executors.base import Executor
from engine.limits import Limits
from engine.stubs import namespace_identifier, specs_for_server
from engine.tools import ToolSet

from .e2b_standin import EnvdStandIn

SERVER = "demo-server"
NAMESPACE = namespace_identifier(SERVER)

TOOLS = [
    types.Tool(
        name="echo",
        description="Echo the arguments back.",
        input_schema={
            "type": "object",
            "properties": {"text": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["text"],
        },
    ),
    types.Tool(name="fail", description="Always fails.", input_schema={"type": "object", "properties": {}}),
    types.Tool(
        name="meet",
        description="Returns once `n` calls are waiting at the same time.",
        input_schema={"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
    ),
]
SPECS = specs_for_server(SERVER, TOOLS)
TOOLSET = ToolSet.build([SERVER], {SERVER: TOOLS}, {})


class Backend:
    """A real `ToolBackend`: `echo` echoes, `fail` fails, `meet` waits for `n` concurrent callers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.waiting = 0
        self.max_waiting = 0
        self._met = anyio.Event()

    async def call_tool(self, server: str, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        self.calls.append((server, tool, arguments))
        if tool == "fail":
            return types.CallToolResult(content=[types.TextContent(text="the repository does not exist")],
                                        is_error=True)
        if tool == "meet":
            self.waiting += 1
            self.max_waiting = max(self.max_waiting, self.waiting)
            if self.waiting >= arguments["n"]:
                self._met.set()
            with anyio.move_on_after(5):
                await self._met.wait()
            self.waiting -= 1
            return types.CallToolResult(content=[], structured_content={"met": self._met.is_set()})
        return types.CallToolResult(content=[], structured_content={"echo": arguments})

    async def search_tools(self, query: str, detail_level: str, limit: int | None) -> dict[str, Any]:
        return {"query": query, "results": [{"server": SERVER, "tool": t.name} for t in TOOLS][: limit or None]}


def _restricted() -> Executor:
    from engine.executors.restricted import RestrictedExecutor

    return RestrictedExecutor()


def _process() -> Executor:
    from engine.executors.process import ProcessExecutor

    return ProcessExecutor()


def _e2b(envd: EnvdStandIn) -> Executor:
    from engine.executors.e2b import E2BExecutor

    # The stand-in runs commands on this machine: use this interpreter (it has msgpack, but the
    # shipped pure-Python copy would do as well).
    return E2BExecutor(debug=True, sandbox_url=envd.url, python=sys.executable)


FACTORIES: dict[str, Callable[[EnvdStandIn], Executor]] = {
    "restricted": lambda envd: _restricted(),
    "process": lambda envd: _process(),
    "e2b": _e2b,
}
"""Every executor the contract suite runs on: name -> factory (given the envd stand-in)."""

SANDBOX_EXECUTORS = ("process",)
"""Executors the restricted sandbox's security corpus also runs against (they share its policy)."""


@pytest.fixture(scope="session")
def envd() -> Iterator[EnvdStandIn]:
    """One envd stand-in for the whole session, on 127.0.0.1."""
    with EnvdStandIn() as server:
        yield server


@pytest.fixture(params=sorted(FACTORIES))
async def executor(request: pytest.FixtureRequest, envd: EnvdStandIn) -> AsyncIterator[Executor]:
    created = FACTORIES[request.param](envd)
    try:
        yield created
    finally:
        with anyio.fail_after(15):
            await created.aclose()


@pytest.fixture
def backend() -> Backend:
    return Backend()


async def run_program(
    executor: Executor,
    code: str,
    backend: Backend | None = None,
    *,
    limits: Limits | None = None,
    session_id: str | None = None,
    deadline: float = 30,
) -> Envelope:
    """Run `code` as code mode would: tools through a real `HostDispatcher`; bounded by `deadline`."""
    limits = limits or Limits(timeout=10)
    request = build_request(TOOLSET, code, limits=limits, backend=backend or Backend(), session_id=session_id)
    with anyio.fail_after(deadline):
        return await executor.run(request)
