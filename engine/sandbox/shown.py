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

import collections
import datetime
import decimal
import fractions
import re
import types
from typing import Any

from .context import check_stop
from .sizes import max_sequence

__all__ = ["SIMPLE", "Text", "check_shown", "format_arg", "neutral", "safe_hash", "shown", "text_size"]

SIMPLE = frozenset({str, int, float, bool, type(None)})
"""Types whose text is bounded by the value itself (an int's digits are bounded by its size guard
and CPython's digit limit)."""

_SEQUENCES = (list, tuple, set, frozenset, collections.deque)

_PLAIN_TEXT = (float, complex, decimal.Decimal, fractions.Fraction, datetime.date, datetime.time,
               datetime.timedelta, datetime.timezone, range, type(None), bool)
"""Values whose text never shows an address or an engine name."""


def text_size(value: Any, budget: int) -> int:
    """A lower bound of `len(repr(value))`, or `budget + 1` as soon as it is over `budget`."""
    return _walk(value, budget)[0]


def _walk(value: Any, budget: int) -> tuple[int, bool]:
    """`text_size`, and whether every value met is plain (its text shows no address or engine name)."""
    plain = True
    total = 0
    visits = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bytes or kind is bytearray:
            total += len(item) + 2
        elif kind is int:
            total += item.bit_length() * 3 // 10 + 1
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= budget:
                stack.extend(dict.keys(item))
                stack.extend(dict.values(item))
        elif isinstance(item, _SEQUENCES):
            total += 2 + 2 * len(item)
            if total <= budget:
                stack.extend(item)
        elif isinstance(item, (str, bytes, bytearray)):
            total += len(item) + 2
        else:
            total += 4
            plain = plain and isinstance(item, (int, *_PLAIN_TEXT))
        if total > budget:
            return budget + 1, plain
        visits += 1
        if not visits & 0x3FFF:
            check_stop()
    return total, plain


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


HASH_BUDGET = 8_000_000
"""`text_size` units (about four per nested tuple, counted along every path) a tuple may come to
for `hash()` to hash it: a chain of a million nested tuples is fine, a DAG of 60 levels is not."""


def safe_hash(value: Any) -> int:
    """`hash()`: a tuple's hash is not cached (3.11), so hashing one built as a DAG (each level
    holding the previous one twice) visits every path, in one C call; such values are refused."""
    if type(value) is tuple and text_size(value, HASH_BUDGET) > HASH_BUDGET:
        raise MemoryError("hashing this value would visit millions of nested items (it holds the same "
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
