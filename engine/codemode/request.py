"""`build_request`: the one way an execution request is made from a tool set, for every executor.

Code mode calls it for every program, and the executor contract suite calls the same function, so
what a program sees (its names, its host) cannot drift between production and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from ..bridge.dispatcher import HostDispatcher, ToolBackend
from ..bridge.hooks import Gate, Hooks
from ..executors.base import ExecutionRequest
from ..limits import Limits
from ..tools.toolset import ToolSet

__all__ = ["build_request"]


def build_request(
    toolset: ToolSet,
    code: str,
    *,
    limits: Limits,
    backend: ToolBackend,
    allowed_servers: Collection[str] | None = None,
    session_id: str | None = None,
    on_log: Callable[[str, str], None] | None = None,
    gate: Gate | None = None,
    hooks: Hooks | None = None,
    seed: int | None = None,
) -> ExecutionRequest:
    """A request whose program sees `toolset`'s names and whose calls reach `backend` through a
    fresh `HostDispatcher` (allow-list, gate, limits, trace) of its own."""
    return ExecutionRequest(
        code=code,
        limits=limits,
        host=HostDispatcher(backend, limits=limits, allowed_servers=allowed_servers, gate=gate, hooks=hooks),
        names=toolset.names,
        session_id=session_id,
        on_log=on_log,
        seed=seed,
    )
