"""Checked replacements for the methods that can amplify memory, swapped in on attribute access.

`"x".ljust(n)`, `sep.join(parts)`, `s.replace(a, b)`, `s.translate(t)`, `str.format`, `int.to_bytes`,
`date.strftime`, `re.Pattern.sub/subn` and `re.Match.expand` compute the size of their result
before building it; `list.sort`, `index`, `count`, `remove` bound their comparisons (`ordering`),
the set methods their keys' hash collisions (`containers`), and the methods that hash their
argument (`add`, `get`, `pop`...: `HASH_METHODS`) that argument's hash (`ordering.hash_key`).
`OVERRIDES` maps each attribute name to the types it applies to (subclasses included) and the
checked function;
`guards.guarded_getattr` and the policy use it.
"""

from __future__ import annotations

import _string  # type: ignore[import-not-found]
import collections
import datetime
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

from .containers import (
    PROBE_BUDGET,
    check_collisions,
    check_probes,
    hashed,
    hashed_all,
    hashed_pairs,
    largest_group,
    mapping_source,
    pair_keys,
)
from .operators import check_spec, checked_strftime
from .ordering import hash_key, sequence_method, sort_method
from .shown import format_arg
from .sizes import max_int_bits, max_sequence, require_size

__all__ = ["CLASS_METHODS", "HASH_METHODS", "OVERRIDES", "OVERRIDE_NAMES", "pattern_sub", "pattern_subn",
           "super_method"]



def _base(obj: Any) -> Any:
    for base in (str, bytes, bytearray):
        if isinstance(obj, base):
            return base
    raise TypeError("expected str, bytes or bytearray")


def _width_method(name: str) -> Callable[..., Any]:
    def method(self: Any, width: SupportsIndex, *args: Any) -> Any:
        require_size(int(width), f"{name}() result")
        return getattr(_base(self), name)(self, width, *args)

    method.__name__ = name
    return method


def _expandtabs(self: Any, tabsize: SupportsIndex = 8) -> Any:
    tab = "\t" if isinstance(self, str) else b"\t"
    require_size(len(self) + self.count(tab) * max(int(tabsize), 0), "expandtabs() result")
    return _base(self).expandtabs(self, tabsize)


def _replace(self: Any, old: Any, new: Any, count: SupportsIndex = -1) -> Any:
    grow = len(new) - len(old)
    if grow > 0:
        hits = self.count(old) if len(old) else len(self) + 1
        limit_count = int(count)
        if limit_count >= 0:
            hits = min(hits, limit_count)
        require_size(len(self) + hits * grow, "replace() result")
    return _base(self).replace(self, old, new, count)


def _join(self: Any, iterable: Iterable[Any]) -> Any:
    parts = iterable if type(iterable) is list else list(iterable)
    try:
        total = sum(map(len, parts)) + len(self) * max(len(parts) - 1, 0)
    except TypeError:  # a part that is not a string: join() raises the right error
        total = 0
    require_size(total, "join() result")
    return _base(self).join(self, parts)


def _translate(self: Any, table: Any, *args: Any) -> Any:
    if isinstance(self, str):
        if isinstance(table, dict):
            values: Iterable[Any] = table.values()
        elif isinstance(table, (list, tuple, collections.deque)):
            values = table
        else:
            raise TypeError("translate() table must be a dict or a list")
        longest = max((len(v) for v in values if isinstance(v, str)), default=1)
        require_size(len(self) * longest, "translate() result")
        if isinstance(table, dict):
            table = _translation_table(self, table)
    return _base(self).translate(self, table, *args)


