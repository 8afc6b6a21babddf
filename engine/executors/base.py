"""The contract between code mode and an executor backend.

An executor has one job: run a program under `Limits` and return an `Envelope`. It knows nothing
about MCP. The program sees the names of `request.names` (`kernel.ProgramNames`); its tool calls
leave it as encoded bridge frames and reach `request.host`, the execution's host dispatcher: an
in-process executor hands each frame to `host.handle`, an out-of-process one feeds the run's frame
stream to `host.serve`, the one host loop. The envelope's `tool_calls` and `usage.tool_calls` are
the host's `trace` and `calls`, read by the executor when it builds the envelope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..envelope import Envelope, ToolCallRecord
from ..kernel.names import Names
from ..kernel.protocol import HostChannel, Send
from ..limits import Limits

if TYPE_CHECKING:  # a worker process imports this module: no anyio at run time
    from anyio.abc import ObjectReceiveStream

__all__ = ["ExecutionRequest", "Executor", "Host", "HostChannel", "Names", "Send"]


class Host(Protocol):
    """The host side of one execution's bridge (implemented by `engine.bridge.HostDispatcher`)."""

    async def handle(self, frame: bytes) -> bytes:
        """Answer one encoded `call` frame with an encoded `result` or `error` frame."""
        ...

    async def serve(
        self,
        receive: ObjectReceiveStream[bytes],
        send: Callable[[bytes], Awaitable[None]],
        on_log: Callable[[str, str], None],
    ) -> Any:
        """Answer a run's frames until its `done` frame; return the `done` payload."""
        ...

    def held(self) -> float:
        """Seconds the run has been held waiting for approval so far; its deadline moves by them.
        Called from other threads (watchdogs): it must only read."""
        ...

    @property
    def trace(self) -> list[ToolCallRecord]:
        """Every tool call that left the program, in order."""
        ...

    @property
    def calls(self) -> int:
        """Tool calls admitted past the allow-list and the call limit."""
        ...


@dataclass(frozen=True)
class ExecutionRequest:
    """One program to run."""

    code: str
    """The agent's program: top-level `await` and `return` allowed."""
    limits: Limits = field(default_factory=Limits)
    host: Host | None = None
    """Where the program's tool calls go; None when the program has no tools."""
    names: Names | None = None
    """The names the program sees (tool namespaces, `search_tools`, ...); None for none."""
    session_id: str | None = None
    """A code session whose globals persist across executions; None starts fresh."""
    seed: int | None = None
    """The seed of the program's `random` module; None draws one from the OS. Approvals record
    it, so a replayed program draws the same numbers."""
    on_log: Callable[[str, str], None] | None = None
    """Called on the host loop with `(text, stream)` as the program prints, while it runs; the
    same output is also in the envelope's `logs`."""


class Executor(Protocol):
    """Runs programs. One method to write, plus `aclose`."""

    async def run(self, request: ExecutionRequest) -> Envelope:
        """Run one program and return its envelope. Never raises for a fault of the program."""
        ...

    async def aclose(self) -> None:
        """Release everything the executor holds (threads, processes, sandboxes, code sessions)."""
        ...
