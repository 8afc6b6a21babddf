"""Iteration that can be stopped: long ranges and endless or combinatorial sources.

A C function (`sum`, `list`, `sorted`, `dict.fromkeys`) consuming a C iterator never returns to
the interpreter, so neither the stop flag nor the GIL switch reaches it. `checked_iter` makes such
sources iterate in Python, checking the stop flag per item; `safe_range` gives a `SafeRange` for
ranges over a million items, whose length is refused over the size limit.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .context import current, raise_stop
from .sizes import require_size

__all__ = ["SafeRange", "checked_iter", "flat_nesting", "safe_range"]



def checked_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    """Iterate `iterable` in Python, checking the stop flag per item, so a C consumer
    (`sum`, `list`, `sorted`...) of a long or endless source can still be stopped. The run
    checked is the one consuming the item now (an iterator kept in a code session may be
    consumed by a later run); off a worker thread there is none, which stops at once."""
    for item in iterable:
        run = current()
        if run.stopped:
            raise_stop(run.stop_reason or "stopped")
        yield item


_LEAVES = frozenset({list, tuple, str, bytes, bytearray, dict, set, frozenset, range, types.GeneratorType})
"""Argument types a native iterator may wrap without adding C-stack depth: containers hold no
iterator, and a generator runs its own (recursion-checked) Python frame."""


_SIZED = frozenset({list, tuple, str, bytes, bytearray, dict, set, frozenset, range})
"""Leaf arguments whose `len()` is cheap and counts the items a native iterator steps over."""

NATIVE_ITEMS = 10_000_000
"""Items the containers handed to one native iterator may hold in all before it iterates in
Python instead (about a third of a second of native work: one such call stays well inside the
half second a stop may take)."""


def _frame(iterator: Iterator[Any]) -> Iterator[Any]:
    yield from iterator


def flat_nesting(native: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Wrap a C iterator factory (`map`, `filter`, `zip`, `itertools.chain`...) so that stacking it
    on another C iterator costs one Python frame per level.

    `next()` on `map(f, map(f, ... map(f, it)))` recurses in C with no recursion check: a few
    hundred thousand levels overflow the C stack and crash the process. When an argument is itself
    an iterator (other than a generator), the result is handed out through a one-line generator,
    whose frame the interpreter's recursion limit counts, so deep chains end in `RecursionError`.
    Arguments that are containers keep the native object (the common case costs nothing), unless
    together they hold more than `NATIVE_ITEMS` items: the same list passed a thousand times
    (`zip(*[big] * 1000)`, `itertools.chain(*[big] * 1000)`) is a thousand times the work of one,
    which a C consumer (`all`, `sum`, a `deque(..., maxlen=0)`) would do in one call. Such a result
    iterates through `checked_iter`, where a stop is seen."""

    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        result = native(*args, **kwargs)
        items = 0
        for arg in (*args, *kwargs.values()):
            kind = type(arg)
            if kind in _SIZED:
                items += len(arg)
            elif kind not in _LEAVES and hasattr(kind, "__next__"):
                return _frame(result)
        return checked_iter(result) if items > NATIVE_ITEMS else result

    wrapper.__name__ = wrapper.__qualname__ = getattr(native, "__name__", "iterator")
    wrapper.__doc__ = native.__doc__
    return wrapper


_NATIVE_RANGE = 1_000_000
"""Ranges up to this long stay native; longer ones iterate in Python, where a stop is seen even
when a C function (`list`, `sum`, `dict.fromkeys`) consumes them."""


class SafeRange:
    """A long `range`: iterates through `checked_iter`; its length (and so `list()`) is refused
    over the size limit, before anything is allocated."""

    __slots__ = ("_r",)

    def __init__(self, r: range) -> None:
        self._r = r

    def __iter__(self) -> Iterator[int]:
        return checked_iter(self._r)

    def __reversed__(self) -> Iterator[int]:
        return checked_iter(reversed(self._r))

    def __len__(self) -> int:
        # Also what `list()`, `tuple()`, `sorted()` ask first: over the limit they fail at once.
        try:
            size = len(self._r)
        except OverflowError:
            size = 1 << 62
        require_size(size, f"materialising {self._r!r}")
        return size

    def __contains__(self, item: object) -> bool:
        return item in self._r

    def __getitem__(self, index: Any) -> Any:
        item = self._r[index]
        return safe_range(item) if isinstance(item, range) else item

    def __eq__(self, other: object) -> bool:
        return self._r == (other._r if isinstance(other, SafeRange) else other)

    def __hash__(self) -> int:
        return hash(self._r)

    def __repr__(self) -> str:
        return repr(self._r)

    @property
    def start(self) -> int:
        return self._r.start

    @property
    def stop(self) -> int:
        return self._r.stop

    @property
    def step(self) -> int:
        return self._r.step

    def count(self, value: Any) -> int:
        return self._r.count(value)

    def index(self, value: Any) -> int:
        return self._r.index(value)


def safe_range(*args: Any) -> Any:
    """`range()`: a real range when it is short enough to materialise, else a `SafeRange`."""
    r = args[0] if len(args) == 1 and isinstance(args[0], range) else range(*args)
    try:
        n = len(r)
    except OverflowError:
        return SafeRange(r)
    return r if n <= _NATIVE_RANGE else SafeRange(r)
