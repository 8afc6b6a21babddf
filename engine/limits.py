"""Execution limits: one validated value object shared by every executor and the bridge.

Every limit is enforced, not just reported; the result envelope's `usage` reports each one
next to what the program consumed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pydantic import AliasGenerator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from .errors import ConfigError

__all__ = ["Limits"]


class Limits(BaseModel):
    """The limits one execution runs under.

    ```python
    Limits()                                  # the defaults below
    Limits(timeout=5, max_tool_calls=10)      # tighter
    Limits.parse({"maxOutputChars": 2000})    # a dict, snake_case or camelCase; ConfigError if bad
    limits.with_timeout(2)                    # derive one per call
    ```
    Every field is also accepted under its camelCase name (`maxToolCalls`), the spelling of the
    config file's `codeMode.limits`; `model_dump()` gives the snake_case names.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=AliasGenerator(validation_alias=to_camel),
        validate_by_name=True,
        validate_by_alias=True,
    )

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

    max_tool_result_bytes: int = Field(default=10_000_000, ge=0)
    """Size of one tool result entering the program, measured as its encoded (msgpack) size; a
    bigger result is a `ToolError` in the program (ask the tool for less: a filter, a page)."""

    max_sequence_length: int = Field(default=10_000_000, ge=1)
    """Largest str/bytes/list/tuple a single guarded operation may build (`*`, `**`, `ljust`, `join`...)."""

    max_recursion_depth: int = Field(default=200, ge=10)
    """Nested Python calls the program may make."""

    max_memory_bytes: int = Field(default=512 * 1024 * 1024, ge=16 * 1024 * 1024)
    """Memory the program may add to its process; past it the program is stopped."""

    @classmethod
    def parse(cls, value: Limits | Mapping[str, Any] | None) -> Limits:
        """Limits from a `Limits`, a mapping (snake_case or camelCase keys) or `None` (the defaults).

        Raises:
            ConfigError: a key is unknown or a value is invalid; the message names each field.
        """
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"limits: expected a dict or Limits, got {type(value).__name__}")
        try:
            return cls.model_validate(dict(value))
        except ValidationError as exc:
            problems = "; ".join(_problem(error) for error in exc.errors())
            raise ConfigError(f"limits: {problems}") from None

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


def _problem(error: Any) -> str:
    """One validation error as `field: what is wrong` (`field: unknown limit; known: ...` for a typo)."""
    field = ".".join(str(part) for part in error["loc"]) or "limits"
    if error["type"] == "extra_forbidden":
        known = ", ".join(sorted(Limits.model_fields))
        return f"{field}: unknown limit (known, in snake_case or camelCase: {known})"
    return f"{field}: {error['msg']} (got {error['input']!r})"


@functools.lru_cache(maxsize=64)
def _dump(limits: Limits) -> dict[str, Any]:
    return limits.model_dump()


@functools.lru_cache(maxsize=64)
def _with_timeout(limits: Limits, timeout: float) -> Limits:
    return Limits.model_validate({**_dump(limits), "timeout": timeout})