def _translation_table(text: str, table: dict[Any, Any]) -> dict[Any, Any]:
    """The table `str.translate` reads: it looks every character of the text up in it natively, so
    a table whose keys collide (3000 ints hashing like `ord(c)`) costs the text's length times that
    group. A plain dict is narrowed to the text's distinct characters (each looked up once, here);
    a subclass (whose lookup the program may have redefined) is refused past the budget."""
    if len(table) <= 1:
        return table
    group = largest_group(table)
    if group <= 1 or len(text) * group <= PROBE_BUDGET:
        return table
    if type(table) is dict:
        missing = object()
        narrow = {}
        for char in set(text):
            value = table.get(ord(char), missing)
            if value is not missing:
                narrow[ord(char)] = value
        return narrow
    raise MemoryError(
        f"this translate() table's keys share hashes: translating {len(text)} characters would take about "
        f"{len(text) * group} probes in one native call, over the sandbox's budget of {PROBE_BUDGET}"
    )


def _check_format_string(text: str, depth: int = 0) -> None:
    for _literal, field, spec, _conv in _string.formatter_parser(text):
        if field is None:
            continue
        _first, rest = _string.formatter_field_name_split(field)
        for is_attr, _key in rest:
            if is_attr:
                raise ValueError("attribute access in str.format() fields is not allowed")
        if spec:
            if "{" in spec:
                raise ValueError("nested fields in a str.format() spec are not allowed")
            check_spec(spec)


def _str_format(self: str, *args: Any, **kwargs: Any) -> str:
    """`str.format` without attribute walks (`"{0.__class__}"`) and without huge widths."""
    if not isinstance(self, str):
        raise TypeError("format() needs a str")
    _check_format_string(self)
    what = "formatting this value"
    args = tuple(format_arg(arg, what) for arg in args)
    kwargs = {key: format_arg(value, what) for key, value in kwargs.items()}
    return str.format(self, *args, **kwargs)


def _to_bytes(self: int, length: SupportsIndex = 1, *args: Any, **kwargs: Any) -> bytes:
    require_size(int(length), "to_bytes() result")
    return int.to_bytes(self, length, *args, **kwargs)


def _from_bytes(cls: Any, data: Any, *args: Any, **kwargs: Any) -> int:
    """`int.from_bytes`: the integer's size is bounded like the operators bound it."""
    cls = cls if isinstance(cls, type) else type(cls)
    if len(data) * 8 > max_int_bits():
        raise MemoryError(f"int.from_bytes() of {len(data)} bytes is over the integer size limit")
    return cls.from_bytes(data, *args, **kwargs)  # type: ignore[no-any-return]


def _strftime(self: Any, fmt: str) -> str:
    return checked_strftime(self, fmt)


def pattern_sub(self: re.Pattern[Any], repl: Any, string: Any, count: int = 0) -> Any:
    _check_sub(self, repl, string, count)
    return self.sub(_counted(repl, string), string, count)


def pattern_subn(self: re.Pattern[Any], repl: Any, string: Any, count: int = 0) -> Any:
    _check_sub(self, repl, string, count)
    return self.subn(_counted(repl, string), string, count)


def _counted(repl: Any, string: Any) -> Any:
    """A replacement function whose results are counted: `re.sub` joins them in C, so a callback
    returning the same big string for every match makes a result that many times its size."""
    if isinstance(repl, (str, bytes)) or not callable(repl):
        return repl
    room = [max_sequence() - len(string)]

    def counted(match: Any) -> Any:
        text = repl(match)
        if isinstance(text, (str, bytes)):
            room[0] -= len(text)
            if room[0] < 0:
                raise MemoryError(f"the result of sub() would be over the limit of {max_sequence()} characters")
        return text

    return counted


def _check_sub(pattern: re.Pattern[Any], repl: Any, string: Any, count: int) -> None:
    if not isinstance(repl, (str, bytes)):
        return  # a function: its results are built by the program, guarded there
    limit = max_sequence()
    if (len(string) + 1) * (len(repl) + 1) <= limit:
        return
    hits = 0
    for _ in pattern.finditer(string):
        hits += 1
        if count and hits >= count:
            break
    # Group references may copy up to the whole string per match.
    per_hit = len(repl) + (len(string) if "\\" in str(repl) else 0)
    require_size(len(string) + hits * per_hit, "sub() result")


