"""What the layers above the bridge plug into one execution's dispatcher: a gate and hooks.

- `Gate` (approvals, dry runs, replay: `engine.approvals`) decides each tool call before it
  reaches the backend and may hold it as long as a person takes; its `Verdict` lets the call go
  ahead or answers it without the backend.
- `Hooks` see or adjust every call: `observe` each successful result, `rewrite` arguments just
  before the backend, and more engine `functions` in the reserved namespace.

The dispatcher calls them; it never knows what they are for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..envelope import ToolOutcome

__all__ = ["EngineFunction", "Gate", "Hooks", "Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """A gate's decision on one call: go ahead (`answered` False), or its answer, made without
    the backend (a refusal, a rejection, a dry-run placeholder, a result replayed from a log)."""

    ticket: int = 0
    """Given back to `Gate.finished` with the call's reply, when the call goes ahead."""
    answered: bool = False
    value: Any = None
    """The result the program gets, when answered without an error."""
    error: tuple[str, str] | None = None
    """`(kind, message)` the program gets raised, when answered with an error."""
    outcome: ToolOutcome = "ok"
    """The trace's outcome of an answered call."""


class Gate(Protocol):
    """Decides each tool call of one execution before it reaches the backend (`engine.approvals`)."""

    async def admit(self, server: str, tool: str, arguments: dict[str, Any]) -> Verdict:
        """Decide one call; may wait (for a person) as long as it needs."""
        ...

    def finished(self, ticket: int, reply: bytes) -> None:
        """The encoded reply frame of a call that went ahead (or b"" if it was cancelled)."""
        ...

    def held(self) -> float:
        """Seconds the execution has been held for approval so far (read from other threads)."""
        ...

    def listen(self, callback: Callable[[float, bool], None]) -> None:
        """Call `callback(held, on)` whenever a hold starts or ends."""
        ...


EngineFunction = Callable[[dict[str, Any]], Awaitable[Any]]
"""An engine function a program calls in the reserved namespace (`__engine__`): plain arguments
in, a plain value out; a `TypeError`/`ValueError`/`LookupError` it raises reaches the program as
that kind, with its message. Anything else is a `RuntimeError` naming the function."""


@dataclass(frozen=True, slots=True)
class Hooks:
    """What layers above the bridge add to every call of one execution, without a dispatcher of
    their own. All optional; each must be fast (it runs on every call) and must not raise."""

    observe: Callable[[str, str, Any], None] | None = None
    """`(server, tool, value)` of each successful tool result, after it was sent to the program
    (learned output shapes)."""
    rewrite: Callable[[str, str, dict[str, Any]], dict[str, Any]] | None = None
    """`(server, tool, arguments) -> arguments` just before the backend is called, after the
    allow-list, the gate and the limits (tokens of personal data put back to real values)."""
    functions: Mapping[str, EngineFunction] = field(default_factory=dict)
    """More engine functions by name, beside `search_tools` (result handles)."""
