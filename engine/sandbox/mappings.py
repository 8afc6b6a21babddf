"""The `collections` mappings a program may use, with the native copies inside them checked.

`Counter`, `OrderedDict`, `defaultdict` and `ChainMap` are library classes whose methods hand
whole collections to native code: `Counter(keys)` counts in one C loop, `OrderedDict(pairs)` and
`d.update(m)` insert every key, `len(chain)` unites the key sets of all its maps. Each of these
calls gets its keys checked first, as `set()` and `dict()` do (`containers.hashed`,
`hashed_pairs`, `mapping_source`: size, hash collisions, the cost of each hash).

The library's own Python code also reads `items()` of the operands of `Counter` arithmetic and
hashes what comes back, one key per native call. A program's subclass may redefine `items()` to
return any key (a tuple built as a DAG, whose hash never ends): such an operand is replaced by a
plain `Counter` of its checked items first. The counts that `most_common()` sorts are checked
like `sorted()`'s keys (`ordering.check_order`).
"""

from __future__ import annotations

import collections
import collections.abc
from collections.abc import Iterator
from typing import Any

from .containers import check_collisions, check_probes, hashed, hashed_pairs, mapping_source, pair_keys
from .iterators import checked_iter
from .ordering import check_order

__all__ = ["ChainMap", "Counter", "OrderedDict", "defaultdict"]

_DICT_ITEMS = dict.items
_NATIVE = collections.Counter


def _plain(counter: Any) -> Any:
    """`counter` itself unless its class redefines `items()`; then a plain `Counter` of the items
    that returns, read once and checked."""
    if not isinstance(counter, _NATIVE) or type(counter).items is _DICT_ITEMS:
        return counter
    pairs = list(checked_iter(counter.items()))
    hashed_pairs(pairs)
    plain: Any = _NATIVE()
    dict.update(plain, pairs)
    return plain


def _binary(name: str) -> Any:
    native = getattr(_NATIVE, name)

    def operator(self: Any, other: Any) -> Any:
        return native(_plain(self), _plain(other))

    operator.__name__ = operator.__qualname__ = name
    return operator


def _in_place(name: str) -> Any:
    native = getattr(_NATIVE, name.replace("__i", "__", 1))

    def operator(self: Any, other: Any) -> Any:
        plain_self, plain_other = _plain(self), _plain(other)
        if plain_self is self and plain_other is other:
            return getattr(_NATIVE, name)(self, other)
        # `c += d` leaves in `c` exactly what `c + d` makes (both keep the positive counts).
        result = native(plain_self, plain_other)
        if result is NotImplemented:
            return result
        dict.clear(self)
        dict.update(self, result)
        return self

    operator.__name__ = operator.__qualname__ = name
    return operator


def _unary(name: str) -> Any:
    native = getattr(_NATIVE, name)

    def operator(self: Any) -> Any:
        return native(_plain(self))

    operator.__name__ = operator.__qualname__ = name
    return operator


class Counter(collections.Counter):  # type: ignore[type-arg]
    """`collections.Counter` whose `elements()` can be stopped (`Counter(a=10**12).elements()`
    would otherwise be an endless C loop in `list()` or `sum()`), whose counting loop (in C) gets
    only keys whose hashes do not collide beyond the budget (`containers.hashed`), and whose
    arithmetic reads checked items (see the module docstring)."""

    def __init__(self, iterable: Any = None, /, **kwds: Any) -> None:
        super().__init__()
        self.update(iterable, **kwds)

    def update(self, iterable: Any = None, /, **kwds: Any) -> None:
        super().update(_counted(self, iterable), **kwds)

    def subtract(self, iterable: Any = None, /, **kwds: Any) -> None:
        super().subtract(_counted(self, iterable), **kwds)

    def elements(self) -> Iterator[Any]:
        return checked_iter(super().elements())

    def most_common(self, n: int | None = None) -> list[tuple[Any, Any]]:
        items = list(checked_iter(_plain(self).items()))
        check_order([count for _, count in items], "sorting these counts")
        ranked = sorted(items, key=lambda item: item[1], reverse=True)
        return ranked if n is None else ranked[:max(n, 0)]

    __add__ = _binary("__add__")
    __sub__ = _binary("__sub__")
    __or__ = _binary("__or__")
    __and__ = _binary("__and__")
    __iadd__ = _in_place("__iadd__")
    __isub__ = _in_place("__isub__")
    __ior__ = _in_place("__ior__")
    __iand__ = _in_place("__iand__")
    __pos__ = _unary("__pos__")
    __neg__ = _unary("__neg__")


