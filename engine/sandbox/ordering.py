"""Bounded comparison, ordering, membership and hashing of nested containers.

`a == b`, `a < b`, `x in xs`, `sorted`, `min`, `max`, `list.sort`, `list.index` and `hash()` of
containers run their whole walk in one C call that holds the GIL. On containers built as DAGs
(each level holding the previous one twice: `a = [a, a]` sixty times) that walk follows every
path, 2**60 of them, while the structure itself is 60 objects: no size or memory limit sees it.

The cost of such a walk is bounded by the number of items it can visit, counted along every path
(aliases counted again): `containers.nested_cost`, a walk in Python that looks at each distinct
container once, stops as soon as the count is over budget and sees the stop flag. A comparison
costs at most the cheaper side's count, so one side within `COMPARE_BUDGET` suffices; an order
(sort, min, max, `itertools.groupby`) costs at most the sum over its keys; a key of a set or dict
display its own count. What cannot be bounded is refused with a `MemoryError` that says why,
before the C call starts. The set operators (`|`, `&`, `^`, `-`, in place too) check the hash
collisions of both sides (`containers.check_collisions`): a set filled key by key was never
checked as a whole.

Values of the `FLAT` types compare in time bounded by their own size, whatever they are compared
with, so the common case (`i < n`, `key in seen`, `sorted(words)`) costs one type test.
"""

from __future__ import annotations

import collections
import operator
from collections.abc import Callable, Sized
from typing import Any

from .containers import (
    COMPARE_BUDGET,
    FLAT,
    PROBE_BUDGET,
    check_collisions,
    check_probes,
    hash_cost,
    hashed,
    hashed_pairs,
    nested_cost,
    pair_keys,
    sized,
)

__all__ = [
    "COMPARISONS",
    "bounded",
    "bounded_keys",
    "check_member",
    "check_order",
    "check_pair",
    "guarded_compare",
    "guarded_contains",
    "guarded_in_place",
    "guarded_set_operator",
    "hash_key",
    "require_bounded",
    "safe_max",
    "safe_min",
    "safe_sorted",
    "sequence_method",
    "sort_method",
]

_SEQUENCES: tuple[type[Sized], ...] = (
    list, tuple, set, frozenset, collections.deque, type({}.keys()), type({}.values()), type({}.items()),
)
_HASHED: tuple[type, ...] = (set, frozenset, dict, type({}.keys()), type({}.items()))
_MISSING: Any = object()


def _refuse(what: str) -> MemoryError:
    return MemoryError(
        f"{what} would visit over {COMPARE_BUDGET} nested items in one native call (a container that "
        "holds the same container many times, e.g. built with `a = [a, a]` in a loop, counts it every time); "
        "compare or sort smaller or flatter values"
    )


def require_bounded(value: Any, what: str) -> None:
    """Refuse `value` when a native comparison or hash of it could visit too many items."""
    if type(value) not in FLAT and nested_cost(value) > COMPARE_BUDGET:
        raise _refuse(what)


def bounded(value: Any) -> Any:
    """`_bounded_`: `value` itself once a comparison of it is known to be bounded (the policy wraps
    the operands of chained comparisons in it)."""
    require_bounded(value, "this comparison")
    return value


def check_pair(a: Any, b: Any) -> None:
    """Refuse comparing `a` with `b` unless one side bounds the walk (identical sides are linear)."""
    if a is b or type(a) in FLAT or type(b) in FLAT:
        return
    if nested_cost(a) > COMPARE_BUDGET and nested_cost(b) > COMPARE_BUDGET:
        raise _refuse("this comparison")
    if isinstance(a, _HASHED) and isinstance(b, _HASHED):
        # Equality and subset tests look every item of one side up in the other.
        check_collisions(a)
        check_collisions(b)


COMPARISONS: tuple[Callable[[Any, Any], Any], ...] = (
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
)
"""The operators `guarded_compare` takes, by index (the policy passes the index)."""


