"""Run-time guards the compiled program calls: attribute access, writes, allocation-heavy operators.

The policy rewrites `a.b` into `_getattr_(a, "b")`, stores into `_write_(obj)...`, and the
operators that can allocate without bound into `_mul_`, `_pow_`, `_lshift_`, `_mod_` and
`_format_`. This module implements them. Limits come from the current run (`context.current()`).

Attribute access denies `_` names (also after NFKC normalisation, which the parser applies to
identifiers but not to strings given to `getattr`), frame/inspect attributes, event-loop and task
internals, and swaps the methods that amplify memory (`str.ljust`, `str.join`, `int.to_bytes`,
`re.Pattern.sub`...) for checked versions.
"""

from __future__ import annotations

import _string  # type: ignore[import-not-found]
import collections
import datetime
import functools
import re
import types
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from typing import Any, SupportsIndex

from RestrictedPython.transformer import ALLOWED_FUNC_NAMES, INSPECT_ATTRIBUTES

from .context import current

__all__ = [
    "SafeRange",
    "checked_iter",
    "guarded_format",
    "guarded_getattr",
    "guarded_lshift",
    "guarded_mod",
    "guarded_mul",
    "guarded_pow",
    "guarded_write",
    "make_class",
    "max_sequence",
    "require_size",
    "safe_range",
]

_BLOCKED_NAMES = frozenset(INSPECT_ATTRIBUTES) | {
    # asyncio tasks and futures: frames, the coroutine, the (host-thread-capable) loop.
    "get_stack",
    "print_stack",
    "get_coro",
    "get_loop",
    "format_map",
    # frames and code reachable through other objects
}

BLOCKED_NAMES = _BLOCKED_NAMES
"""Attribute names the program may never read (frames, code, loops, task internals)."""

_DENIED_VALUE_TYPES: set[type] = {
    types.ModuleType,
    types.FrameType,
    types.CodeType,
    types.TracebackType,
}


def deny_value_type(cls: type) -> None:
    """Never hand out instances of `cls` through attribute access (event loops, for instance)."""
    _DENIED_VALUE_TYPES.add(cls)


def max_sequence() -> int:
    return current().limits.max_sequence_length


def require_size(size: int, what: str) -> None:
    """Raise `MemoryError` if building `size` elements/characters would exceed the limit."""
    limit = current().limits.max_sequence_length
    if size > limit:
        raise MemoryError(f"{what} would have {size} elements, over the limit of {limit}")


