"""The `collections.deque` a program may use: its native loops refuse an oversized source first.

`deque(source)`, `d.extend(source)`, `d.extendleft(source)` and `d += source` copy a whole
iterable in one C loop, which never asks the source for its size: `deque(range(10**9))` would
grow until the memory limit stopped it, seconds later. Like `list()` and the other builders
(`containers.sized`), the facade refuses a source whose known size is over the sequence limit
before the loop starts. A deque with a `maxlen` within that limit never holds more than that many
items, so its source is iterated as it is (a long `range`, or a `zip`/`chain` over many items,
iterates in Python, item by item, and can be stopped: `iterators.flat_nesting`).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

from .containers import sized
from .sizes import max_sequence

__all__ = ["deque"]


def _source(iterable: Iterable[Any], maxlen: int | None) -> Iterable[Any]:
    # A `maxlen` over the sequence limit bounds nothing (`maxlen=2**62` is no maxlen at all).
    return sized(iterable) if maxlen is None or maxlen > max_sequence() else iterable


class deque(collections.deque):  # type: ignore[type-arg]  # noqa: N801 - the real name
    """`collections.deque` whose copying loops refuse a source over the sequence limit first."""

    def __init__(self, iterable: Iterable[Any] = (), maxlen: int | None = None) -> None:
        super().__init__(_source(iterable, maxlen), maxlen)

    def extend(self, iterable: Iterable[Any]) -> None:
        super().extend(_source(iterable, self.maxlen))

    def extendleft(self, iterable: Iterable[Any]) -> None:
        super().extendleft(_source(iterable, self.maxlen))

    def __iadd__(self, other: Iterable[Any]) -> deque:
        self.extend(other)
        return self


deque.__module__ = "collections"  # what a program sees of it is the real class's name