def guarded_compare(a: Any, b: Any, op: int) -> Any:
    """`_compare_`: `a OP b`, for operands the policy could not show to be flat."""
    check_pair(a, b)
    return COMPARISONS[op](a, b)


def guarded_contains(item: Any, container: Any) -> bool:
    """`_contains_`: `item in container`. A flat item costs one comparison per element; otherwise a
    hashed container costs one hash of `item`, a sequence one comparison per element, each
    bounded by `item`'s own cost or the element's."""
    check_member(item, container)
    return item in container


def check_member(item: Any, container: Any) -> None:
    """Refuse `item in container` when looking `item` up could visit too many nested items."""
    if type(item) in FLAT:
        return
    cost = nested_cost(item)
    if cost > COMPARE_BUDGET:
        raise _refuse("looking this value up")
    if isinstance(container, _HASHED) or not isinstance(container, _SEQUENCES):
        return  # one hash (or the program's own `__contains__`, stoppable)
    if cost * len(container) > COMPARE_BUDGET and nested_cost(container) > COMPARE_BUDGET:
        raise _refuse("looking this value up")


_VIEWS: tuple[type, ...] = (type({}.keys()), type({}.items()))


def _check_operands(a: Any, b: Any, op: int, in_place: bool = False) -> tuple[Any, Any]:
    """The operands of `a | b` (and `&`, `^`, `-`, in place too), checked before the native call.

    Two sets (or dicts, dict views) look the keys of one side up in the other
    (`containers.check_probes`: counted only when the sizes do not bound it). The operators that
    copy a side check its own collisions too (one filled key by key was never checked as a whole);
    `a |= b` only inserts `b`'s keys and `a & b` keeps a part of the smaller side, so `acc |= {i}` in
    a loop costs what `acc.add(i)` does. A dict view combined with any iterable, and a dict updated
    with `|=` from pairs, hash every item of the other side in one call: that side is checked like
    `set(x)` or `dict(x)` (`containers`), then its lookups in the view's dict."""
    a_hashed, b_hashed = isinstance(a, _HASHED), isinstance(b, _HASHED)
    if a_hashed and b_hashed:
        bounded_probes = len(a) * len(b) <= PROBE_BUDGET
        if not (in_place and isinstance(a, set) or op == _AND and bounded_probes):
            check_collisions(a)
        if not (op == _AND and bounded_probes):
            check_collisions(b)
        check_probes(a, b)
    elif isinstance(a, _VIEWS) and not b_hashed:
        b = hashed(b)
        check_probes(a, b)
    elif isinstance(b, _VIEWS) and not a_hashed:
        a = hashed(a)
        check_probes(b, a)
    return a, b


_AND = 1


SET_OPERATORS: tuple[Callable[[Any, Any], Any], ...] = (operator.or_, operator.and_, operator.xor, operator.sub)
"""The operators `guarded_set_operator` takes, by index (the policy passes the index)."""


def guarded_set_operator(a: Any, b: Any, op: int) -> Any:
    """`_setop_`: `a | b`, `a & b`, `a ^ b`, `a - b`, operands checked by `_check_operands`."""
    a, b = _check_operands(a, b, op)
    return SET_OPERATORS[op](a, b)


IN_PLACE: tuple[Callable[[Any, Any], Any], ...] = (operator.ior, operator.iand, operator.ixor, operator.isub)


def guarded_in_place(a: Any, b: Any, op: int) -> Any:
    """`_isetop_`: `a |= b` and the like, checked like `guarded_set_operator`, `a` updated in place
    (`d |= pairs` checks the pairs' keys as `dict(pairs)` would)."""
    if isinstance(a, dict) and not isinstance(b, _HASHED) and op == 0:
        b = hashed_pairs(b)
        check_probes(a, pair_keys(b))
    else:
        a, b = _check_operands(a, b, op, in_place=True)
    return IN_PLACE[op](a, b)