def _match_expand(self: re.Match[Any], template: Any) -> Any:
    if "\\" in str(template):
        require_size(len(template) * (len(self.string) + 1), "expand() result")
    return self.expand(template)


def _set_method(name: str) -> Callable[..., Any]:
    """A set method taking iterables (`s.update(keys)`): the hash collisions of all its arguments'
    keys checked together (`containers.hashed_all`), then what looking them up in the set costs
    (`_check_target`); the set's own method runs on the checked arguments."""

    def method(self: Any, *others: Any) -> Any:
        checked, keys = hashed_all(others)
        _check_target(name, self, keys)
        return getattr(self, name)(*checked)

    method.__name__ = name
    return method


def _check_target(name: str, target: Any, keys: list[Any]) -> None:
    """Checks of the set (or dict view) a set method with arguments `keys` runs on. Every key of
    the arguments is looked up in it (`containers.check_probes`). The methods that copy the set
    check its own collisions too: one filled key by key (`s.add` in a loop) may hold colliding keys
    no single call checked; the lookups alone (`isdisjoint`, `intersection`...) need not when the
    sizes bound their probes (`acc.intersection({i})` in a loop stays linear)."""
    if isinstance(target, (set, frozenset)) and name not in _IN_PLACE:
        if name not in _LOOKUPS or len(target) * len(keys) > PROBE_BUDGET:
            check_collisions(target)
    check_probes(target, keys)


def _dict_update(self: Any, *args: Any, **kwargs: Any) -> Any:
    """`d.update(pairs)`: the keys' hash collisions checked first (`containers.hashed_pairs`), then
    what looking them up in `d` costs (`containers.check_probes`)."""
    checked = [hashed_pairs(arg) for arg in args]
    for source in checked:
        check_probes(self, pair_keys(source))
    return self.update(*checked, **kwargs)


def _hash_method(name: str) -> Callable[..., Any]:
    """`s.add(k)`, `d.get(k)`, `d.pop(k)`...: each argument's hash bounded first (`hash_key`),
    then the object's own method. The policy checks the arguments inline where the program calls
    the method directly (`HASH_METHODS`); this is the method read as a value (`f = s.add`,
    `map(d.get, keys)`, `getattr(d, "get")`), or from the class (`set.add(s, k)`)."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        for arg in args:
            hash_key(arg)
        for arg in kwargs.values():
            hash_key(arg)
        return getattr(self, name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


def _fromkeys(cls: Any, iterable: Any, *args: Any) -> Any:
    """`X.fromkeys(keys)` of any dict class, however it was reached: keys checked (`hashed`)."""
    cls = cls if isinstance(cls, type) else type(cls)
    return cls.fromkeys(hashed(iterable), *args)


def _maketrans(cls: Any, *args: Any) -> Any:
    """`str.maketrans(table)`: the table's keys (any ints) are copied into a new dict natively."""
    cls = cls if isinstance(cls, type) else type(cls)
    if len(args) == 1:
        args = (mapping_source(args[0]),)
    return cls.maketrans(*args)


def _dict_copy(self: Any) -> Any:
    """`d.copy()`: a dict that ever lost a key is copied entry by entry, probing as it goes."""
    mapping_source(self)
    return self.copy()


HASH_METHODS = frozenset({"add", "discard", "get", "setdefault", "pop", "move_to_end"})
"""Methods whose arguments are hashed natively (of sets, dicts and the `collections` mappings).
Where the program calls one as `x.name(...)`, the policy checks the arguments inline and calls the
method natively; read as a value, it is `_hash_method`'s checked version."""

_SET_METHODS = ("update", "union", "intersection", "intersection_update", "difference", "difference_update",
                "symmetric_difference", "symmetric_difference_update", "issubset", "issuperset", "isdisjoint", "copy")
