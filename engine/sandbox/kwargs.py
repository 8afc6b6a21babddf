"""`_kwargs_`: the mapping a program unpacks into a call (`f(**m)`), checked before CPython merges it.

CPython copies `m` into a fresh dict of keyword arguments in one native call, probing for every
key (a dict's own table cannot be reused there), and only then refuses keys that are not strings:
a mapping of colliding numbers (every multiple of 2**61 - 1 hashes alike) makes that copy take as
long as the program likes. Keyword names are strings, whose hashes are seeded per process and
cannot be made to collide, so the check is exactly CPython's own rule, applied first, in Python
(where a stop is seen): exact `str` keys only (a subclass's key is its plain text, as CPython's
error message would have it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .context import check_stop

__all__ = ["checked_kwargs"]

_real_str = str


def checked_kwargs(mapping: Any) -> Any:
    """`mapping` if it is a dict whose keys are all exact strings; else a dict of its items with
    string keys; `TypeError` (CPython's) for a key that is not a string or a value that is not a
    mapping."""
    if type(mapping) is dict:
        for count, key in enumerate(mapping):
            if type(key) is not _real_str:
                break
            if count and not count & 0xFFFF:
                check_stop()
        else:
            return mapping
        if not isinstance(key, _real_str):
            raise TypeError(_not_a_name(key))
    if not isinstance(mapping, Mapping) and not hasattr(mapping, "keys"):
        raise TypeError(f"argument after ** must be a mapping, not {type(mapping).__name__}")
    out: dict[str, Any] = {}
    for count, key in enumerate(mapping.keys()):
        if not isinstance(key, _real_str):
            raise TypeError(_not_a_name(key))
        if count and not count & 0xFFF:
            check_stop()
        out[_real_str.__str__(key)] = mapping[key]
    return out


def _not_a_name(key: Any) -> str:
    return (f"keywords must be strings: the mapping after ** has a key of type {type(key).__name__} "
            "(pass it as an ordinary argument, or convert the keys with str())")