def _max_int_bits() -> int:
    # An integer may have max_sequence_length / 32 bits (312,500 by default, about 94,000
    # decimal digits): big-int arithmetic runs in C, holding the GIL, where it cannot be
    # stopped, and division is quadratic; this keeps any one operation well under a second.
    return max(current().limits.max_sequence_length // 32, 4096)


# -- attribute access --------------------------------------------------------------------------


def _check_name(name: object) -> str:
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_") or name in _BLOCKED_NAMES:
        raise AttributeError(f'"{name}" is a restricted attribute name')
    if not name.isascii():
        normal = unicodedata.normalize("NFKC", name)
        if normal.startswith("_") or normal in _BLOCKED_NAMES:
            raise AttributeError(f'"{name}" is a restricted attribute name')
    return name


_NO_DEFAULT: Any = object()

_PLAIN_NAMES: set[str] = set()
"""Names already checked and known to have no override: the fast path is one set lookup."""


def guarded_getattr(obj: Any, name: str, default: Any = _NO_DEFAULT) -> Any:
    """`obj.name` for the program: `_getattr_`, also the sandbox's `getattr`."""
    if name not in _PLAIN_NAMES:
        _check_name(name)
        overrides = _OVERRIDES.get(name)
        if overrides is not None:
            # `super().ljust` must not reach the unchecked method either.
            target = getattr(obj, "__self__", None) if type(obj) is super else obj
            for cls, unbound in overrides:
                if isinstance(target, cls):
                    return functools.partial(unbound, target)
                if isinstance(target, type) and issubclass(target, cls):
                    return unbound
        elif len(_PLAIN_NAMES) < 50_000:
            _PLAIN_NAMES.add(name)
    if default is _NO_DEFAULT:
        value = getattr(obj, name)
    else:
        value = getattr(obj, name, default)
    if type(value) in _DENIED_VALUE_TYPES:
        raise AttributeError(f'"{name}" leads to an object the sandbox does not expose')
    return value


def super_attr(proxy: Any, name: str) -> Any:
    """`super().__init__` and the other dunders a class may define, read from a real `super`."""
    if type(proxy) is not super or name not in ALLOWED_FUNC_NAMES:
        raise AttributeError(f'"{name}" may only be read from super()')
    return getattr(proxy, name)


def guarded_hasattr(obj: Any, name: str) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def guarded_dir(obj: Any) -> list[str]:
    """`dir(obj)` without private names (one argument only)."""
    return [n for n in dir(obj) if not n.startswith("_") and n not in _BLOCKED_NAMES]


# -- writes and classes ------------------------------------------------------------------------

_WRITABLE = {dict, list, set, bytearray, collections.deque, collections.Counter, collections.OrderedDict,
             collections.defaultdict}
_CLASS_MARK = "__agent_class__"


def guarded_write(ob: Any) -> Any:
    """`_write_`: programs may write only to containers and to objects of their own classes."""
    t = type(ob)
    if t in _WRITABLE or getattr(t, _CLASS_MARK, False):
        return ob
    if isinstance(ob, type) and getattr(ob, _CLASS_MARK, False):
        return ob
    if isinstance(ob, (dict, list, set, bytearray, collections.deque)):
        return ob
    raise TypeError(f"cannot modify an object of type {t.__name__!r} (only your own objects and containers)")


def guarded_setattr(obj: Any, name: str, value: Any) -> None:
    setattr(guarded_write(obj), _check_name(name), value)


def guarded_delattr(obj: Any, name: str) -> None:
    delattr(guarded_write(obj), _check_name(name))


_CLASS_DUNDERS = frozenset(
    {"__module__", "__qualname__", "__doc__", "__classcell__", "__static_attributes__", "__firstlineno__"}
) | ALLOWED_FUNC_NAMES


def make_class(name: str, bases: tuple[Any, ...], namespace: dict[str, Any], **kwargs: Any) -> type:
    """The `__metaclass__` of every `class` statement in the program.

    No metaclasses (bases that are themselves `type` subclasses), no keywords (so no
    `__init_subclass__` arguments), no private names in the body. The class is marked as the
    program's own, which is what lets the program write to it and to its instances.
    """
    if kwargs:
        raise TypeError("class keywords are not allowed")
    for base in bases:
        if not isinstance(base, type) or issubclass(base, type):
            raise TypeError("classes may only derive from ordinary classes")
    for key in namespace:
        if key.startswith("_") and key not in _CLASS_DUNDERS:
            raise TypeError(f"class attribute {key!r} is not allowed")
    namespace[_CLASS_MARK] = True
    return type(name, bases, namespace)


_OPEN_MODULES = frozenset({
    "builtins", "datetime", "decimal", "fractions", "collections", "re", "uuid", "itertools", "json",
    "json.decoder", "_hashlib", "hashlib", "_sha256", "_sha512", "_md5", "_sha1", "_sha3", "_blake2",
    "statistics", "asyncio.locks", "asyncio.queues", "asyncio.exceptions", "enum", "agent",
})


class OpaqueType:
    """What `type()` returns for a class the program was not given (an engine or tool class):
    it prints and compares like the class, but cannot be called or looked into."""

    __slots__ = ("_cls",)

    def __init__(self, cls: type) -> None:
        self._cls = cls

    def __repr__(self) -> str:
        return repr(self._cls)

    def __eq__(self, other: object) -> bool:
        return other is self._cls or (isinstance(other, OpaqueType) and other._cls is self._cls)

    def __hash__(self) -> int:
        return hash(self._cls)


def safe_type(obj: Any) -> Any:
    """One-argument `type()`. The type of a class is this function, so the real `type` (and its
    three-argument form) is never reachable; classes the program was not handed (engine and tool
    classes) come back opaque, so their constructors cannot be called with chosen arguments."""
    t = type(obj)
    if issubclass(t, type):
        return safe_type
    if getattr(t, "__module__", None) in _OPEN_MODULES or getattr(t, _CLASS_MARK, False):
        return t
    return OpaqueType(t)


# -- operators ---------------------------------------------------------------------------------

_SEQUENCES = (str, bytes, bytearray, list, tuple, collections.deque)


_SMALL = 1 << 2048


def guarded_mul(a: Any, b: Any) -> Any:
    """`a * b`: bounded sequence repetition and integer size."""
    ta = type(a)
    tb = type(b)
    if ta is float or tb is float:
        return a * b
    if ta is int and tb is int:
        if not (-_SMALL < a < _SMALL and -_SMALL < b < _SMALL):
            bits = a.bit_length() + b.bit_length()
            if bits > _max_int_bits():
                raise MemoryError(f"integer product of {bits} bits is over the limit of {_max_int_bits()}")
        return a * b
    if isinstance(a, int) and isinstance(b, _SEQUENCES):
        if a > 0:
            require_size(len(b) * a, "sequence repetition")
    elif isinstance(b, int) and isinstance(a, _SEQUENCES):
        if b > 0:
            require_size(len(a) * b, "sequence repetition")
    return a * b


def guarded_pow(a: Any, b: Any, mod: Any = None) -> Any:
    """`a ** b` and `pow()`: bounded integer and fraction size."""
    if mod is not None:
        if isinstance(b, int) and isinstance(mod, int) and b.bit_length() * max(mod.bit_length(), 64) > 1 << 26:
            raise MemoryError("modular exponentiation this large is over the size limit")
        return pow(a, b, mod)
    if isinstance(b, int) and b > 1:
        if isinstance(a, int) and a not in (0, 1, -1):
            bits = a.bit_length() * b
            if bits > _max_int_bits():
                raise MemoryError(f"{a.bit_length()}-bit integer to the power {b} is over the size limit")
        elif isinstance(a, Fraction):
            bits = max(a.numerator.bit_length(), a.denominator.bit_length()) * b
            if bits > _max_int_bits():
                raise MemoryError(f"fraction to the power {b} is over the size limit")
    return a**b


def guarded_lshift(a: Any, b: Any) -> Any:
    """`a << b`: bounded integer size."""
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        if a.bit_length() + b > _max_int_bits():
            raise MemoryError(f"shift by {b} bits is over the size limit")
    return a << b


_DIGITS = re.compile(r"\d+")


def _check_spec(spec: str, what: str = "format width or precision") -> None:
    limit = max_sequence()
    for match in _DIGITS.finditer(spec):
        digits = match.group()
        if len(digits) > 9 or int(digits) > limit:
            raise MemoryError(f"{what} {digits} is over the limit of {limit}")


def guarded_format(value: Any, conversion: str = "", spec: str = "") -> str:
    """f-string fields with a format spec, and the sandbox's `format()`."""
    if conversion == "r":
        value = repr(value)
    elif conversion == "s":
        value = str(value)
    elif conversion == "a":
        value = ascii(value)
    if type(spec) is not str:
        raise TypeError("format spec must be a string")
    if spec:
        _check_spec(spec)
    return format(value, spec)


def safe_format_builtin(value: Any, spec: str = "") -> str:
    return guarded_format(value, "", spec)


_PERCENT = re.compile(rb"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_PERCENT_S = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def guarded_mod(a: Any, b: Any) -> Any:
    """`a % b`: for `%`-formatting, bounded widths and precisions."""
    if type(a) is int or type(a) is float:
        return a % b
    if isinstance(a, (str, bytes, bytearray)):
        pattern: Any = _PERCENT_S if isinstance(a, str) else _PERCENT
        limit = max_sequence()
        star = False
        for match in pattern.finditer(a):
            for group in match.groups():
                if not group:
                    continue
                if group in ("*", b"*"):
                    star = True
                elif len(group) > 9 or int(group) > limit:
                    raise MemoryError(f"%-format width or precision over the limit of {limit}")
        if star:
            args = b if isinstance(b, tuple) else (b,)
            for arg in args:
                if isinstance(arg, int) and abs(arg) > limit:
                    raise MemoryError(f"%-format width or precision over the limit of {limit}")
    return a % b


# -- amplifying methods ------------------------------------------------------------------------


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
    return _base(self).translate(self, table, *args)


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
            _check_spec(spec)


def _str_format(self: str, *args: Any, **kwargs: Any) -> str:
    """`str.format` without attribute walks (`"{0.__class__}"`) and without huge widths."""
    if not isinstance(self, str):
        raise TypeError("format() needs a str")
    _check_format_string(self)
    return str.format(self, *args, **kwargs)


def _to_bytes(self: int, length: SupportsIndex = 1, *args: Any, **kwargs: Any) -> bytes:
    require_size(int(length), "to_bytes() result")
    return int.to_bytes(self, length, *args, **kwargs)


def _strftime(self: Any, fmt: str) -> str:
    if not isinstance(fmt, str):
        raise TypeError("strftime() format must be a string")
    _check_spec(fmt, "strftime width")
    return type(self).strftime(self, fmt)  # type: ignore[no-any-return]


def _pattern_sub(self: re.Pattern[Any], repl: Any, string: Any, count: int = 0) -> Any:
    _check_sub(self, repl, string, count)
    return self.sub(repl, string, count)


def _pattern_subn(self: re.Pattern[Any], repl: Any, string: Any, count: int = 0) -> Any:
    _check_sub(self, repl, string, count)
    return self.subn(repl, string, count)


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


_OVERRIDES: dict[str, tuple[tuple[type | tuple[type, ...], Callable[..., Any]], ...]] = {
    name: (((str, bytes, bytearray), _width_method(name)),) for name in ("ljust", "rjust", "center", "zfill")
}
_OVERRIDES.update(
    {
        "expandtabs": (((str, bytes, bytearray), _expandtabs),),
        "replace": (((str, bytes, bytearray), _replace),),
        "join": (((str, bytes, bytearray), _join),),
        "translate": (((str, bytes, bytearray), _translate),),
        "format": ((str, _str_format),),
        "to_bytes": ((int, _to_bytes),),
        "strftime": (((datetime.date, datetime.time), _strftime),),
        "sub": ((re.Pattern, _pattern_sub),),
        "subn": ((re.Pattern, _pattern_subn),),
        "expand": ((re.Match, _match_expand),),
    }
)

OVERRIDE_NAMES = frozenset(_OVERRIDES)
"""Attribute names whose value is replaced by a checked version for some types."""


# -- ranges and unbounded iterators -----------------------------------------------------------


def checked_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    """Iterate `iterable` in Python, checking the stop flag per item, so a C consumer
    (`sum`, `list`, `sorted`...) of a long or endless source can still be stopped."""
    run = current()
    for item in iterable:
        if run.stopped:
            current()  # raises if called on the wrong thread
            from .context import raise_stop

            raise_stop(run.stop_reason or "stopped")
        yield item


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