def bounded_keys(key: Any) -> Callable[[Any], Any]:
    """A key function for native code that compares consecutive keys (`itertools.groupby`): each
    key's cost is charged to one budget, so the comparisons of all of them stay bounded."""
    room = [COMPARE_BUDGET]

    def checked(item: Any) -> Any:
        value = item if key is None else key(item)
        if type(value) not in FLAT:
            room[0] -= nested_cost(value, room[0])
            if room[0] < 0:
                raise _refuse("grouping these values")
        return value

    return checked


def hash_key(key: Any) -> Any:
    """`_key_`: a key that native code hashes (a display, a comprehension, a subscript, a method
    such as `add` or `get`), once its hash is bounded (`containers.hash_cost`)."""
    if hash_cost(key) > COMPARE_BUDGET:
        raise _refuse("hashing this key")
    return key


# -- orders ---------------------------------------------------------------------------------------


def check_order(keys: list[Any], what: str) -> None:
    """Refuse ordering `keys` when their comparisons could visit too many items: each key takes
    part in a few comparisons, each bounded by its own cost, so the sum of the costs bounds them."""
    if FLAT.issuperset(map(type, keys)):
        return
    room = COMPARE_BUDGET
    for key in keys:
        kind = type(key)
        if kind in FLAT:
            continue
        if kind is tuple and FLAT.issuperset(map(type, key)):  # the common `(score, name)` key
            room -= len(key)
        else:
            room -= nested_cost(key, room)
        if room < 0:
            raise _refuse(what)


def _keys(items: list[Any], key: Any) -> list[Any]:
    return items if key is None else list(map(key, items))


def safe_sorted(iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list[Any]:
    """`sorted()`: the keys are computed once and checked (`check_order`) before the native sort."""
    items = list(sized(iterable))
    keys = _keys(items, key)
    check_order(keys, "sorting these values")
    if key is None:
        items.sort(reverse=reverse)
        return items
    order = sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)
    return list(map(items.__getitem__, order))


def sort_method(self: list[Any], *, key: Any = None, reverse: bool = False) -> None:
    """`list.sort()`, checked like `sorted()`; the list is sorted in place."""
    if not isinstance(self, list):
        raise TypeError("sort() needs a list")
    keys = _keys(self, key)
    check_order(keys, "sorting these values")
    if key is None:
        self.sort(reverse=reverse)
        return
    order = sorted(range(len(self)), key=keys.__getitem__, reverse=reverse)
    self[:] = list(map(self.__getitem__, order))


def _extreme(native: Callable[..., Any], name: str) -> Callable[..., Any]:
    def extreme(*args: Any, key: Any = None, default: Any = _MISSING) -> Any:
        if len(args) == 1:
            items = list(sized(args[0]))
        elif args and default is not _MISSING:
            raise TypeError(f"Cannot specify a default for {name}() with multiple positional arguments")
        else:
            items = list(args)
        if not items:
            if default is not _MISSING:
                return default
            return native(items)  # the native error message
        keys = _keys(items, key)
        check_order(keys, f"{name}() of these values")
        if key is None:
            return native(items)
        return items[native(range(len(items)), key=keys.__getitem__)]

    extreme.__name__ = extreme.__qualname__ = name
    extreme.__doc__ = f"`{name}()`: the keys are computed once and checked before the native comparison."
    return extreme


safe_min = _extreme(min, "min")
safe_max = _extreme(max, "max")


def sequence_method(name: str) -> Callable[..., Any]:
    """`xs.index(x)`, `xs.count(x)`, `xs.remove(x)` of a list, tuple or deque: `x` is compared with
    every element, so it is checked like `x in xs`."""

    def method(self: Any, value: Any, *args: Any) -> Any:
        check_member(value, self)
        return getattr(self, name)(value, *args)

    method.__name__ = method.__qualname__ = name
    return method