def _counted(counter: Any, iterable: Any) -> Any:
    """The argument of `Counter.update`/`subtract`: a mapping's keys checked (`mapping_source`:
    one whose `items()` is redefined comes back as a plain dict), any other iterable's items, then
    what looking each of them up in the counter costs (`check_probes`)."""
    if iterable is None:
        return None
    checked = mapping_source(iterable) if isinstance(iterable, collections.abc.Mapping) else hashed(iterable)
    if type(checked) not in (str, bytes, bytearray):
        check_probes(counter, checked)
    return checked


class OrderedDict(collections.OrderedDict):  # type: ignore[type-arg]
    """`collections.OrderedDict` whose building loop (in C) gets only keys whose hashes do not
    collide beyond the budget (`containers.hashed_pairs`), as `dict()` does."""

    def __init__(self, other: Any = (), /, **kwds: Any) -> None:
        super().__init__()
        self.update(other, **kwds)

    def update(self, other: Any = (), /, **kwds: Any) -> None:
        super().update(_pairs(self, other), **kwds)


class defaultdict(collections.defaultdict):  # type: ignore[type-arg]  # noqa: N801 - the real name
    """`collections.defaultdict` built like `OrderedDict` above."""

    def __init__(self, default_factory: Any = None, other: Any = (), /, **kwds: Any) -> None:
        super().__init__(default_factory)
        self.update(other, **kwds)

    def update(self, other: Any = (), /, **kwds: Any) -> None:
        super().update(_pairs(self, other), **kwds)


def _pairs(mapping: Any, other: Any) -> Any:
    """The argument of `update` checked like `dict.update`'s: its keys, then their lookups in `mapping`."""
    checked = hashed_pairs(other)
    check_probes(mapping, pair_keys(checked))
    return checked


def _other(other: Any) -> Any:
    return mapping_source(other) if isinstance(other, collections.abc.Mapping) else other


class ChainMap(collections.ChainMap):  # type: ignore[type-arg]
    """`collections.ChainMap` whose `len()`, iteration and copies (which unite or copy the keys of
    its maps in one native call each) check those keys' collisions first, and whose `|` checks
    the other mapping's keys (`mapping_source`)."""

    def _check_maps(self) -> None:
        check_collisions([key for mapping in self.maps for key in checked_iter(mapping)])

    def __len__(self) -> int:
        self._check_maps()
        return super().__len__()

    def __iter__(self) -> Iterator[Any]:
        self._check_maps()
        return super().__iter__()

    def copy(self) -> Any:
        self._check_maps()
        return super().copy()

    __copy__ = copy

    @classmethod
    def fromkeys(cls, iterable: Any, *args: Any) -> Any:
        return super().fromkeys(hashed(iterable), *args)

    def __or__(self, other: Any) -> Any:
        self._check_maps()
        return super().__or__(_other(other))

    def __ror__(self, other: Any) -> Any:
        self._check_maps()
        return super().__ror__(_other(other))

    def __ior__(self, other: Any) -> Any:
        return super().__ior__(_other(other))


for _builder in (Counter, OrderedDict, defaultdict, ChainMap):
    _builder.__module__ = "collections"  # what a program sees of them is the real classes' names
