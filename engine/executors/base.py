"""The contract between code mode and an executor backend.

An executor has one job: run a program under `Limits` and return an `Envelope`. It knows nothing
about MCP. Tool calls leave the program as encoded bridge frames through a `Send` function the
executor provides, and arrive at the host through the request's `HostChannel`; the executor's only
part in that is carrying bytes between the program's thread (or process, or container) and the
host's event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..envelope import Envelope
from ..limits import Limits

__all__ = ["ExecutionRequest", "Executor", "HostChannel", "MakeGlobals", "Send"]

Send = Callable[[bytes], Awaitable[bytes]]
"""Program side of the bridge: send one encoded frame to the host and await the encoded reply.

Awaited on the program's own event loop. Cancelling the await cancels the host-side work."""

HostChannel = Callable[[bytes], Awaitable[bytes]]
"""Host side of the bridge: handle one encoded frame on the host's event loop, return the reply."""

MakeGlobals = Callable[[Send], Mapping[str, object]]
"""Builds the names injected into the program (tool namespaces, `search_tools`, `ToolError`...).

Called by the executor inside the program's thread with the executor's `Send`; the objects it
returns must hold nothing but plain data and that `Send`."""


@dataclass(frozen=True)
class ExecutionRequest:
    """One program to run."""

    code: str
    """The agent's program: top-level `await` and `return` allowed."""
    limits: Limits = field(default_factory=Limits)
    host_channel: HostChannel | None = None
    """Where frames from the program's `Send` go; None when the program has no tools."""
    make_globals: MakeGlobals | None = None
    """Builds the program's injected names; None for none."""
    session_id: str | None = None
    """A code session whose globals persist across executions; None starts fresh."""
    on_log: Callable[[str, str], None] | None = None
    """Called on the host loop with `(text, stream)` as the program prints, while it runs; the
    same output is also in the envelope's `logs`."""
    tool_specs: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
    """The same tools as plain data (`ToolSpec.to_dict()` per namespace identifier), for executors
    whose program runs in another process or machine and builds its namespaces there."""


class Executor(Protocol):
    """Runs programs. One method to write, plus `aclose`."""

    async def run(self, request: ExecutionRequest) -> Envelope:
        """Run one program and return its envelope. Never raises for a fault of the program."""
        ...

    async def aclose(self) -> None:
        """Release everything the executor holds (threads, processes, sandboxes, code sessions)."""
        ...
