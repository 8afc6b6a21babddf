"""What every store shares: the checks on keys, values and ttls, and the async-context-manager shape.

The checks run before a backend is touched, so a bad argument is the same `StoreError` whatever
the store, and nothing half-written is left behind.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Self

from ..errors import StoreError

__all__ = ["MAX_KEY_BYTES", "MAX_VALUE_BYTES", "StoreBase", "check_key", "check_timeout", "check_ttl", "check_value"]

MAX_VALUE_BYTES = 64 * 1024 * 1024
"""The largest value a store keeps. The Redis client refuses longer replies, so no store takes more."""

MAX_KEY_BYTES = 1024
"""The longest key, in UTF-8 bytes. Keys are ids and names, not payloads."""


def check_key(key: object) -> str:
    """`key` if it is a non-empty str of at most `MAX_KEY_BYTES` UTF-8 bytes; a `StoreError` otherwise."""
    if not isinstance(key, str):
        raise StoreError(f"a store key must be a str, got {type(key).__name__}")
    if not key:
        raise StoreError("a store key must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise StoreError(f"a store key must be valid text: {exc.reason} at position {exc.start}") from None
    if size > MAX_KEY_BYTES:
        raise StoreError(f"a store key is at most {MAX_KEY_BYTES} bytes of UTF-8, got {size}")
    return key


def check_value(value: object) -> bytes:
    """`value` if it is `bytes` of at most `MAX_VALUE_BYTES`; a `StoreError` otherwise."""
    if not isinstance(value, bytes):
        hint = ": encode it first (value.encode())" if isinstance(value, str) else ""
        if isinstance(value, bytearray | memoryview):
            hint = ": pass bytes(value)"
        raise StoreError(f"a store value must be bytes, got {type(value).__name__}{hint}")
    if len(value) > MAX_VALUE_BYTES:
        raise StoreError(f"a store value is at most {MAX_VALUE_BYTES} bytes, got {len(value)}")
    return value


def check_ttl(ttl: object) -> float | None:
    """`ttl` as seconds if it is None or a positive finite number; a `StoreError` otherwise."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, Real):
        raise StoreError(f"a store ttl must be a number of seconds or None, got {type(ttl).__name__}")
    seconds = float(ttl)
    if not math.isfinite(seconds) or seconds <= 0:
        raise StoreError(f"a store ttl must be a positive number of seconds, got {ttl!r}")
    return seconds


def check_timeout(timeout: object) -> float:
    """`timeout` as seconds if it is a positive finite number; a `StoreError` otherwise."""
    if isinstance(timeout, bool) or not isinstance(timeout, Real) or not 0 < float(timeout) < math.inf:
        raise StoreError(f"a store timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


class StoreBase:
    """The shape every store has: `url` for messages, `ping`, `aclose`, and `async with`.

    `async with store:` reaches the store first (`ping`), so a store that cannot be used fails
    there rather than at its first read; leaving the block closes it.
    """

    url: str
    """Where the store lives, as a URL without any password: what messages name."""

    async def ping(self) -> None:
        """Reach the store; a `StoreError` if it cannot be used."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release the store's connection or file; later calls raise `StoreError`. Closing twice is harmless."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        try:
            await self.ping()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    def _closed_error(self) -> StoreError:
        return StoreError(f"the store at {self.url} is closed")
