"""Bounded text: refuse to turn an object into text when the text would be over the size limit.

`[big] * k` passes the repetition guard (it is k references to one string), but its `repr`,
`str`, `json.dumps` or msgpack encoding is k copies of `big`; a container built as a DAG (each
level holding the previous one twice) has a `repr` exponential in its depth. Both are built in
one C call that holds the GIL, so the size is estimated here first, in Python (stoppable), by a
walk that counts every path (aliases included) and ends as soon as the estimate is over budget.

The estimate is a lower bound of the text's length: strings and bytes count their length, ints
their decimal digits, containers their brackets and separators, anything else a few characters
(its own `__repr__` is the program's code, or a C repr of bounded size).
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import decimal
import fractions
import re
import types
from collections.abc import Callable
from typing import Any

from .containers import COMPARE_BUDGET, FLAT, nested_cost
from .context import check_stop
from .sizes import max_sequence

__all__ = ["SIMPLE", "Text", "check_shown", "format_arg", "neutral", "safe_hash", "shown", "sized_hook", "text_size"]

SIMPLE = frozenset({str, int, float, bool, type(None)})
"""Types whose text is bounded by the value itself (an int's digits are bounded by its size guard
and CPython's digit limit)."""

_SEQUENCES = (list, tuple, set, frozenset, collections.deque)

_LIBRARY_HOLDERS = (collections.ChainMap, asyncio.Queue)
"""Library classes whose `__repr__` is Python that calls the real `repr` on what they hold (a
ChainMap's maps, a queue's items): walked through those, like the builtin containers."""

_PLAIN_TEXT = (float, complex, decimal.Decimal, fractions.Fraction, datetime.date, datetime.time,
               datetime.timedelta, datetime.timezone, range, type(None), bool)
"""Values whose text never shows an address or an engine name."""


def text_size(value: Any, budget: int) -> int:
    """A lower bound of `len(repr(value))`, or `budget + 1` as soon as it is over `budget`."""
    return _walk(value, budget)[0]


def _leaf_size(item: Any) -> int:
    """The text size of a value that holds no other value (-1: it does; -2: 4 characters, but its
    text may not be plain)."""
    kind = type(item)
    if kind is str or kind is bytes or kind is bytearray:
        return len(item) + 2
    if kind is int:
        return int(item.bit_length()) * 3 // 10 + 1
    if isinstance(item, (dict, _SEQUENCES, BaseException, _LIBRARY_HOLDERS)):
        return -1
    if isinstance(item, (str, bytes, bytearray)):
        return len(item) + 2
    return 4 if isinstance(item, (int, *_PLAIN_TEXT)) else -2


def _expand(node: Any) -> tuple[int, list[Any], bool]:
    """A container's own text size with its leaves', the containers it holds, and whether it and
    its leaves are plain."""
    items: Any
    if isinstance(node, dict):
        own, items, plain = 2 + 4 * len(node), (*dict.keys(node), *dict.values(node)), True
    elif isinstance(node, BaseException):
        # `str(error)` is the text of its arguments (or of a `__str__` of the program's: not plain).
        own, items, plain = 4 + 2 * len(node.args), node.args, False
    elif isinstance(node, collections.ChainMap):
        own, items, plain = 10 + 2 * len(node.maps), node.maps, type(node) is collections.ChainMap
    elif isinstance(node, asyncio.Queue):
        # `<Queue at 0x... maxsize=0 _queue=[...]>`: shows an address, so never plain.
        items = tuple(getattr(node, "_queue", ()))
        own, plain = 20 + 2 * len(items), False
    else:
        own, items, plain = 2 + 2 * len(node), node, True
    kids = []
    for item in items:
        size = _leaf_size(item)
        if size == -1:
            kids.append(item)
        elif size == -2:
            own += 4
            plain = False
        else:
            own += size
    return own, kids, plain


def _walk(value: Any, budget: int) -> tuple[int, bool]:
    """`text_size`, and whether every value met is plain (its text shows no address or engine name).

    Every path counts (`[big] * k` is k copies of `big` as text), but each distinct container is
    expanded once and its size remembered, so a DAG of 60 levels costs 60 steps, not 2**60."""
    size = _leaf_size(value)
    if size != -1:
        return (4, False) if size == -2 else (size, True)
    sizes: dict[int, int] = {}
    open_ids = {id(value)}  # on the current path: a cycle shows as `[...]`
    own, kids, plain = _expand(value)
    frames: list[list[Any]] = [[value, own, kids, 0]]
    while frames:
        frame = frames[-1]
        node, own, kids, done = frame
        if own > budget:
            return budget + 1, plain
        if done < len(kids):
            frame[3] = done + 1
            kid = kids[done]
            key = id(kid)
            if key not in sizes and key not in open_ids:
                open_ids.add(key)
                kid_own, kid_kids, node_plain = _expand(kid)
                plain = plain and node_plain
                frames.append([kid, kid_own, kid_kids, 0])
                if not len(sizes) & 0x3FF:
                    check_stop()
            continue
        frames.pop()
        open_ids.discard(id(node))
        total = own + sum(sizes.get(id(kid), 5) for kid in kids)
        if total > budget:
            return budget + 1, plain
        sizes[id(node)] = total
    return sizes[id(value)], plain


def sized_hook(hook: Callable[[Any], Any], used: int) -> Callable[[Any], Any]:
    """`json.dumps`'s `default=` hook, each value it returns sized before the native encoder writes
    it: `used` (the argument's own text size) and every returned value share one limit."""
    limit = max_sequence()
    room = [limit - used]

    def default(value: Any) -> Any:
        result = hook(value)
        room[0] -= text_size(result, room[0])
        if room[0] < 0:
            raise MemoryError(f"json.dumps() of what default= returned would be over the limit of {limit} characters")
        return result

    return default


def check_shown(value: Any, what: str = "the text of this value") -> bool:
    """Raise `MemoryError` if `value`'s text would be over the sequence limit; else return
    whether that text is plain (shows no address or engine name: see `neutral`)."""
    if type(value) in SIMPLE:
        return True
    limit = max_sequence()
    size, plain = _walk(value, limit)
    if size > limit:
        raise MemoryError(
            f"{what} would be over the limit of {limit} characters (a container that holds the same "
            "big object many times, or nests one object in itself many times, is that big as text)"
        )
    return plain


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_HOST_NAME = re.compile(r"\b__agent_main__\.<locals>\.|(?:(?<=<class ')|(?<=<))engine\.(?:\w+\.)*")


def neutral(text: str) -> str:
    """`text` without object addresses (`<function f at 0x7f...>`) and without the engine's own
    module paths or the program's wrapper function in qualified names: an aid to targeting."""
    return _HOST_NAME.sub("", _ADDRESS.sub("", text))


class Text:
    """Stands in for a value whose text is not plain: `str()`, `repr()` and `format()` of it give
    the value's own text, made neutral."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __repr__(self) -> str:
        return neutral(repr(self._value))

    def __str__(self) -> str:
        return neutral(str(self._value))

    def __format__(self, spec: str) -> str:
        return format(neutral(format(self._value, "")), spec)


def safe_hash(value: Any) -> int:
    """`hash()`: a tuple's hash is not cached (3.11), so hashing one built as a DAG (each level
    holding the previous one twice) visits every path, in one C call; such values are refused
    (`containers.nested_cost`)."""
    if type(value) not in FLAT and nested_cost(value) > COMPARE_BUDGET:
        raise MemoryError(f"hashing this value would visit over {COMPARE_BUDGET} nested items (it holds the same "
                          "tuple many times over)")
    return hash(value)


_SHOWN_AS_TEXT = (list, tuple, dict, set, frozenset, collections.deque, types.FunctionType,
                  types.BuiltinFunctionType, types.MethodType, types.CoroutineType, types.GeneratorType)
"""Kinds a `%`-format or `str.format` argument may be replaced by a `Text` of: only `%s`/`%r`-like
fields accept them anyway (a program object with `__int__` keeps working with `%d`)."""


def format_arg(value: Any, what: str) -> Any:
    """A `%`-format or `str.format` argument: its text sized (`check_shown`), and made neutral
    when it is a function or a container holding what would show an address."""
    if check_shown(value, what) or not isinstance(value, _SHOWN_AS_TEXT):
        return value
    return Text(value)


def shown(value: Any) -> Any:
    """`_shown_`: `value` itself once its text is known to be within the limit, or a `Text` that
    shows it without addresses (the policy wraps the argument of `str()`, `repr()`, `ascii()` and
    of f-string fields in it; `print` and `format()` call it too)."""
    if type(value) in SIMPLE:
        return value
    return value if check_shown(value) else Text(value)
