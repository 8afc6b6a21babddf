"""Execution limits: one validated value object shared by every executor and the bridge.

Every limit is enforced, not just reported; the result envelope's `usage` reports each one
next to what the program consumed.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Limits"]


class Limits(BaseModel):
    """The limits one execution runs under.

    ```python
    Limits()                                  # the defaults below
    Limits(timeout=5, max_tool_calls=10)      # tighter
    limits.model_copy(update={"timeout": 2})  # derive one per call
    ```
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout: float = Field(default=30.0, gt=0)
    """Wall-clock seconds for the whole program, tool calls included. CPU-bound code is stopped."""

    cpu_time: float | None = Field(default=None, gt=0)
    """CPU seconds the program may burn, excluding time spent awaiting tools. `None`: same as `timeout`."""

    max_tool_calls: int = Field(default=100, ge=0)
    """Tool calls one execution may make. Enforced at the bridge."""

    max_concurrent_tool_calls: int = Field(default=8, ge=1)
    """Tool calls that may be in flight at once; further calls wait. Enforced at the bridge."""

    max_output_chars: int = Field(default=50_000, ge=0)
    """Characters of `print` output kept; the rest is dropped and a truncation marker added."""

    max_result_bytes: int = Field(default=1_000_000, ge=0)
    """Size of the returned value, measured as its encoded (msgpack) size."""

    max_sequence_length: int = Field(default=10_000_000, ge=1)
    """Largest str/bytes/list/tuple a single guarded operation may build (`*`, `**`, `ljust`, `join`...)."""

    max_recursion_depth: int = Field(default=200, ge=10)
    """Nested Python calls the program may make."""

    max_memory_bytes: int = Field(default=512 * 1024 * 1024, ge=16 * 1024 * 1024)
    """Memory the program may add to its process; past it the program is stopped."""

    def as_dict(self) -> dict[str, Any]:
        """`model_dump()`, cached per distinct value (every envelope reports its limits)."""
        return dict(_dump(self))

    def with_timeout(self, timeout: float) -> Limits:
        """These limits with another wall-clock `timeout` (validated); cached per distinct pair."""
        if timeout == self.timeout:
            return self
        return _with_timeout(self, float(timeout))

    @property
    def effective_cpu_time(self) -> float:
        """The CPU budget in seconds: `cpu_time`, or `timeout` when unset."""
        return self.cpu_time if self.cpu_time is not None else self.timeout


@functools.lru_cache(maxsize=64)
def _dump(limits: Limits) -> dict[str, Any]:
    return limits.model_dump()


@functools.lru_cache(maxsize=64)
def _with_timeout(limits: Limits, timeout: float) -> Limits:
    return Limits.model_validate({**_dump(limits), "timeout": timeout})