_IN_PLACE = frozenset({"update", "intersection_update", "difference_update", "symmetric_difference_update"})
_LOOKUPS = frozenset({"isdisjoint", "issuperset", "issubset", "intersection"})
"""Methods that only look the arguments' keys up in the set (or keep a subset of the smaller side)."""

OVERRIDES: dict[str, tuple[tuple[type | tuple[type, ...], Callable[..., Any]], ...]] = {
    name: (((str, bytes, bytearray), _width_method(name)),) for name in ("ljust", "rjust", "center", "zfill")
}
OVERRIDES.update(
    {
        "expandtabs": (((str, bytes, bytearray), _expandtabs),),
        "replace": (((str, bytes, bytearray), _replace),),
        "join": (((str, bytes, bytearray), _join),),
        "translate": (((str, bytes, bytearray), _translate),),
        "format": ((str, _str_format),),
        "to_bytes": ((int, _to_bytes),),
        "from_bytes": ((int, _from_bytes),),
        "strftime": (((datetime.date, datetime.time), _strftime),),
        "sub": ((re.Pattern, pattern_sub),),
        "subn": ((re.Pattern, pattern_subn),),
        "expand": ((re.Match, _match_expand),),
    }
)

for _name in _SET_METHODS:
    OVERRIDES[_name] = (((set, frozenset), _set_method(_name)),)
OVERRIDES["update"] += ((dict, _dict_update),)
OVERRIDES["sort"] = ((list, sort_method),)
for _name in ("index", "count", "remove"):
    OVERRIDES[_name] = (((list, tuple, collections.deque), sequence_method(_name)),)

for _name in HASH_METHODS:
    OVERRIDES[_name] = (((set, dict, collections.ChainMap), _hash_method(_name)),)
OVERRIDES["remove"] += ((set, _hash_method("remove")),)
OVERRIDES["copy"] += ((dict, _dict_copy),)
OVERRIDES["fromkeys"] = (((dict, collections.ChainMap), _fromkeys),)
OVERRIDES["isdisjoint"] += (((type({}.keys()), type({}.items())), _set_method("isdisjoint")),)
OVERRIDES["maketrans"] = (((str, bytes, bytearray), _maketrans),)

def super_method(proxy: super, name: str) -> Any:
    """`super().add`, `super().update`, `super().union`...: the method `super()` resolves to (the
    base class's; the checked versions above look the name up on the object, which would find the
    program's own override and recurse), with its arguments checked as those versions check them.
    None for names this does not cover."""
    instance: Any = getattr(proxy, "__self__", None)
    is_set = isinstance(instance, (set, frozenset))
    if name in HASH_METHODS or name == "remove" and is_set:
        return functools.partial(_checked_call, getattr(proxy, name), hash_key)
    if name == "update" and isinstance(instance, dict):
        return functools.partial(_checked_update, getattr(proxy, name), instance)
    if name in _SET_METHODS and is_set:
        return functools.partial(_checked_set_call, getattr(proxy, name), name, instance)
    return None


def _checked_call(method: Callable[..., Any], check: Callable[[Any], Any], *args: Any, **kwargs: Any) -> Any:
    for value in kwargs.values():
        check(value)
    return method(*map(check, args), **kwargs)


def _checked_update(method: Callable[..., Any], instance: Any, *args: Any, **kwargs: Any) -> Any:
    checked = [hashed_pairs(arg) for arg in args]
    for source in checked:
        check_probes(instance, pair_keys(source))
    return method(*checked, **kwargs)


def _checked_set_call(method: Callable[..., Any], name: str, instance: Any, *args: Any) -> Any:
    checked, keys = hashed_all(args)
    _check_target(name, instance, keys)
    return method(*checked)


CLASS_METHODS = frozenset({"from_bytes", "fromkeys", "maketrans"})
"""Overrides of class methods: bound to the class (or the instance's class) when read."""

OVERRIDE_NAMES = frozenset(OVERRIDES)
"""Attribute names whose value is replaced by a checked version for some types."""
